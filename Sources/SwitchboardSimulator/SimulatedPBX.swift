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
    /// The ITooLabs `crm_token`, or the HMAC key of the native protocol.
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
        switch step {
        case .itoolabs(var fields):
            fields["crm_token"] = secret
            return try await post("/pbx/itoolabs/\(connectionId)", body: Array(FormURLEncoding.encode(fields).utf8),
                                  headers: ["Content-Type": "application/x-www-form-urlencoded"])
        case .native(let event):
            return try await postSigned("/pbx/events/\(connectionId)", body: Array(try JSON.encoder.encode(event)))
        }
    }

    /// ITooLabs `cmd=contact`: who is this caller's manager.
    public func askContact(phone: String, callId: String = UUID().uuidString) async throws -> Reply {
        try await post("/pbx/itoolabs/\(connectionId)",
                       body: Array(FormURLEncoding.encode(["cmd": "contact", "phone": phone, "callid": callId, "crm_token": secret]).utf8),
                       headers: ["Content-Type": "application/x-www-form-urlencoded"])
    }

    /// The native protocol's routing request.
    public func askRoute(phone: String, deadlineMs: Int? = nil) async throws -> Reply {
        let request = NativeProtocol.RoutingRequest(call_id: UUID().uuidString, client_number: phone, line_number: nil,
                                                    deadline_ms: deadlineMs)
        return try await postSigned("/pbx/route/\(connectionId)", body: Array(try JSON.encoder.encode(request)))
    }

    public func postSigned(_ path: String, body: [UInt8]) async throws -> Reply {
        let ts = Int(Date().timeIntervalSince1970)
        return try await post(path, body: body, headers: [
            "Content-Type": "application/json",
            NativeProtocol.timestampHeader: String(ts),
            NativeProtocol.signatureHeader: NativeProtocol.sign(body: body, secret: secret, timestamp: ts),
        ])
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

/// Stands in for a PBX's API — ITooLabs' (legacy `/sys/crm_api.wcgp` and `/crmapi/v1`) and Switchboard's own signed
/// `/commands` — takes Switchboard's commands, records them, and, told where Switchboard is, plays the calls they start
/// and end.
public final class SimulatedPBXServer: @unchecked Sendable {
    public struct Command: Sendable, Equatable {
        public var cmd: String
        public var fields: [String: String]
    }

    public let key: String
    public var accounts: [PBXAccount]
    private let lock = NSLock()
    private var _commands: [Command] = []
    private var dnd: [String: Bool] = [:]
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
        router.post("sys/crm_api.wcgp") { req, _ in
            var buffer = try await req.body.collect(upTo: 1 << 20)
            let fields = FormURLEncoding.decode(buffer.readString(length: buffer.readableBytes) ?? "")
            guard fields["token"] == self.key else { return Self.json(["error": "Invalid token"], status: .unauthorized) }
            guard let cmd = fields["cmd"] else { return Self.json(["error": "Invalid parameters"], status: .badRequest) }
            self.record(cmd, fields)
            return try await self.legacy(cmd, fields)
        }
        router.post("crmapi/v1/makecall") { req, _ in
            guard req.headers[.init("X-API-KEY")!] == self.key else { return Self.json(["error": "Invalid token"], status: .unauthorized) }
            var buffer = try await req.body.collect(upTo: 1 << 20)
            let fields = (try? JSONSerialization.jsonObject(with: Data(buffer.readBytes(length: buffer.readableBytes) ?? [])))
                as? [String: String] ?? [:]
            self.record("makecall", fields)
            guard let phone = fields["phone"], let user = fields["user"] else {
                return Self.json(["error": "Invalid parameters"], status: .badRequest)
            }
            return Self.json(["callid": self.startOutgoing(user: user, phone: phone)], status: .ok)
        }
        // Switchboard's own protocol: signed JSON commands (NativeCommands).
        router.post("commands") { req, _ in
            var buffer = try await req.body.collect(upTo: 1 << 20)
            let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
            do {
                try NativeProtocol.verify(body: bytes, secret: self.key, timestamp: req.headers[.init(NativeProtocol.timestampHeader)!],
                                          signature: req.headers[.init(NativeProtocol.signatureHeader)!])
            } catch {
                return Self.nativeError("\(error)", status: .unauthorized)
            }
            guard let body = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any],
                  let command = body["command"] as? String else {
                return Self.nativeError("not a command", status: .badRequest)
            }
            self.record(command, body.compactMapValues { v in (v as? String) ?? (v as? Bool).map { $0 ? "true" : "false" } })
            return await self.native(command, body)
        }
        router.get("crmapi/v1/users") { req, _ in
            guard req.headers[.init("X-API-KEY")!] == self.key else { return Self.json(["error": "Invalid token"], status: .unauthorized) }
            self.record("users", [:])
            let items = self.accounts.map { ["login": $0.login, "ext": $0.extension ?? "", "name": $0.name ?? ""] }
            let data = try JSONSerialization.data(withJSONObject: ["items": items])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        return router
    }

    func legacy(_ cmd: String, _ f: [String: String]) async throws -> Response {
        switch cmd {
        case "makeCall":
            guard let phone = f["phone"], let user = f["user"] else { return Self.json(["error": "Invalid parameters"], status: .badRequest) }
            if phone.hasPrefix("+") { return Self.json(["error": "Invalid phone"], status: .badRequest) }
            return Self.json(["uuid": startOutgoing(user: user, phone: phone)], status: .ok)
        case "accounts":
            let list = accounts.map { ["name": $0.login, "realName": $0.name ?? "", "ext": $0.extension ?? "", "email": $0.email ?? ""] }
            let data = try JSONSerialization.data(withJSONObject: list)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        case "set_dnd":
            guard let user = f["user"], let state = f["state"] else { return Self.json(["error": "Invalid parameters"], status: .badRequest) }
            lock.withLock { dnd[user] = state == "true" }
            return Self.json(["result": "ok"], status: .ok)
        case "get_dnd":
            let on = lock.withLock { dnd[f["user"] ?? ""] ?? false }
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"state\": \(on)}")))
        case "subscribeOnCalls":
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "OK")))
        case "history":
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "")))
        default:
            return Self.json(["error": "Invalid parameters"], status: .badRequest)
        }
    }

    /// A command in Switchboard's own protocol. `originate` starts an outgoing call that stays connected until `hangup`
    /// ends it (both played back to Switchboard as signed events).
    func native(_ command: String, _ body: [String: Any]) async -> Response {
        switch command {
        case "originate":
            guard let employee = body["employee"] as? String, let phone = body["phone"] as? String else {
                return Self.nativeError("employee and phone are required", status: .badRequest)
            }
            let id = "nat-out-" + UUID().uuidString.prefix(8).lowercased()
            lock.withLock { live[id] = (employee, phone) }
            if let player {
                try? await player.play([Self.nativeStep(id, 1, .legRinging, employee, phone), Self.nativeStep(id, 2, .legAnswered, employee, phone)])
            }
            return Self.json(["call_id": id], status: .ok)
        case "hangup":
            // Any call the PBX has not ended yet: one it started (originate) or one that came to it.
            guard let id = body["call_id"] as? String,
                  let call = lock.withLock({ () -> (employee: String?, phone: String)? in
                      if ended.contains(id) { return nil }
                      ended.insert(id)
                      return live.removeValue(forKey: id).map { ($0.employee, $0.phone) } ?? (nil, "")
                  }) else {
                return Self.nativeError("no such call", status: .conflict)
            }
            if let player {
                var steps: [SimStep] = []
                if let employee = call.employee { steps.append(Self.nativeStep(id, 3, .legEnded, employee, call.phone)) }
                steps.append(Self.nativeStep(id, 90, .callEnded, nil, call.phone))
                try? await player.play(steps)
            }
            return Self.json(["ok": "true"], status: .ok)
        case "set_dnd":
            guard let employee = body["employee"] as? String, let on = body["on"] as? Bool else {
                return Self.nativeError("employee and on are required", status: .badRequest)
            }
            lock.withLock { dnd[employee] = on }
            return Self.json(["ok": "true"], status: .ok)
        case "get_dnd":
            let on = lock.withLock { dnd[body["employee"] as? String ?? ""] ?? false }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{\"dnd\": \(on)}")))
        default:
            return Self.nativeError("unknown command \(command)", status: .notFound)
        }
    }

    static func nativeStep(_ id: String, _ n: Int, _ type: CallEventKind, _ employee: String?, _ phone: String) -> SimStep {
        .native(NativeProtocol.Event(event_id: "\(id)-\(n)", type: type, call_id: id, occurred_at: Date(), sequence: n,
                                     direction: phone.isEmpty ? nil : .outbound, client_number: phone.isEmpty ? nil : phone,
                                     employee: employee.map { .init(login: $0, extension: nil) }))
    }

    static func nativeError(_ message: String, status: HTTPResponse.Status) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: ["error": ["message": message]])) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The calls `originate` started and `hangup` has not ended: PBX call id → (employee, client number).
    private var live: [String: (employee: String, phone: String)] = [:]
    /// The calls `hangup` ended.
    private var ended: Set<String> = []

    /// A `makeCall`: the PBX rings the employee, then the client; played back to Switchboard as an outgoing call.
    func startOutgoing(user: String, phone: String) -> String {
        let scenario = ITooLabsScenarios.outgoing(client: phone, employee: user, talk: 15)
        if let player {
            Task { try? await player.play(scenario) }
        }
        return scenario.callId
    }

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
