import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardPBX

/// Switchboard's own protocol as the simulated PBX answers it: signed JSON commands (NativeCommands) at `/commands`.
extension SimulatedPBXServer {
    func registerNative(on router: Router<BasicRequestContext>) {
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
            // The PBX answers the command at once and reports the call it started as it goes, like a real one: the
            // answer does not wait for Switchboard to take the call's events.
            if let player {
                Task { try? await player.play([Self.nativeStep(id, 1, .legRinging, employee, phone), Self.nativeStep(id, 2, .legAnswered, employee, phone)]) }
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

}
