import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// Plays scenarios against a running Switchboard over the real protocols, as a PBX would.
public struct ScenarioPlayer: Sendable {
    /// Switchboard's base address, e.g. `http://127.0.0.1:8080`.
    public let baseURL: String
    public let connectionId: String
    /// The connection's inbound secret, as its protocol uses it (a token in the request, an HMAC key).
    public let secret: String
    let http: HTTPClient

    public init(baseURL: String, connectionId: String, secret: String, http: HTTPClient = .shared) {
        self.baseURL = baseURL
        self.connectionId = connectionId
        self.secret = secret
        self.http = http
    }

    public struct Reply: Sendable {
        public var status: Int
        public var body: String
    }

    /// Sends the steps in order; each must be acknowledged with 2xx.
    public func play(_ steps: [SimStep]) async throws {
        for step in steps {
            let reply = try await send(step)
            guard (200..<300).contains(reply.status) else {
                throw SimulatorError("Switchboard answered \(reply.status): \(reply.body)")
            }
        }
    }

    public func play(_ scenario: SimScenario) async throws { try await play(scenario.steps) }

    public func send(_ step: SimStep) async throws -> Reply {
        let r = try step.request(connectionId, secret)
        return try await post(r.path, body: r.body, headers: r.headers)
    }

    public func get(_ path: String, headers: [String: String] = [:]) async throws -> Reply {
        try await request(.GET, path, body: nil, headers: headers)
    }

    public func post(_ path: String, body: [UInt8], headers: [String: String]) async throws -> Reply {
        try await request(.POST, path, body: body, headers: headers)
    }

    public func request(_ method: HTTPMethod, _ path: String, body: [UInt8]?, headers: [String: String]) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let response = try await http.execute(request, timeout: .seconds(30))
        var buffer = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: buffer.readString(length: buffer.readableBytes) ?? "")
    }
}


public struct SimulatorError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Stands in for a PBX's API — each protocol's, registered from its folder (`SimulatedAPIs`) — takes Switchboard's commands, records them, and, told where Switchboard is, plays the calls they start
/// and end.
public final class SimulatedPBXServer: @unchecked Sendable {
    public struct Command: Sendable, Equatable {
        public var cmd: String
        public var fields: [String: String]
    }

    public let key: String
    public var accounts: [PBXAccount]
    let lock = NSLock()
    private var _commands: [Command] = []
    var dnd: [String: Bool] = [:]
    /// Where to play the calls that `makeCall` starts.
    public var player: ScenarioPlayer? {
        get { lock.withLock { _player } }
        set { lock.withLock { _player = newValue } }
    }
    private var _player: ScenarioPlayer?

    public init(key: String, accounts: [PBXAccount]) {
        self.key = key
        self.accounts = accounts
    }

    public var commands: [Command] { lock.withLock { _commands } }

    func record(_ cmd: String, _ fields: [String: String]) {
        var f = fields
        f["token"] = nil
        lock.withLock { _commands.append(Command(cmd: cmd, fields: f)) }
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        for api in SimulatedAPIs.all { api(self, router) }
        return router
    }

    /// The calls `originate` started and `hangup` has not ended: PBX call id → (employee, client number).
    var live: [String: (employee: String, phone: String)] = [:]
    /// The calls `hangup` ended.
    var ended: Set<String> = []

    public func isDND(_ login: String) -> Bool { lock.withLock { dnd[login] ?? false } }

    static func json(_ value: [String: String], status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: value)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Runs the simulated PBX's API on `host:port` (0 picks a free port; `onRunning` learns it).
    public func application(host: String = "127.0.0.1", port: Int = 0, logger: Logger,
                            onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        Application(router: router(), configuration: .init(address: .hostname(host, port: port), serverName: "SimulatedPBX"),
                    onServerRunning: { await onRunning($0.localAddress?.port ?? 0) }, logger: logger)
    }
}
