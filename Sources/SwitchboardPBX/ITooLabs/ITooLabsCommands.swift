import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore
import SwitchboardOutbound

/// The commands of the ITooLabs API, in its two generations: legacy (`/sys/crm_api.wcgp`, form POST with
/// `cmd` and `token`) and `crmapi/v1` (REST, `X-API-KEY`).
public struct ITooLabsCommands: PBXCommands {
    public enum Flavor: String, Sendable { case legacy, v1 }

    let baseURL: String
    let key: String
    let flavor: Flavor
    /// Every command goes through the installation's outbound policy.
    let http: OutboundHTTP
    let timeout: TimeAmount

    public init(baseURL: String, key: String, flavor: Flavor, http: OutboundHTTP, timeout: TimeAmount = .seconds(10)) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = key
        self.flavor = flavor
        self.http = http
        self.timeout = timeout
    }

    func legacy(_ cmd: String, _ params: [String: String]) async throws -> [UInt8] {
        var fields = params
        fields["cmd"] = cmd
        fields["token"] = key
        let body = FormURLEncoding.encode(fields)
        var request = HTTPClientRequest(url: baseURL + "/sys/crm_api.wcgp")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: body))
        return try await send(request, what: cmd)
    }

    func v1(_ method: HTTPMethod, _ path: String, json: [String: String]? = nil, query: [String: String] = [:]) async throws -> [UInt8] {
        var url = baseURL + "/crmapi/v1" + path
        if !query.isEmpty {
            url += "?" + FormURLEncoding.encode(query)
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "X-API-KEY", value: key)
        if let json {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])))
        }
        return try await send(request, what: path)
    }

    func send(_ request: HTTPClientRequest, what: String) async throws -> [UInt8] {
        let (code, bytes) = try await http.pbxCommand(request, command: what, timeout: timeout)
        guard (200..<300).contains(code) else {
            let text = String(decoding: bytes.prefix(300), as: UTF8.self)
            throw PBXCommandError(.refused(command: what, status: code, detail: text), status: code,
                                  retryable: code >= 500 || code == 429)
        }
        return bytes
    }

    public func originate(employeeLogin: String, clientNumber: PhoneNumber, callerId: String?) async throws -> String? {
        // Digits only: at least one operator rejects a leading "+".
        var params = ["user": employeeLogin, "phone": clientNumber.digits]
        if let callerId { params["clid"] = callerId.filter(\.isNumber) }
        let bytes = flavor == .legacy ? try await legacy("makeCall", params) : try await v1(.POST, "/makecall", json: params)
        // Seen: {"uuid": …} (Gravitel), {"callid": …} (v1), or a bare id.
        if let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] {
            return (object["uuid"] ?? object["callid"] ?? object["call_id"]).map { "\($0)" }
        }
        let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines.union(["\""]))
        return text.isEmpty ? nil : text
    }

    public func hangup(callId: String) async throws {
        // No hang-up command is documented for this API (pbx-protocols.md, UNCONFIRMED).
        throw PBXCommandError.unsupported("hang-up")
    }

    public func setDND(employeeLogin: String, on: Bool) async throws {
        guard flavor == .legacy else { throw PBXCommandError.unsupported("DND through crmapi/v1") }
        _ = try await legacy("set_dnd", ["user": employeeLogin, "state": on ? "true" : "false"])
    }

    public func getDND(employeeLogin: String) async throws -> Bool {
        guard flavor == .legacy else { throw PBXCommandError.unsupported("DND through crmapi/v1") }
        let bytes = try await legacy("get_dnd", ["user": employeeLogin])
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw PBXCommandError(.notJSON(command: "get_dnd"), retryable: false)
        }
        if let b = object["state"] as? Bool { return b }
        return "\(object["state"] ?? "false")" == "true"
    }

    public func accounts() async throws -> [PBXAccount] {
        if flavor == .legacy {
            let bytes = try await legacy("accounts", [:])
            guard let list = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]] else {
                throw PBXCommandError(.notJSONArray(command: "accounts"), retryable: false)
            }
            return list.compactMap { a in
                guard let login = a["name"].map({ "\($0)" }) else { return nil }
                return PBXAccount(login: login, name: a["realName"].map { "\($0)" }, extension: a["ext"].map { "\($0)" },
                                  email: a["email"].map { "\($0)" }, directNumber: a["telnum"].map { "\($0)" })
            }
        }
        let bytes = try await v1(.GET, "/users")
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any],
              let items = object["items"] as? [[String: Any]] else {
            throw PBXCommandError(.noItems(command: "users"), retryable: false)
        }
        return items.compactMap { a in
            guard let login = a["login"].map({ "\($0)" }) else { return nil }
            return PBXAccount(login: login, name: (a["name"] ?? a["realName"]).map { "\($0)" }, extension: a["ext"].map { "\($0)" },
                              email: a["email"].map { "\($0)" }, directNumber: a["telnum"].map { "\($0)" })
        }
    }

    public func subscribeOnCalls(employeeLogin: String, on: Bool, groupId: String?) async throws {
        guard flavor == .legacy else { throw PBXCommandError.unsupported("queue membership through crmapi/v1") }
        var params = ["user": employeeLogin, "status": on ? "on" : "off"]
        if let groupId { params["group_id"] = groupId }
        _ = try await legacy("subscribeOnCalls", params)
    }

    public func history(from: Date, to: Date, type: String) async throws -> [PBXHistoryRecord] {
        let start = ITooLabsAdapter.formatTime(from), end = ITooLabsAdapter.formatTime(to)
        if flavor == .legacy {
            let text = String(decoding: try await legacy("history", ["start": start, "end": end, "type": type]), as: UTF8.self)
            // CSV: uid,type,client,account,via,start,wait,duration,record
            return text.split(whereSeparator: \.isNewline).compactMap { line in
                let c = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                guard c.count >= 8 else { return nil }
                return PBXHistoryRecord(callId: c[0], type: c[1], client: c[2], account: c[3], via: c[4], start: c[5],
                                        wait: Int(c[6]), duration: Int(c[7]), record: c.count > 8 ? c[8] : nil)
            }
        }
        let bytes = try await v1(.GET, "/history/json", query: ["start": start, "end": end, "type": type])
        guard let list = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [[String: Any]] else {
            throw PBXCommandError(.notJSONArray(command: "history"), retryable: false)
        }
        return list.map { r in
            PBXHistoryRecord(callId: "\(r["uid"] ?? "")", type: "\(r["type"] ?? "")", client: "\(r["client"] ?? "")",
                             account: r["user"].map { "\($0)" }, via: r["diversion"].map { "\($0)" }, start: "\(r["start"] ?? "")",
                             wait: r["wait"].flatMap { Int("\($0)") }, duration: r["duration"].flatMap { Int("\($0)") },
                             record: r["record"].map { "\($0)" })
        }
    }
}
