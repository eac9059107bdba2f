import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardStorage

/// Switchboard's own chat (CORE-15): the widget a site embeds with one script tag (`chat.js`) talks to
/// `/public/v1/sites/:siteKey/widget/chats…` with a per-chat visitor token; operators answer from the workspace page
/// (`/workspace`) through `/api/v1/chats…`. Both sides are pushed what changes over WebSocket (`LiveChats`) and poll
/// these routes while a socket is not open; the transcript goes to the CRMs when the chat finishes.
struct ChatRoutes {
    let service: TextService
    let limiter: SiteRateLimiter
    let publicTexts: PublicTexts

    var texts: TextStore { service.texts }

    func visitorToken(_ chatId: String) -> String { service.visitorToken(chatId) }

    static let chatFields: Set<String> = ["text", "name", "phone", "email", "page", "utm", "campaign",
                                          "utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"]

    struct VisitorView: Encodable {
        var chatId: String
        var token: String?
        var state: String
        var messages: [ChatMessage]
        /// How many messages the chat has in all (the next poll's `after`).
        var total: Int
    }

    func register(on router: Router<AppRequestContext>) {
        let site = router.group("public/v1/sites/:siteKey")
        for path in ["widget/chats", "widget/chats/:chatId", "widget/chats/:chatId/messages"] {
            site.on(RouterPath(stringLiteral: path), method: .options) { req, ctx in try await publicTexts.preflight(req, ctx, methods: "GET, POST, OPTIONS") }
        }
        site.post("widget/chats") { req, ctx in
            let (s, cors) = try await publicTexts.admit(req, ctx)
            return try await publicTexts.withCORS(cors) { try await start(req, site: s) }
        }
        site.post("widget/chats/:chatId/messages") { req, ctx in
            let (s, cors) = try await publicTexts.admit(req, ctx)
            return try await publicTexts.withCORS(cors) { try await visitorMessage(req, ctx, site: s) }
        }
        // Polling reads only and is not counted against the site's budget.
        site.get("widget/chats/:chatId") { req, ctx in
            guard let s = try await texts.site(key: try ctx.param("siteKey")) else { throw APIError(.notFound, "unknown site key") }
            let cors = try publicTexts.corsHeaders(req, s)
            return try await publicTexts.withCORS(cors) {
                let chat = try await visitorChat(req, ctx, site: s)
                let after = min(max(0, Int(try req.query("after") ?? "0") ?? 0), chat.transcript.count)
                return jsonResponse(VisitorView(chatId: chat.id, token: nil, state: chat.state,
                                                messages: Array(chat.transcript.dropFirst(after)), total: chat.transcript.count))
            }
        }
        site.get("chat.js") { _, ctx in try await publicTexts.script(ctx) { SiteForm.chatScript(site: $0, base: service.baseURL()) } }
        router.get("workspace") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(string: SiteForm.resource("workspace", "html"))))
        }
    }

    /// A visitor starts a chat with their first message.
    func start(_ req: Request, site: Site) async throws -> Response {
        let f = try await PublicFields.read(req, allowed: Self.chatFields)
        var draft = try f.communication(site: site, kind: .chat, externalId: nil)
        guard let text = try f.text("text", max: 5000) else { throw APIError(.unprocessableContent, "text is required", field: "text") }
        draft.channel = "site"
        draft.transcript = [ChatMessage(at: Date(), author: .visitor, name: draft.name, text: text)]
        let got = try await texts.receive(draft, event: .chatStarted, handled: service.handledKinds())
        return jsonResponse(VisitorView(chatId: got.text.id, token: visitorToken(got.text.id), state: got.text.state,
                                        messages: got.text.transcript, total: got.text.transcript.count), status: .created)
    }

    /// The chat of the path, when the visitor's token is its own (else 404: a chat is not confirmed to strangers).
    func visitorChat(_ req: Request, _ ctx: AppRequestContext, site: Site) async throws -> TextCommunication {
        let id = try ctx.param("chatId")
        guard Hashing.constantTimeEquals(req.headers[HTTPField.Name("X-Chat-Token")!] ?? "", visitorToken(id)),
              let chat = try await texts.get(tenantId: site.tenantId, id: id), chat.siteId == site.id, chat.kind == .chat else {
            throw APIError(.notFound, "chat not found")
        }
        return chat
    }

    func visitorMessage(_ req: Request, _ ctx: AppRequestContext, site: Site) async throws -> Response {
        let chat = try await visitorChat(req, ctx, site: site)
        let f = try await PublicFields.read(req, allowed: Self.chatFields)
        let given = try f.communication(site: site, kind: .chat, externalId: nil)
        let text = try f.text("text", max: 5000)
        let messages = text.map { [ChatMessage(at: Date(), author: .visitor, name: given.name ?? chat.name, text: $0)] } ?? []
        guard !messages.isEmpty || given.name != nil || given.phone != nil || given.email != nil else {
            throw APIError(.unprocessableContent, "text, name, phone or email is required", field: "text")
        }
        let got = try await mapStoreError {
            try await texts.addMessages(tenantId: site.tenantId, id: chat.id, messages, name: given.name, phone: given.phone,
                                        email: given.email, handled: service.handledKinds())
        }
        let now = got?.text ?? chat
        if !messages.isEmpty && now.state == "finished" { throw APIError(.conflict, "the chat is finished") }
        return jsonResponse(VisitorView(chatId: now.id, token: nil, state: now.state, messages: [], total: now.transcript.count))
    }
}

/// `/api/v1/chats`: what operators do from the workspace (or any tool with an API token): the chats waiting and in
/// progress, an answer, tags, the end.
struct ChatsAPI {
    let service: TextService

