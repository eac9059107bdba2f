import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

@Suite("Operations: /metrics behind a token, the master key kept apart from the data and rotated")
struct OperationsSecurityTests {
    func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-key-\(UUID().uuidString)-\(name)").path
    }

    @Test("with metricsToken set, /metrics answers 401 without the token or with another, 200 with it")
    func metricsToken() async throws {
        try await withSwitchboard(.sqlite, configure: { $0.metricsToken = "scrape-secret" }) { sb in
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/metrics", method: .get) {
                    #expect($0.status == .unauthorized)
                    #expect($0.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    #expect(!$0.body.text.contains("switchboard_"))
                }
                try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer scrape-secre"]) {
                    #expect($0.status == .unauthorized)
                }
                try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer scrape-secret"]) {
                    #expect($0.status == .ok)
                    #expect($0.body.text.contains("switchboard_jobs"))
                }
                // Health checks stay open.
                try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            }
        }
        try await withSwitchboard(.sqlite) { sb in
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/metrics", method: .get) { #expect($0.status == .ok) }
            }
        }
    }

    @Test("the benchmark's floor routes exist only with benchFloor and devMode on, and answer after their row is stored",
          arguments: Backend.available)
    func benchFloor(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await sb.buildApplication(workers: false).test(.router) { client in
                for kind in ["none", "append", "keyed"] {
                    try await client.execute(uri: "/bench/floor/\(kind)", method: .post, body: ByteBuffer(string: "{}")) {
                        #expect($0.status == .notFound)
                    }
                }
            }
        }
        // Set, but on an instance that is not in development mode: still not served.
        try await withSwitchboard(backend, configure: { $0.benchFloor = true; $0.devMode = false }) { sb in
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/bench/floor/keyed", method: .post, body: ByteBuffer(string: "{}")) {
                    #expect($0.status == .notFound)
                }
            }
        }
        #expect(try AppConfig.load(file: nil, environment: ["SWITCHBOARD_BENCH_FLOOR": "true"]).benchFloor)
        try await withSwitchboard(backend, configure: { $0.benchFloor = true }) { sb in
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/bench/floor/none", method: .post, body: ByteBuffer(string: "twelve bytes")) {
                    #expect($0.status == .ok)
                    #expect($0.body.text.contains(#""bytes":"12""#))
                }
                for kind in ["append", "keyed"] {
                    for n in 0..<3 {
                        try await client.execute(uri: "/bench/floor/\(kind)", method: .post,
                                                 body: ByteBuffer(string: #"{"n":\#(n),"quote":"it's"}"#)) {
                            #expect($0.status == .ok)
                        }
                    }
                    let rows = try await sb.db.read { try await $0.query("SELECT k, body FROM bench_floor_\(kind) ORDER BY body", []) }
                    #expect(rows.compactMap { $0.string("body") } == (0..<3).map { #"{"n":\#($0),"quote":"it's"}"# })
                    #expect(Set(rows.compactMap { $0.string("k") }).count == 3)
                }
            }
        }
    }

    @Test("metricsToken, masterKeyFile and trustedProxies come from the environment and the file")
    func settings() throws {
        let env = ["SWITCHBOARD_METRICS_TOKEN": "t", "SWITCHBOARD_MASTER_KEY_FILE": "/etc/switchboard/master.key",
                   "SWITCHBOARD_TRUSTED_PROXIES": "10.0.0.1, 10.1.0.0/16"]
        let config = try AppConfig.load(file: nil, environment: env)
        #expect(config.metricsToken == "t")
        #expect(config.masterKeyFile == "/etc/switchboard/master.key")
        #expect(config.trustedProxies == ["10.0.0.1", "10.1.0.0/16"])
        let decoded = try JSONDecoder().decode(AppConfig.self, from: Data(#"{"trustedProxies": ["::1"], "metricsToken": "m"}"#.utf8))
        #expect(decoded.trustedProxies == ["::1"] && decoded.metricsToken == "m" && decoded.masterKeyFile == nil)
    }

    @Test("a trustedProxies entry that is not an address stops the start")
    func badProxies() async throws {
        await #expect(throws: TrustedProxies.Problem.self) {
            try await withSwitchboard(.sqlite, configure: { $0.trustedProxies = ["proxy.internal"] }) { _ in }
        }
    }

    @Test("the key from SWITCHBOARD_MASTER_KEY or masterKeyFile: nothing written to the data directory, no warning; else a warning")
    func keyPlacement() throws {
        var config = AppConfig()
        config.dataDir = temporaryPath("data")
        defer { try? FileManager.default.removeItem(atPath: config.dataDir) }
        let defaultFile = URL(fileURLWithPath: config.dataDir).appendingPathComponent("master.key").path

        let fromEnvironment = try MasterKey.load(config, environment: [MasterKey.environmentVariable: String(repeating: "ab", count: 32)])
        #expect(fromEnvironment.warning == nil)
        #expect(!FileManager.default.fileExists(atPath: defaultFile))

        let keyFile = temporaryPath("master.key")
        defer { try? FileManager.default.removeItem(atPath: keyFile) }
        config.masterKeyFile = keyFile
        #expect(throws: VaultError.self) { try MasterKey.load(config, environment: [:]) }  // it must exist
        try Switchboard.writeNewMasterKey(file: keyFile)
        #expect(throws: VaultError.self) { try Switchboard.writeNewMasterKey(file: keyFile) }  // never replaced
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let fromFile = try MasterKey.load(config, environment: [:])
        #expect(fromFile.warning == nil)
        #expect(!FileManager.default.fileExists(atPath: defaultFile))
        let sealed = try fromFile.vault.seal(Array("secret".utf8), context: "c")
        #expect(try CredentialVault.read(file: URL(fileURLWithPath: keyFile)).open(sealed, context: "c") == Array("secret".utf8))

        config.masterKeyFile = nil
        let beside = try MasterKey.load(config, environment: [:])
        #expect(FileManager.default.fileExists(atPath: defaultFile))
        #expect(beside.warning?.contains("data directory") == true)
        #expect(beside.warning?.contains(defaultFile) == true)

        // A configured file inside the data directory (however spelt) is warned about too.
        config.masterKeyFile = config.dataDir + "/./master.key"
        #expect(try MasterKey.load(config, environment: [:]).warning != nil)
    }

    @Test("rotation re-encrypts every stored secret under the new key, in storage", arguments: Backend.available)
    func rotation(_ backend: Backend) async throws {
        let oldKey = temporaryPath("old.key"), newKey = temporaryPath("new.key")
        defer {
            try? FileManager.default.removeItem(atPath: oldKey)
            try? FileManager.default.removeItem(atPath: newKey)
        }
        try Switchboard.writeNewMasterKey(file: oldKey)
        try Switchboard.writeNewMasterKey(file: newKey)
        let storage = try await TestStorage.make(backend)
        var config = storage.config
        config.masterKeyFile = oldKey
        let secret = CRMSecret(accessToken: "amo-access", refreshToken: "amo-refresh")
        let before = try await Switchboard.open(config: config, logger: testLogger())
        let tenant = try await before.tenants.create(name: "Acme")
        let credential = try await before.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "amo", baseURL: "https://acme.amocrm.ru",
                                                             authKind: .oauth, secret: secret)
        let (connection, inbound) = try await before.pbx.create(tenantId: tenant.id, name: "PBX", protocol: .itoolabs,
                                                               apiURL: "https://pbx.example.com", apiKey: "pbx-key")
        #expect(try await before.rotateMasterKey(newKeyFile: newKey) == 3)
        await before.shutdown()

        config.masterKeyFile = newKey
        let after = try await Switchboard.open(config: config, logger: testLogger())
        #expect(try await after.credentials.secret(tenantId: tenant.id, id: credential.id) == secret)
        #expect(try await after.pbx.inboundSecret(connectionId: connection.id) == inbound)
        #expect(try await after.pbx.apiKey(connectionId: connection.id) == "pbx-key")
        await after.shutdown()

        config.masterKeyFile = oldKey
        let stale = try await Switchboard.open(config: config, logger: testLogger())
        await #expect(throws: (any Error).self) { _ = try await stale.credentials.secret(tenantId: tenant.id, id: credential.id) }
        // Rotating again from the wrong key changes nothing.
        await #expect(throws: (any Error).self) { _ = try await stale.rotateMasterKey(newKeyFile: oldKey) }
        await stale.shutdown()
        await storage.cleanUp()
    }
}
