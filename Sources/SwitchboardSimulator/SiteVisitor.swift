import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import SwitchboardCore

/// Plays a tenant's site against a running Switchboard's public API, as a site's own form and chat would: requests
/// (заявки) and chats, with the browser's `Origin` when one is given.
public struct SiteVisitor: Sendable {
    /// Switchboard's base address, e.g. `http://127.0.0.1:8080`.
    public let baseURL: String
    /// The site's public key.
    public let siteKey: String
    /// The page's origin, sent as a browser would (nil: a server posting).
    public var origin: String?
    let http: HTTPClient

    public init(baseURL: String, siteKey: String, origin: String? = nil, http: HTTPClient = .shared) {
        self.baseURL = baseURL
        self.siteKey = siteKey
        self.origin = origin
        self.http = http
    }

    public typealias Reply = ScenarioPlayer.Reply

    /// One request from a form: `fields` as the public API reads them (`requestId`, `type`, `name`, `phone`, `email`,
    /// `message`, `page`, `utm`).
    public func sendRequest(_ fields: [String: Any]) async throws -> Reply {
        try await post("requests", fields)
    }

    /// A request as a typical visitor sends it, with a fresh `requestId` unless one is given.
    public func sendRequest(name: String, phone: String?, email: String? = nil, type: String? = nil, message: String? = nil,
                            utm: [String: String] = [:], requestId: String = UUID().uuidString) async throws -> Reply {
        var f: [String: Any] = ["requestId": requestId, "name": name, "page": "https://shop.example/contacts"]
        if let phone { f["phone"] = phone }
        if let email { f["email"] = email }
        if let type { f["type"] = type }
        if let message { f["message"] = message }
        if !utm.isEmpty { f["utm"] = utm }
        return try await sendRequest(f)
    }

    /// One post of a chat (`chatId`, `messages`, `tags`, `finished`, the visitor's details).
    public func sendChat(_ fields: [String: Any]) async throws -> Reply {
        try await post("chats", fields)
    }

    /// A whole chat: a visitor's question, an operator's answer, the visitor's number, then its end.
    public func playChat(chatId: String = UUID().uuidString, name: String, phone: String?, tags: [String] = [],
                         lines: [(author: String, text: String)]) async throws -> [Reply] {
        var replies: [Reply] = []
        replies.append(try await sendChat(["chatId": chatId, "name": name, "channel": "site",
                                           "messages": [["author": lines.first?.author ?? "visitor", "text": lines.first?.text ?? "…"]]]))
        for line in lines.dropFirst() {
            replies.append(try await sendChat(["chatId": chatId, "messages": [["author": line.author, "text": line.text, "name": line.author == "operator" ? "Анна" : name]]]))
        }
        var last: [String: Any] = ["chatId": chatId, "finished": true]
        if let phone { last["phone"] = phone }
        if !tags.isEmpty { last["tags"] = tags }
        replies.append(try await sendChat(last))
        return replies
    }

    func post(_ path: String, _ fields: [String: Any]) async throws -> Reply {
        var request = HTTPClientRequest(url: "\(baseURL)/public/v1/sites/\(siteKey)/\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        if let origin { request.headers.add(name: "Origin", value: origin) }
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])))
        let response = try await http.execute(request, timeout: .seconds(30))
        var buffer = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: buffer.readString(length: buffer.readableBytes) ?? "")
    }
}
