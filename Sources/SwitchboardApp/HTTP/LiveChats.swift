import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import SwitchboardCore
import SwitchboardStorage

/// The chats, live over WebSocket (CORE-15, CORE-18): what is stored is pushed to the operators' workspace and to the
/// visitor's widget as it is stored (`ChatSignals`), instead of their polling.
///
/// - `GET /api/v1/chats/live`: an operator's socket. Pushes the tenant's open chats, then every chat as it changes
///   (new chat, visitor message, answer, tag, end); takes the operator's answers, tags and ends through the same code
///   as `/api/v1/chats/{id}/…` (`ChatsAPI`), so what is stored and the jobs it makes are the same.
/// - `GET /public/v1/sites/{siteKey}/widget/chats/{chatId}/live`: a visitor's socket, pushing what is new in the chat.
///   The visitor still posts through the widget's routes (the site's budget and CORS apply there).
///
/// A socket's first message is its credential, `{"type":"auth","token":"…"}` (the workspace or API token; the visitor's
/// chat token), within ten seconds: not the address, which proxies and access logs keep, and a browser cannot set
/// headers on a WebSocket. A bad token closes the socket with 1008 (policy violation) and the reason.
struct LiveChats: Sendable {
    let service: TextService

    static let operatorPath = "/api/v1/chats/live"
    static let authTimeout: Duration = .seconds(10)
    /// How often an operator's token is checked again while the socket is open (expiry, a revoked API token).
    static let recheck: Duration = .seconds(30)
    static let maxMessage = 64 << 10
    static let configuration = WebSocketServerConfiguration(maxFrameSize: maxMessage, autoPing: .enabled(timePeriod: .seconds(30)))

    var texts: TextStore { service.texts }

    typealias Handler = WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>

    /// Which socket a request asks for; anything else is not upgraded (400).
    func shouldUpgrade(_ head: HTTPRequest, _ channel: any Channel, _ logger: Logger) async throws -> ShouldUpgradeResult<Handler> {
        guard head.method == .get else { return .dontUpgrade }
        let path = (head.path ?? "").split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        if path == Self.operatorPath {
            return .upgrade([:]) { inbound, outbound, context in
                try await operatorSocket(inbound, outbound, logger: context.logger)
            }
        }
        // /public/v1/sites/{key}/widget/chats/{chatId}/live
        let p = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard p.count == 9, p[0].isEmpty, p[1] == "public", p[2] == "v1", p[3] == "sites", p[5] == "widget", p[6] == "chats",
              p[8] == "live", !p[7].isEmpty, let site = try await texts.site(key: p[4]) else { return .dontUpgrade }
        // A browser elsewhere than the site's origins is refused, as the widget's routes refuse it.
        if let origin = head.headerFields[.origin],
           !PublicTexts(service: service, limiter: SiteRateLimiter()).allows(origin: origin, site) { return .dontUpgrade }
        let chatId = p[7]
        return .upgrade([:]) { inbound, outbound, context in
            try await visitorSocket(site: site, chatId: chatId, inbound, outbound, logger: context.logger)
        }
    }

    // MARK: what goes over the sockets

    /// What a client sends: `auth` first, then (operators) `message`, `tags`, `finish` with the chat's id and a `ref`
    /// the answer repeats.
    struct Command: Decodable {
        var type: String
        var token: String?
        var ref: String?
        var chatId: String?
        var text: String?
        var name: String?
        var tags: [String]?
        /// The visitor's: how many messages the widget shows already.
        var after: Int?
    }

    /// The operator's list: the tenant's open chats, after `auth` and whenever the socket may have missed a change.
    struct Chats: Encodable { var type = "chats"; var chats: [TextCommunication] }
    /// One chat as it is now (pushed on a change, or the answer to a command with its `ref`).
    struct Chat: Encodable { var type: String; var ref: String?; var chat: TextCommunication }
    struct Failure: Encodable { var type = "error"; var ref: String?; var status: Int; var message: String }
    /// The visitor's: what is new in their chat (the shape of the widget's `GET`, with `type`).
    struct VisitorUpdate: Encodable { var type = "chat"; var chatId: String; var state: String; var messages: [ChatMessage]; var total: Int }

    func send(_ outbound: WebSocketOutboundWriter, _ value: some Encodable) async throws {
        try await outbound.writeTextMessage(JSON.string(value))
    }

    /// The first message's token, or nil once the socket is being closed (no `auth` in time, or not one).
    func credential(_ messages: inout WebSocketInboundMessageStream.AsyncIterator,
                    _ outbound: WebSocketOutboundWriter) async throws -> Command? {
        let deadline = Task {
            try await Task.sleep(for: Self.authTimeout)
            try await outbound.close(.policyViolation, reason: "no token in time")
        }
        defer { deadline.cancel() }
        guard let message = try await messages.next() else { return nil }
        guard case .text(let text) = message, let command = try? JSON.decode(Command.self, from: text),
              command.type == "auth", command.token?.isEmpty == false else {
            try await outbound.close(.policyViolation, reason: "the first message is {\"type\":\"auth\",\"token\":\"…\"}")
            return nil
        }
        return command
    }

    // MARK: the operator's socket

