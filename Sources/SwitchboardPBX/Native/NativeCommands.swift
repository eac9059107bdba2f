import AsyncHTTPClient
import Foundation
import NIOCore
import SwitchboardCore
import SwitchboardOutbound

/// Commands in Switchboard's own protocol: one signed JSON request per command to `<API address>/commands`, signed
/// like the PBX's events (`X-Switchboard-Timestamp`, `X-Switchboard-Signature` over "<timestamp>.<body>" with the
/// connection's API key), so a PBX that speaks the protocol checks them the way Switchboard checks its events.
///
/// Bodies: `{"command": "originate", "employee": login, "phone": "+7…", "caller_id": "+7…"?}` → `{"call_id": "…"}`;
/// `{"command": "hangup", "call_id": "…"}`; `{"command": "set_dnd", "employee": login, "on": true}`;
/// `{"command": "get_dnd", "employee": login}` → `{"dnd": true}`; `{"command": "accounts"}` →
/// `{"accounts": [{"login", "name", "extension", "email", "direct_number"}]}`; `{"command": "queues", "employee", "on",
/// "group"?}`. Refusals: any non-2xx with `{"error": {"message": "…"}}`; 404 only for a command the PBX does not
/// know (reported as unsupported), 409 for one it cannot carry out now (no such call).
public struct NativeCommands: PBXCommands {
    let baseURL: String
    let key: String
    let http: OutboundHTTP
    let timeout: TimeAmount

    public init(baseURL: String, key: String, http: OutboundHTTP, timeout: TimeAmount = .seconds(10)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = key
        self.http = http
        self.timeout = timeout
    }

    func send(_ command: String, _ fields: [String: Any] = [:]) async throws -> [String: Any] {
        var body = fields
        body["command"] = command
        let bytes = [UInt8](try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]))
        let ts = Int(Date().timeIntervalSince1970)
        var request = HTTPClientRequest(url: baseURL + "/commands")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: NativeProtocol.timestampHeader, value: String(ts))
        request.headers.add(name: NativeProtocol.signatureHeader, value: NativeProtocol.sign(body: bytes, secret: key, timestamp: ts))
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let (code, answer) = try await http.pbxCommand(request, command: command, timeout: timeout)
        let data = Data(answer)
        let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (200..<300).contains(code) else {
            let reason = (json["error"] as? [String: Any])?["message"] as? String ?? String(decoding: data.prefix(300), as: UTF8.self)
            if code == 404 { throw PBXCommandError.unsupported(command) }
            throw PBXCommandError(.refused(command: command, status: code, detail: reason), status: code, retryable: code >= 500 || code == 429)
        }
        return json
    }

    public func originate(employeeLogin: String, clientNumber: PhoneNumber, callerId: String?) async throws -> String? {
        var fields: [String: Any] = ["employee": employeeLogin, "phone": clientNumber.e164 ?? clientNumber.display]
        if let callerId { fields["caller_id"] = callerId }
        return try await send("originate", fields)["call_id"].map { "\($0)" }
    }

    public func hangup(callId: String) async throws {
        _ = try await send("hangup", ["call_id": callId])
    }

    public func setDND(employeeLogin: String, on: Bool) async throws {
        _ = try await send("set_dnd", ["employee": employeeLogin, "on": on])
    }

    public func getDND(employeeLogin: String) async throws -> Bool {
        try await send("get_dnd", ["employee": employeeLogin])["dnd"] as? Bool ?? false
    }

    public func accounts() async throws -> [PBXAccount] {
        (try await send("accounts")["accounts"] as? [[String: Any]] ?? []).compactMap { a in
            (a["login"] as? String).map {
                PBXAccount(login: $0, name: a["name"] as? String, extension: a["extension"] as? String, email: a["email"] as? String,
                           directNumber: a["direct_number"] as? String)
            }
        }
    }

    public func subscribeOnCalls(employeeLogin: String, on: Bool, groupId: String?) async throws {
        var fields: [String: Any] = ["employee": employeeLogin, "on": on]
        if let groupId { fields["group"] = groupId }
        _ = try await send("queues", fields)
    }

    public func history(from: Date, to: Date, type: String) async throws -> [PBXHistoryRecord] {
        // The protocol pushes final records itself; there is nothing to reconcile by pulling.
        throw PBXCommandError.unsupported("history")
    }
}