    init(service: TextService) { self.service = service }
    init(sb: Switchboard) { service = TextService(sb: sb) }

    var texts: TextStore { service.texts }

    struct Answer: Decodable { var text: String; var name: String? }
    struct NewWorkspaceToken: Decodable { var minutes: Int? }
    struct WorkspaceToken: Encodable { var token: String; var expiresAt: Date; var url: String }

    static let workspacePrefix = "wst_"

    /// CORE-18: a short-lived token for the workspace embedded in a CRM's page (an iframe): it opens the chats of one
    /// tenant until it expires, and nothing else. Signed, not stored: `wst_<tenant>.<expiry>.<tag>`.
    func workspaceToken(tenantId: String, expires: Date) -> String {
        let expiry = String(Int(expires.timeIntervalSince1970))
        return Self.workspacePrefix + "\(tenantId).\(expiry)." + service.vault.mac("\(tenantId).\(expiry)", purpose: "workspace")
    }

    /// The tenant of the request: a workspace token's, while it lives, or an API token's.
    func tenantId(_ req: Request, _ ctx: AppRequestContext) throws -> String {
        guard let token = req.bearerToken, token.hasPrefix(Self.workspacePrefix) else { return try ctx.tenant() }
        return try workspaceTenant(token)
    }

    /// The tenant of a token given otherwise than in a header (the live socket's first message): a workspace or API token's.
    func tenantId(token: String) async throws -> String {
        if token.hasPrefix(Self.workspacePrefix) { return try workspaceTenant(token) }
        guard let tenantId = try await service.tenants.tenantForToken(token) else { throw APIError(.unauthorized, "the API token is not valid") }
        return tenantId
    }

    func workspaceTenant(_ token: String) throws -> String {
        let parts = token.dropFirst(Self.workspacePrefix.count).split(separator: ".").map(String.init)
        guard parts.count == 3, let expiry = Int(parts[1]),
              Hashing.constantTimeEquals(token, workspaceToken(tenantId: parts[0], expires: Date(timeIntervalSince1970: Double(expiry)))) else {
            throw APIError(.unauthorized, "the workspace token is not valid")
        }
        guard Double(expiry) > Date().timeIntervalSince1970 else { throw APIError(.unauthorized, "the workspace token has expired") }
        return parts[0]
    }
    struct Tags: Decodable { var tags: [String] }

    /// A chat of the tenant (a request is not one).
    func chat(_ tenantId: String, _ id: String) async throws -> TextCommunication {
        guard let chat = try await texts.get(tenantId: tenantId, id: id), chat.kind == .chat else { throw APIError(.notFound, "chat not found") }
        return chat
    }

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.post("workspace/tokens") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(NewWorkspaceToken.self)
            let minutes = body.minutes ?? 720
            guard (5...1440).contains(minutes) else {
                throw APIError(.unprocessableContent, "minutes is from 5 to 1440", field: "minutes")
            }
            let expires = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + Double(minutes * 60)).rounded(.down))
            let token = workspaceToken(tenantId: t, expires: expires)
            return jsonResponse(WorkspaceToken(token: token, expiresAt: expires, url: "\(service.baseURL())/workspace#token=\(token)"), status: .created)
        }
        api.get("chats") { req, ctx in
            let t = try tenantId(req, ctx)
            let state = try req.query("state")
            guard state == nil || ["open", "finished"].contains(state!) else {
                throw APIError(.badRequest, "state is open or finished", field: "state")
            }
            return jsonResponse(try await texts.list(tenantId: t, kind: .chat, state: state, limit: try req.limit()))
        }
        api.post("chats/:id/messages") { req, ctx in
            let t = try tenantId(req, ctx)
            return jsonResponse(try await answer(t, try ctx.param("id"), try await req.decodeJSON(Answer.self)))
        }
        api.post("chats/:id/tags") { req, ctx in
            let t = try tenantId(req, ctx)
            return jsonResponse(try await tag(t, try ctx.param("id"), try await req.decodeJSON(Tags.self)))
        }
        api.post("chats/:id/finish") { req, ctx in
            let t = try tenantId(req, ctx)
            return jsonResponse(try await finish(t, try ctx.param("id")))
        }
    }

    // What an operator does, from these routes and from the live socket alike.

    func answer(_ t: String, _ chatId: String, _ body: Answer) async throws -> TextCommunication {
        let text = body.text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty, text.count <= 5000 else { throw APIError(.unprocessableContent, "text is 1 to 5000 characters", field: "text") }
        let message = ChatMessage(at: Date(), author: .operator_, name: body.name.map { String($0.prefix(200)) }, text: text)
        let id = try await chat(t, chatId).id
        guard let got = try await mapStoreError({
            try await texts.addMessages(tenantId: t, id: id, [message], handled: service.handledKinds())
        }) else { throw APIError(.notFound, "chat not found") }
        return got.text
    }

    func tag(_ t: String, _ chatId: String, _ body: Tags) async throws -> TextCommunication {
        guard body.tags.count <= 20, body.tags.allSatisfy({ !$0.isEmpty && $0.count <= 50 }) else {
            throw APIError(.unprocessableContent, "at most 20 tags of 1 to 50 characters", field: "tags")
        }
        let id = try await chat(t, chatId).id
        guard let got = try await texts.tag(tenantId: t, id: id, body.tags, handled: service.handledKinds()) else {
            throw APIError(.notFound, "chat not found")
        }
        return got.text
    }

    func finish(_ t: String, _ chatId: String) async throws -> TextCommunication {
        let id = try await chat(t, chatId).id
        guard let got = try await texts.finish(tenantId: t, id: id, handled: service.handledKinds()) else {
            throw APIError(.notFound, "chat not found")
        }
        return got.text
    }
}
