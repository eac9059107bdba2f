// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "switchboard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "switchboard", targets: ["switchboard"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: ["FullFoundation"]),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
    ],
    targets: [
        // The system SQLite (Debian's libsqlite3-dev), used through its C API.
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // The domain: pure Swift, no I/O.
        .target(name: "SwitchboardCore"),
        // Storage: one protocol per aggregate, SQLite and PostgreSQL behind them.
        .target(name: "SwitchboardStorage", dependencies: [
            "SwitchboardCore", "CSQLite",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The durable delivery queue's workers.
        .target(name: "SwitchboardDelivery", dependencies: [
            "SwitchboardCore", "SwitchboardStorage",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Prometheus", package: "swift-prometheus"),
        ]),
        // Requests to addresses tenants set: the outbound policy checked after DNS resolution, no redirects.
        .target(name: "SwitchboardOutbound", dependencies: [
            "SwitchboardCore",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // PBX protocols: adapters, routing, commands, simulator.
        .target(name: "SwitchboardPBX", dependencies: [
            "SwitchboardCore", "SwitchboardStorage", "SwitchboardOutbound",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The PBX simulator: plays call scenarios over the real protocols and stands in for the PBX's API.
        .target(name: "SwitchboardSimulator", dependencies: [
            "SwitchboardCore", "SwitchboardPBX", "SwitchboardStorage",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        // CRM connectors: each CRM's client, executor, personal-manager lookup and inbound webhooks.
        .target(name: "SwitchboardCRM", dependencies: [
            "SwitchboardCore", "SwitchboardStorage", "SwitchboardDelivery", "SwitchboardPBX", "SwitchboardOutbound",
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Faithful emulators of the CRMs' APIs, for tests, the demo, and tenants trying an integration.
        .target(name: "SwitchboardSandbox", dependencies: [
            "SwitchboardCore",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // Composition root: configuration, HTTP server, workers, services.
        .target(name: "SwitchboardApp", dependencies: [
            "SwitchboardCore", "SwitchboardStorage", "SwitchboardDelivery", "SwitchboardPBX", "SwitchboardSimulator",
            "SwitchboardSandbox", "SwitchboardCRM", "SwitchboardOutbound",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ], resources: [.copy("Resources")]),
        .executableTarget(name: "switchboard", dependencies: [
            "SwitchboardApp", "SwitchboardSimulator", "SwitchboardSandbox",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Histogram", package: "hdrhistogram-swift"),
        ]),
        .testTarget(name: "SwitchboardTests", dependencies: [
            "SwitchboardApp", "SwitchboardSimulator", "SwitchboardOutbound",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
        ]),
    ]
)