    func operatorSocket(_ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter, logger: Logger) async throws {
        var messages = inbound.messages(maxSize: Self.maxMessage).makeAsyncIterator()
        guard let auth = try await credential(&messages, outbound), let token = auth.token else { return }
        let api = ChatsAPI(service: service)
        let tenantId: String
        do {
            tenantId = try await api.tenantId(token: token)
        } catch let e as APIError {
            try await outbound.close(.policyViolation, reason: e.message)
            return
        }
        // Listening before the first read: a change in between is pushed, not lost.
        let changes = service.signals.subscribe(tenantId: tenantId)
        try await send(outbound, Chats(chats: try await openChats(tenantId)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await change in changes {
                    do {
                        if let chatId = change.chatId, change.tenantId != nil {
                            if let chat = try await texts.get(tenantId: tenantId, id: chatId), chat.kind == .chat {
                                try await send(outbound, Chat(type: "chat", chat: chat))
                            }
                        } else {
                            try await send(outbound, Chats(chats: try await openChats(tenantId)))
                        }
                    } catch {
                        logger.debug("live chat push failed", metadata: ["error": "\(error)"])
                    }
                }
            }
            group.addTask {
                // The token lives as long as it is valid: an expired workspace token or a revoked API token ends it.
                while true {
                    try await Task.sleep(for: Self.recheck)
                    do {
                        _ = try await api.tenantId(token: token)
                    } catch let e as APIError {
                        try await outbound.close(.policyViolation, reason: e.message)
                        return
                    } catch {}
                }
            }
            while let message = try await messages.next() {
                guard case .text(let text) = message else { continue }
                try await send(outbound, await perform(text, token: token, tenantId: tenantId, api: api, logger: logger))
            }
            group.cancelAll()
        }
    }

    func openChats(_ tenantId: String) async throws -> [TextCommunication] {
        try await texts.list(tenantId: tenantId, kind: .chat, state: "open", limit: 100)
    }

    /// One of the operator's commands, done as its route does it; the answer carries the chat or why not.
    func perform(_ text: String, token: String, tenantId: String, api: ChatsAPI, logger: Logger) async -> any Encodable {
        let command = try? JSON.decode(Command.self, from: text)
        let ref = command?.ref
        do {
            guard let command else { throw APIError(.badRequest, "not a command: {\"type\":…}") }
            // A token that expired since the socket opened does nothing more.
            guard try await api.tenantId(token: token) == tenantId else { throw APIError(.unauthorized, "the token is not valid") }
            guard let chatId = command.chatId else { throw APIError(.unprocessableContent, "chatId is required", field: "chatId") }
            let chat: TextCommunication
            switch command.type {
            case "message": chat = try await api.answer(tenantId, chatId, .init(text: command.text ?? "", name: command.name))
            case "tags": chat = try await api.tag(tenantId, chatId, .init(tags: command.tags ?? []))
            case "finish": chat = try await api.finish(tenantId, chatId)
            default: throw APIError(.badRequest, "type is message, tags or finish", field: "type")
            }
            return Chat(type: "done", ref: ref, chat: chat)
        } catch let e as APIError {
            return Failure(ref: ref, status: Int(e.status.code), message: e.message)
        } catch {
            let unavailable = StorageFailure.isUnavailable(error)
            logger.error("live chat command failed", metadata: ["error": "\(error)"])
            return Failure(ref: ref, status: unavailable ? 503 : 500,
                           message: unavailable ? "storage is unavailable; try again" : "internal error")
        }
    }

    // MARK: the visitor's socket

    func visitorSocket(site: Site, chatId: String, _ inbound: WebSocketInboundStream, _ outbound: WebSocketOutboundWriter,
                       logger: Logger) async throws {
        var messages = inbound.messages(maxSize: Self.maxMessage).makeAsyncIterator()
        guard let auth = try await credential(&messages, outbound), let token = auth.token else { return }
        let changes = service.signals.subscribe(tenantId: site.tenantId, chatId: chatId)
        // As the widget's routes: a chat is not confirmed to strangers.
        guard Hashing.constantTimeEquals(token, service.visitorToken(chatId)),
              let chat = try await texts.get(tenantId: site.tenantId, id: chatId), chat.siteId == site.id, chat.kind == .chat else {
            try await outbound.close(.policyViolation, reason: "chat not found")
            return
        }
        let shown = Shown(min(max(0, auth.after ?? 0), chat.transcript.count))
        guard try await push(chat, shown, outbound) else { return }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in changes {
                    do {
                        guard let now = try await texts.get(tenantId: site.tenantId, id: chatId),
                              try await push(now, shown, outbound) else { return }
                    } catch {
                        logger.debug("live chat push failed", metadata: ["error": "\(error)"])
                    }
                }
            }
            // The widget only listens here; reading keeps the close handshake and the pings going.
            while try await messages.next() != nil {}
            group.cancelAll()
        }
    }

    /// How far the visitor's widget has been told.
    final class Shown: @unchecked Sendable {
        private let lock = NSLock()
        private var count: Int
        private var state = ""
        init(_ count: Int) { self.count = count }
        /// The messages after what was sent, and whether anything (messages, state) is new; marks it sent.
        func take(_ chat: TextCommunication) -> (after: Int, new: Bool) {
            lock.withLock {
                let after = min(count, chat.transcript.count)
                let new = chat.transcript.count > after || chat.state != state
                count = chat.transcript.count
                state = chat.state
                return (after, new)
            }
        }
    }

    /// Sends what is new in the chat; false once it is finished (the socket is then closed: nothing more will come).
    func push(_ chat: TextCommunication, _ shown: Shown, _ outbound: WebSocketOutboundWriter) async throws -> Bool {
        let (after, new) = shown.take(chat)
        if new {
            try await send(outbound, VisitorUpdate(chatId: chat.id, state: chat.state, messages: Array(chat.transcript.dropFirst(after)),
                                                   total: chat.transcript.count))
        }
        guard chat.state != "finished" else {
            try await outbound.close(.normalClosure, reason: "the chat is finished")
            return false
        }
        return true
    }
}
