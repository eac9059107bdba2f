import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardStorage

/// `/public/v1/sites/:siteKey/…`: what a tenant's site sends without an API token (CORE-15): requests from its own
/// forms, chats from its own chat, and Switchboard's embeddable request form (`form.js`). The site key is public;
/// browsers may post only from the site's origins (CORS), each key has a request budget, and every field is checked.
struct PublicTexts {
    let service: TextService
    let limiter: SiteRateLimiter

    var texts: TextStore { service.texts }

    func register(on router: Router<AppRequestContext>) {
        let site = router.group("public/v1/sites/:siteKey")
        for path in ["requests", "chats"] {
            site.on(RouterPath(stringLiteral: path), method: .options) { req, ctx in try await preflight(req, ctx) }
        }
        site.post("requests") { req, ctx in
            let (s, cors) = try await admit(req, ctx)
            return try await withCORS(cors) { try await receiveRequest(req, site: s) }
        }
        site.post("chats") { req, ctx in
            let (s, cors) = try await admit(req, ctx)
            return try await withCORS(cors) { try await receiveChat(req, site: s) }
        }
        site.get("preview") { _, ctx in
            guard let s = try await texts.site(key: try ctx.param("siteKey")) else { throw APIError(.notFound, "unknown site key") }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: SiteForm.preview(site: s, base: service.baseURL()))))
        }
        ChatRoutes(service: service, limiter: limiter, publicTexts: self).register(on: router)
        site.get("form.js") { _, ctx in try await script(ctx) { SiteForm.script(site: $0, base: service.baseURL()) } }
    }

    /// One of Switchboard's scripts for the site of the path (an unknown key says so in the browser's console).
    func script(_ ctx: AppRequestContext, _ make: (Site) -> String) async throws -> Response {
        guard let s = try await texts.site(key: try ctx.param("siteKey")) else {
            return Response(status: .notFound, headers: [.contentType: "application/javascript; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "console.error('Switchboard: unknown site key');\n")))
        }
        return Response(status: .ok, headers: [.contentType: "application/javascript; charset=utf-8", .cacheControl: "max-age=300"],
                        body: .init(byteBuffer: ByteBuffer(string: make(s))))
    }

    // MARK: admission: the site, its origins, its budget

    /// The site of the key, the CORS headers for the request's origin, or the refusal (404, 403, 429).
    func admit(_ req: Request, _ ctx: AppRequestContext) async throws -> (Site, HTTPFields) {
        let key = try ctx.param("siteKey")
        guard let site = try await texts.site(key: key) else { throw APIError(.notFound, "unknown site key") }
        let cors = try corsHeaders(req, site)
        if let wait = limiter.take(key) {
            var headers = cors
            headers[.retryAfter] = String(wait)
            throw PublicRefusal(status: .tooManyRequests, message: "too many requests for this site; try again in \(wait) s",
                                headers: headers)
        }
        return (site, cors)
    }

    /// The `Access-Control-Allow-Origin` echo for a browser on one of the site's origins (any origin when the site lists
    /// none); a browser from elsewhere is refused. Requests without `Origin` (servers) pass.
    func corsHeaders(_ req: Request, _ site: Site) throws -> HTTPFields {
        guard let origin = req.headers[.origin] else { return [:] }
        guard allows(origin: origin, site) else { throw APIError(.forbidden, "this site does not accept requests from \(origin)") }
        return [.accessControlAllowOrigin: origin, .vary: "Origin"]
    }

    /// Whether a browser on `origin` may talk to the site: one of its origins (any when it lists none), or
    /// Switchboard's own pages (the form's preview).
    func allows(origin: String, _ site: Site) -> Bool {
        let normalized = origin.lowercased()
        let own = URLComponents(string: service.baseURL()).map { c in "\(c.scheme ?? "http")://\(c.host ?? "")" + (c.port.map { ":\($0)" } ?? "") }
        return site.origins.isEmpty || site.origins.contains(normalized) || normalized == own?.lowercased()
    }

    func preflight(_ req: Request, _ ctx: AppRequestContext, methods: String = "POST, OPTIONS") async throws -> Response {
        guard let site = try await texts.site(key: try ctx.param("siteKey")) else { throw APIError(.notFound, "unknown site key") }
        var headers = try corsHeaders(req, site)
        headers[.accessControlAllowMethods] = methods
        headers[.accessControlAllowHeaders] = "Content-Type, X-Chat-Token"
        headers[.accessControlMaxAge] = "600"
        return Response(status: .noContent, headers: headers)
    }

    /// Runs `body` and adds the CORS headers to its answer and to its refusals, so a browser can read why it failed.
    func withCORS(_ cors: HTTPFields, _ body: () async throws -> Response) async throws -> Response {
        do {
            var r = try await body()
            r.headers.append(contentsOf: cors)
            return r
        } catch let e as APIError {
            throw PublicRefusal(status: e.status, message: e.message, field: e.field, headers: cors)
        }
    }

    // MARK: requests

    static let requestFields: Set<String> = ["requestId", "type", "name", "phone", "email", "message", "page", "utm", "campaign",
                                             "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]

    func receiveRequest(_ req: Request, site: Site) async throws -> Response {
        let f = try await PublicFields.read(req, allowed: Self.requestFields)
        var text = try f.communication(site: site, kind: .request, externalId: f.text("requestId", max: 100))
        text.requestType = try f.text("type", max: 100)
        if let type = text.requestType, !site.requestTypes.isEmpty, !site.requestTypes.contains(type) {
            throw APIError(.unprocessableContent, "type is one of \(site.requestTypes.joined(separator: ", "))", field: "type")
        }
        text.message = try f.text("message", max: 5000)
        guard text.phoneNumber() != nil || !(text.email ?? "").isEmpty else {
            throw APIError(.unprocessableContent, "a request needs a phone number or an e-mail to answer", field: "phone")
        }
        let got = try await texts.receive(text, event: .requestReceived, handled: service.handledKinds())
        struct Answer: Encodable { var id: String; var status: String; var duplicate: Bool }
        return jsonResponse(Answer(id: got.text.id, status: "received", duplicate: !got.created), status: got.created ? .created : .ok)
    }

    // MARK: chats

    static let chatFields: Set<String> = ["chatId", "channel", "name", "phone", "email", "page", "utm", "campaign", "tags", "messages",
                                          "finished", "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]

    /// A chat from the site's own chat, by its `chatId`: the first post starts it, later ones add messages and tags
    /// (and the visitor's details when they leave them), `finished: true` ends it (its transcript then goes to the CRM).
    func receiveChat(_ req: Request, site: Site) async throws -> Response {
        let f = try await PublicFields.read(req, allowed: Self.chatFields)
        guard let chatId = try f.text("chatId", max: 100) else { throw APIError(.badRequest, "chatId is required", field: "chatId") }
        var draft = try f.communication(site: site, kind: .chat, externalId: chatId)
        draft.channel = try f.text("channel", max: 50) ?? "site"
        let messages = try f.messages()
        let tags = try f.list("tags", max: 20, length: 50)
        let finished = try f.bool("finished") ?? false
        let handled = service.handledKinds()
        draft.transcript = messages
        draft.tags = tags
        let started = try await texts.receive(draft, event: .chatStarted, handled: handled)
        var current = started.text
        if started.created {
            if !tags.isEmpty {
                current = try await texts.update(tenantId: site.tenantId, id: current.id, event: .chatTagged, handled: handled) { _ in true }?.text
                    ?? current
            }
        } else {
            if current.state == "finished" && (!messages.isEmpty || !tags.isEmpty) {
                throw APIError(.conflict, "chat \(chatId) is finished", field: "chatId")
            }
            if !messages.isEmpty || [draft.name, draft.phone, draft.email].contains(where: { $0 != nil }) {
                current = try await mapStoreError {
                    try await texts.addMessages(tenantId: site.tenantId, id: current.id, messages, name: draft.name, phone: draft.phone,
                                                email: draft.email, handled: handled)
                }?.text ?? current
            }
            if !tags.isEmpty { current = try await texts.tag(tenantId: site.tenantId, id: current.id, tags, handled: handled)?.text ?? current }
        }
        if finished { current = try await texts.finish(tenantId: site.tenantId, id: current.id, handled: handled)?.text ?? current }
        struct Answer: Encodable { var id: String; var status: String; var messages: Int }
        return jsonResponse(Answer(id: current.id, status: current.state, messages: current.transcript.count),
                            status: started.created ? .created : .ok)
    }
}

/// A refusal of the public API with the headers it must carry (CORS, Retry-After).
struct PublicRefusal: HTTPResponseError {
    let status: HTTPResponse.Status
    let message: String
    var field: String? = nil
    let headers: HTTPFields

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var r = try APIError(status, message, field: field).response(from: request, context: context)
        r.headers.append(contentsOf: headers)
        return r
    }
}

/// A request body of the public API (JSON, or a form posted without JavaScript), read strictly: unknown fields,
/// wrong types and over-long values are refused with the field they concern.
struct PublicFields {
    let values: [String: JSONValue]

    static func read(_ req: Request, allowed: Set<String>) async throws -> PublicFields {
        let bytes = try await req.bodyBytes(limit: 64 << 10)
        if let problem = NULText.problem(json: bytes) { throw APIError(.badRequest, problem) }
        var values: [String: JSONValue]
        if (req.headers[.contentType] ?? "").contains("application/x-www-form-urlencoded") {
            values = FormURLEncoding.decode(String(decoding: bytes, as: UTF8.self)).mapValues { .string($0) }
        } else {
            guard case .object(let o)? = try? JSON.decode(JSONValue.self, from: String(decoding: bytes, as: UTF8.self)) else {
                throw APIError(.badRequest, "the body is a JSON object")
            }
            values = o
        }
        if let unknown = values.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw APIError(.badRequest, "unknown field \(unknown)", field: unknown)
        }
        return PublicFields(values: values)
    }

    /// A string field, trimmed, at most `max` characters; nil when absent, null or empty.
    func text(_ name: String, max: Int) throws -> String? {
        guard let v = values[name] else { return nil }
        switch v {
        case .null: return nil
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
            guard t.count <= max else { throw APIError(.unprocessableContent, "\(name) is at most \(max) characters", field: name) }
            return t.isEmpty ? nil : t
        default: throw APIError(.badRequest, "\(name) is a string", field: name)
        }
    }

    func bool(_ name: String) throws -> Bool? {
        switch values[name] {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case .string(let s)? where ["true", "1", "on"].contains(s): return true
        case .string(let s)? where ["false", "0", "off", ""].contains(s): return false
        default: throw APIError(.badRequest, "\(name) is true or false", field: name)
        }
    }

    func list(_ name: String, max: Int, length: Int) throws -> [String] {
        guard let v = values[name], v != .null else { return [] }
        guard case .array(let items) = v, items.count <= max else {
            throw APIError(.badRequest, "\(name) is a list of at most \(max) strings", field: name)
        }
        return try items.map { item in
            guard case .string(let s) = item, !s.isEmpty, s.count <= length else {
                throw APIError(.unprocessableContent, "each of \(name) is 1 to \(length) characters", field: name)
            }
            return s
        }
    }

    static let utmKeys = ["utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]

    /// UTM tags: a `utm` object, or flat `utm_*` fields; `campaign` stands for `utm_campaign`.
    func utm() throws -> [String: String] {
        var out: [String: String] = [:]
        if let v = values["utm"], v != .null {
            guard case .object(let o) = v else { throw APIError(.badRequest, "utm is an object of utm_* strings", field: "utm") }
            for (k, value) in o {
                guard Self.utmKeys.contains(k) else { throw APIError(.badRequest, "utm.\(k) is not one of \(Self.utmKeys.joined(separator: ", "))", field: "utm.\(k)") }
                guard case .string(let s) = value, s.count <= 200 else {
                    throw APIError(.unprocessableContent, "utm.\(k) is a string of at most 200 characters", field: "utm.\(k)")
                }
                if !s.isEmpty { out[k] = s }
            }
        }
        for k in Self.utmKeys { if let s = try text(k, max: 200) { out[k] = s } }
        if let c = try text("campaign", max: 200) { out["utm_campaign"] = out["utm_campaign"] ?? c }
        return out
    }

    /// The fields every communication has: who, how to reach them, where they were.
    func communication(site: Site, kind: TextKind, externalId: String?) throws -> TextCommunication {
        var t = TextCommunication(id: Identifier.make(kind == .request ? "req" : "chat"), tenantId: site.tenantId, siteId: site.id,
                                  site: site.name, kind: kind, externalId: externalId, state: kind == .request ? "received" : "open",
                                  createdAt: Date())
        t.name = try text("name", max: 200)
        if let phone = try text("phone", max: 50) {
            let n = PhoneNumber.parse(phone)
            guard let digits = n.last10, digits.count == 10 else {
                throw APIError(.unprocessableContent, "phone is not a phone number", field: "phone")
            }
            t.phone = n.e164 ?? phone
        }
        if let email = try text("email", max: 254) {
            let parts = email.split(separator: "@", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
                  !email.contains(where: { $0.isWhitespace }) else {
                throw APIError(.unprocessableContent, "email is not an e-mail address", field: "email")
            }
            t.email = email
        }
        if let page = try text("page", max: 2000) {
            guard let u = URLComponents(string: page), ["http", "https"].contains(u.scheme?.lowercased() ?? "") else {
                throw APIError(.unprocessableContent, "page is an http or https address", field: "page")
            }
            t.page = page
        }
        t.utm = try utm()
        return t
    }

    /// A chat's new messages: `[{text, author: visitor|operator|system, name?, at?}]`, at most 100 per post.
    func messages() throws -> [ChatMessage] {
        guard let v = values["messages"], v != .null else { return [] }
        guard case .array(let items) = v, items.count <= 100 else {
            throw APIError(.badRequest, "messages is a list of at most 100 messages", field: "messages")
        }
        return try items.enumerated().map { i, item in
            let field = "messages[\(i)]"
            guard case .object(let o) = item, case .string(let text)? = o["text"], !text.isEmpty, text.count <= 5000 else {
                throw APIError(.unprocessableContent, "\(field).text is 1 to 5000 characters", field: "\(field).text")
            }
            var author = ChatMessage.Author.visitor
            if case .string(let a)? = o["author"] {
                guard let parsed = ChatMessage.Author(rawValue: a) else {
                    throw APIError(.unprocessableContent, "\(field).author is visitor, operator or system", field: "\(field).author")
                }
                author = parsed
            }
            var at = Date()
            if case .string(let s)? = o["at"] {
                guard let d = ISO8601DateFormatter().date(from: s) else {
                    throw APIError(.unprocessableContent, "\(field).at is an ISO 8601 time", field: "\(field).at")
                }
                at = d
            }
            var name: String?
            if case .string(let n)? = o["name"] { name = String(n.prefix(200)) }
            return ChatMessage(at: at, author: author, name: name, text: text)
        }
    }
}

/// A request budget per site key, on this instance: `burst` at once, refilled at `perMinute`. Sites post a form now
/// and then; a key hammered by a script is refused (429 with Retry-After) before anything is stored.
final class SiteRateLimiter: @unchecked Sendable {
    let perMinute: Double
    let burst: Double
    private var buckets: [String: (tokens: Double, at: Date)] = [:]
    private let lock = NSLock()

    init(perMinute: Int = 30, burst: Int = 20) {
        self.perMinute = Double(perMinute)
        self.burst = Double(burst)
    }

    /// nil when the request may go on; else the whole seconds until a token is back.
    func take(_ key: String, now: Date = Date()) -> Int? {
        lock.withLock {
            if buckets.count > 10_000 { buckets = buckets.filter { now.timeIntervalSince($0.value.at) < 120 } }
            var b = buckets[key] ?? (burst, now)
            b.tokens = min(burst, b.tokens + now.timeIntervalSince(b.at) * perMinute / 60)
            b.at = now
            defer { buckets[key] = b }
            guard b.tokens >= 1 else { return max(1, Int(((1 - b.tokens) * 60 / perMinute).rounded(.up))) }
            b.tokens -= 1
            return nil
        }
    }
}

/// Switchboard's embeddable request form (`Resources/site-form.js`) with the site's settings filled in.
enum SiteForm {
    static let template = resource("site-form", "js")
    static let chatTemplate = resource("site-chat", "js")

    /// A text file of the resources (the form's and the chat's scripts, the workspace page).
    static func resource(_ name: String, _ ext: String) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Resources"),
              let text = try? String(contentsOf: url, encoding: .utf8) else { return "console.error('Switchboard: \(name).\(ext) missing');" }
        return text
    }

    /// The chat widget's script with the site's settings filled in.
    static func chatScript(site: Site, base: String) -> String {
        chatTemplate.replacingOccurrences(of: "__CONFIG__", with: config(site: site, base: base))
    }

    /// A sample page of the site with the form on it: what a visitor sees, for the tenant to try (and the demo).
    static func preview(site: Site, base: String) -> String {
        let name = esc(site.name)
        return """
            <!doctype html>
            <html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(name): пример страницы с формой</title>
            <style>
            body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
            .switchboard-form { border: 1px solid #ccc; border-radius: 8px; padding: 1rem 1.5rem; }
            .sbf-row label { display: block; font-size: .9rem; margin-bottom: .2rem; }
            .sbf-row input, .sbf-row select, .sbf-row textarea { width: 100%; box-sizing: border-box; padding: .4rem; font: inherit; }
            .sbf-done { color: #1a7f37; } .sbf-error { color: #b42318; } pre { white-space: pre-wrap; word-break: break-all; }
            </style></head>
            <body>
            <h1>\(name)</h1>
            <p>Пример страницы сайта: форма ниже встроена одной строкой, как на вашем сайте:</p>
            <pre><code>\(esc("<script src=\"\(base)/public/v1/sites/\(site.key)/form.js\" async></script>"))</code></pre>
            <div id="request-form"></div>
            <script src="\(base)/public/v1/sites/\(site.key)/form.js" data-target="#request-form" async></script>
            <script src="\(base)/public/v1/sites/\(site.key)/chat.js" async></script>
            </body></html>
            """
    }

    static func script(site: Site, base: String) -> String {
        template.replacingOccurrences(of: "__CONFIG__", with: config(site: site, base: base))
    }

    /// The scripts' settings as a JS object literal: the site's key, the request address, the chat address, the types.
    static func config(site: Site, base: String) -> String {
        struct Config: Encodable { var key: String; var endpoint: String; var chats: String; var types: [String] }
        // `</` inside a script would end it early on a page that inlines it.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(Config(key: site.key, endpoint: "\(base)/public/v1/sites/\(site.key)/requests",
                                               chats: "\(base)/public/v1/sites/\(site.key)/widget/chats",
                                               types: site.requestTypes))) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "</", with: "<\\/")
    }
}
