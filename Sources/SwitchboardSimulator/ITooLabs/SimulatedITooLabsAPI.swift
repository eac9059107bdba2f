import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardPBX

/// The ITooLabs API as the simulated PBX answers it: legacy `/sys/crm_api.wcgp` (form POST with `cmd` and `token`) and
/// `/crmapi/v1` (`X-API-KEY`).
extension SimulatedPBXServer {
    func registerITooLabs(on router: Router<BasicRequestContext>) {
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
        router.get("crmapi/v1/users") { req, _ in
            guard req.headers[.init("X-API-KEY")!] == self.key else { return Self.json(["error": "Invalid token"], status: .unauthorized) }
            self.record("users", [:])
            let items = self.accounts.map { ["login": $0.login, "ext": $0.extension ?? "", "name": $0.name ?? ""] }
            let data = try JSONSerialization.data(withJSONObject: ["items": items])
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
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

    /// A `makeCall`: the PBX rings the employee, then the client; played back to Switchboard as an outgoing call.
    func startOutgoing(user: String, phone: String) -> String {
        let scenario = ITooLabsScenarios.outgoing(client: phone, employee: user, talk: 15)
        if let player {
            Task { try? await player.play(scenario) }
        }
        return scenario.callId
    }

}
