import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import NIOWebSocket
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

/// A WebSocket client for a test: connects in the background, sends the `auth` message, keeps what the server sends
/// and how it closed, and sends what the test asks.
final class LiveSocket: @unchecked Sendable {
    private let lock = NSLock()
    private var received: [JSONValue] = []
    private var writer: WebSocketOutboundWriter?
    private(set) var closeFrame: WebSocketCloseFrame?
    private var ended = false
    private var task: Task<Void, Never>?

    var messages: [JSONValue] { lock.withLock { received } }
    var isClosed: Bool { lock.withLock { ended } }
    var closeCode: WebSocketErrorCode? { lock.withLock { closeFrame?.closeCode } }
    var closeReason: String? { lock.withLock { closeFrame?.reason } }

    static func open(_ url: String, auth: String) -> LiveSocket {
        let socket = LiveSocket()
        socket.task = Task {
            let frame = try? await WebSocketClient.connect(url: url, logger: testLogger()) { inbound, outbound, _ in
                socket.lock.withLock { socket.writer = outbound }
                try await outbound.writeTextMessage(auth)
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    guard case .text(let text) = message, let json = try? JSON.decode(JSONValue.self, from: text) else { continue }
                    socket.lock.withLock { socket.received.append(json) }
                }
            }
            socket.lock.withLock {
                socket.closeFrame = frame ?? nil
                socket.ended = true
            }
        }
        return socket
    }

    func send(_ text: String) async throws {
        try await eventually("the socket to open") { lock.withLock { writer != nil } }
        try await lock.withLock { writer! }.writeTextMessage(text)
    }

    /// The first message received (from the `from`th on) that `match` accepts.
    @discardableResult
    func next(_ what: String, from: Int = 0, _ match: @escaping (JSONValue) -> Bool) async throws -> JSONValue {
        var found: JSONValue?
        try await eventually(what) {
            found = messages.dropFirst(from).first(where: match)
            return found != nil
        }
        return found!
    }

    func close() async {
        task?.cancel()
        await task?.value
    }
}

@Suite("Texts: the chats live over WebSocket")
struct LiveChatTests {
    static func post(_ http: HTTPClient, _ url: String, _ json: String, headers: [(String, String)] = []) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await http.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        #expect(response.status.code < 300, "\(url): \(String(buffer: body))")
        return try JSON.decode(JSONValue.self, from: String(buffer: body))
    }

    static func isChat(_ id: String, where test: @escaping (JSONValue) -> Bool = { _ in true }) -> (JSONValue) -> Bool {
        { m in m["type"]?.stringValue == "chat" && m["chat"]?["id"]?.stringValue == id && test(m["chat"]!) }
    }

    static func texts(_ chat: JSONValue?) -> [String] {
        guard case .array(let messages)? = chat?["transcript"] ?? chat?["messages"] else { return [] }
        return messages.compactMap { $0["text"]?.stringValue }
    }

    @Test("a visitor's message reaches the operator's socket, the answer sent over it reaches the visitor's, the end closes it; stored and queued as through the routes",
          arguments: Backend.available)
    func visitorToOperatorAndBack(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            let site = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Shop", origins: [], requestTypes: [])
            _ = try await TextsAPITests.integration(sb, a.id, crm: .bitrix24, texts: #"{"chats":{"enabled":true,"trigger":"started"}}"#)
            let workspace = ChatsAPI(sb: sb).workspaceToken(tenantId: a.id, expires: Date().addingTimeInterval(600))
            try await withLiveSwitchboard(sb, workers: false) { base in
                let ws = base.replacingOccurrences(of: "http://", with: "ws://")
                let chats = "\(base)/public/v1/sites/\(site.key)/widget/chats"
                let http = HTTPClient.shared
                let operatorSocket = LiveSocket.open("\(ws)/api/v1/chats/live", auth: #"{"type":"auth","token":"\#(workspace)"}"#)
                try await operatorSocket.next("the open chats, none yet") { $0["type"]?.stringValue == "chats" && $0["chats"] == .array([]) }

                // A visitor starts a chat: the operator is told at once, the widget's socket opens on it.
                let started = try await Self.post(http, chats, #"{"text":"Есть доставка?"}"#)
                let chatId = try #require(started["chatId"]?.stringValue), token = try #require(started["token"]?.stringValue)
                try await operatorSocket.next("the new chat", Self.isChat(chatId) { Self.texts($0) == ["Есть доставка?"] })
                let visitorSocket = LiveSocket.open("\(ws)/public/v1/sites/\(site.key)/widget/chats/\(chatId)/live",
                                                    auth: #"{"type":"auth","token":"\#(token)","after":1}"#)
                try await visitorSocket.next("the chat as the widget shows it") { $0["type"]?.stringValue == "chat" && $0["total"] == .number(1) }
                _ = try await Self.post(http, "\(chats)/\(chatId)/messages", #"{"text":"В Тверь"}"#, headers: [("X-Chat-Token", token)])
                try await operatorSocket.next("the visitor's second message",
                                              Self.isChat(chatId) { Self.texts($0) == ["Есть доставка?", "В Тверь"] })

                // The operator answers over the socket: the answer is stored, confirmed, and pushed to the visitor.
                try await operatorSocket.send(#"{"type":"message","ref":"a1","chatId":"\#(chatId)","text":"Да, за два дня.","name":"Анна"}"#)
                let done = try await operatorSocket.next("the answer confirmed") { $0["type"]?.stringValue == "done" && $0["ref"]?.stringValue == "a1" }
                #expect(Self.texts(done["chat"]).last == "Да, за два дня.")
                let pushed = try await visitorSocket.next("the answer on the widget") { Self.texts($0) == ["Да, за два дня."] }
                #expect(pushed["total"] == .number(3))
                guard case .array(let answer)? = pushed["messages"] else { throw TestFailure("no messages in \(pushed)") }
                #expect(answer.first?["author"]?.stringValue == "operator" && answer.first?["name"]?.stringValue == "Анна")

                // A refused command says why, under its ref.
                try await operatorSocket.send(#"{"type":"message","ref":"a2","chatId":"\#(chatId)","text":"   "}"#)
                let refused = try await operatorSocket.next("the empty answer refused") { $0["ref"]?.stringValue == "a2" }
                #expect(refused["type"]?.stringValue == "error" && refused["status"] == .number(422))

                // The end: the visitor's socket hears it and closes; the operator's stays.
                try await operatorSocket.send(#"{"type":"finish","ref":"f1","chatId":"\#(chatId)"}"#)
                try await operatorSocket.next("the end confirmed") { $0["ref"]?.stringValue == "f1" && $0["chat"]?["state"]?.stringValue == "finished" }
                try await visitorSocket.next("the end on the widget") { $0["state"]?.stringValue == "finished" }
                try await eventually("the visitor's socket to close") { visitorSocket.isClosed }
                #expect(visitorSocket.closeCode == .normalClosure)
                #expect(!operatorSocket.isClosed)
                await operatorSocket.close()
                await visitorSocket.close()
                try await eventually("the sockets to be let go") { sb.chatSignals.listening == 0 }
            }
            let chat = try #require(try await TextStore(db: sb.db).list(tenantId: a.id, kind: .chat).first)
            #expect(chat.transcript.map(\.text) == ["Есть доставка?", "В Тверь", "Да, за два дня."] && chat.state == "finished")
            #expect(chat.transcript.last?.author == .operator_)
            // The socket's end made the same job as the route's.
            #expect(try await sb.queue.list(tenantId: a.id).map(\.kind).sorted() == ["bitrix24.chat.finished", "bitrix24.chat.started"])
        }
    }

    @Test("PostgreSQL: a visitor's message stored by another instance reaches the operator's socket (NOTIFY), and the answer comes back",
          arguments: Backend.available.filter { $0 == .postgres })
    func acrossInstances(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { one in
            let a = try await TestTenant.make(one)
            let site = try await TextStore(db: one.db).createSite(tenantId: a.id, name: "Shop", origins: [], requestTypes: [])
            let two = try await Switchboard.open(config: one.config, logger: testLogger())
            do {
                try await withLiveSwitchboard(one, workers: false) { first in
                    try await withLiveSwitchboard(two, workers: false) { second in
                        let operatorSocket = LiveSocket.open(first.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/chats/live",
                                                             auth: #"{"type":"auth","token":"\#(a.token)"}"#)
                        try await operatorSocket.next("the open chats") { $0["type"]?.stringValue == "chats" }
                        let chats = "\(second)/public/v1/sites/\(site.key)/widget/chats"
                        let started = try await Self.post(HTTPClient.shared, chats, #"{"text":"С другого сервера"}"#)
                        let chatId = try #require(started["chatId"]?.stringValue), token = try #require(started["token"]?.stringValue)
                        try await operatorSocket.next("the chat stored by the other instance", Self.isChat(chatId))
                        let visitorSocket = LiveSocket.open(
                            second.replacingOccurrences(of: "http://", with: "ws://") + "/public/v1/sites/\(site.key)/widget/chats/\(chatId)/live",
                            auth: #"{"type":"auth","token":"\#(token)","after":1}"#)
                        try await visitorSocket.next("the widget's socket open") { $0["total"] == .number(1) }
                        try await operatorSocket.send(#"{"type":"message","ref":"a","chatId":"\#(chatId)","text":"Отвечаю с первого"}"#)
                        try await visitorSocket.next("the answer from the other instance") { Self.texts($0) == ["Отвечаю с первого"] }
                        await operatorSocket.close()
                        await visitorSocket.close()
                    }
                }
                try await eventually("both instances' sockets to be let go") { one.chatSignals.listening == 0 && two.chatSignals.listening == 0 }
            } catch {
                await two.shutdown()
                throw error
            }
            await two.shutdown()
        }
    }

    @Test("an open socket outlives the HTTP head, body and idle timers, holds its address's place in the connection limit, and is closed by a graceful shutdown")
    func socketAndServerLimits() async throws {
        try await withSwitchboard(.sqlite, configure: {
            $0.httpHeaderTimeoutMs = 1000
            $0.httpBodyTimeoutMs = 1000
            $0.httpIdleTimeoutMs = 1000
            $0.maxConnectionsPerAddress = 1
        }) { sb in
            let a = try await TestTenant.make(sb)
            let site = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Shop", origins: [], requestTypes: [])
            let socket = try await withLiveSwitchboard(sb, workers: false) { base in
                let port = try #require(Int(base.split(separator: ":").last ?? ""))
                let socket = LiveSocket.open(base.replacingOccurrences(of: "http://", with: "ws://") + "/api/v1/chats/live",
                                             auth: #"{"type":"auth","token":"\#(a.token)"}"#)
                try await socket.next("the open chats") { $0["type"]?.stringValue == "chats" }
                // Longer than every HTTP timer.
                try await Task.sleep(for: .milliseconds(1500))
                #expect(!socket.isClosed)
                // The address's one place is the socket's.
                let refused = try await RawConnection.open(port: port)
                try await refused.waitClosed("a second connection from the socket's address to be refused")
                // A visitor elsewhere starts a chat; the socket, still open, hears it. The visitor's connection has the
                // same one-second timers: on a loaded machine the server may close it before it reads the request, and
                // then the visitor connects again.
                let json = #"{"text":"hello"}"#
                var answer = ""
                for _ in 0..<5 where !answer.hasPrefix("HTTP/1.1 201") {
                    let visitor = try await RawConnection.open(port: port, from: "127.0.0.2")
                    try await visitor.send("POST /public/v1/sites/\(site.key)/widget/chats HTTP/1.1\r\nHost: test\r\n"
                                           + "Content-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)")
                    try await eventually("the visitor's answer, or its connection closed") {
                        visitor.inbox.received.contains("\r\n\r\n") || visitor.isClosed
                    }
                    answer = visitor.inbox.received
                    await visitor.close()
                }
                #expect(answer.hasPrefix("HTTP/1.1 201"), "\(answer)")
                try await socket.next("the chat") { $0["type"]?.stringValue == "chat" && Self.texts($0["chat"]) == ["hello"] }
                return socket
            }
            // The server's graceful shutdown closes a socket still open (the page then polls and reconnects).
            try await eventually("the socket closed by the shutdown") { socket.isClosed }
            #expect(socket.closeCode == .normalClosure)
            await socket.close()
        }
    }

    @Test("a bad, expired or foreign token closes the socket with 1008 and the reason; so does a first message that is not auth",
          arguments: Backend.available)
    func badTokens(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb), b = try await TestTenant.make(sb, name: "Other")
            let site = try await TextStore(db: sb.db).createSite(tenantId: a.id, name: "Shop", origins: [], requestTypes: [])
            let expired = ChatsAPI(sb: sb).workspaceToken(tenantId: a.id, expires: Date().addingTimeInterval(-1))
            let forged = ChatsAPI(sb: sb).workspaceToken(tenantId: a.id, expires: Date().addingTimeInterval(600)) + "0"
            try await withLiveSwitchboard(sb, workers: false) { base in
                let ws = base.replacingOccurrences(of: "http://", with: "ws://")
                let started = try await Self.post(HTTPClient.shared, "\(base)/public/v1/sites/\(site.key)/widget/chats", #"{"text":"Привет"}"#)
                let chatId = try #require(started["chatId"]?.stringValue), token = try #require(started["token"]?.stringValue)
                let other = try await Self.post(HTTPClient.shared, "\(base)/public/v1/sites/\(site.key)/widget/chats", #"{"text":"Ещё"}"#)
                let otherId = try #require(other["chatId"]?.stringValue)

                let refusals: [(String, String, String)] = [
                    ("/api/v1/chats/live", #"{"type":"auth","token":"\#(expired)"}"#, "expired"),
                    ("/api/v1/chats/live", #"{"type":"auth","token":"\#(forged)"}"#, "not valid"),
                    ("/api/v1/chats/live", #"{"type":"auth","token":"sbk_nobody"}"#, "not valid"),
                    ("/api/v1/chats/live", #"{"type":"message","chatId":"\#(chatId)","text":"hi"}"#, "auth"),
                    ("/public/v1/sites/\(site.key)/widget/chats/\(chatId)/live", #"{"type":"auth","token":"nope"}"#, "not found"),
                    // Another chat's token does not open this one.
                    ("/public/v1/sites/\(site.key)/widget/chats/\(otherId)/live", #"{"type":"auth","token":"\#(token)"}"#, "not found"),
                ]
                for (path, auth, reason) in refusals {
                    let socket = LiveSocket.open(ws + path, auth: auth)
                    try await eventually("\(path) refused") { socket.isClosed }
                    #expect(socket.closeCode == .policyViolation, "\(path) \(auth)")
                    #expect(socket.closeReason?.contains(reason) == true, "\(path): \(socket.closeReason ?? "no reason")")
                    #expect(socket.messages.isEmpty)
                    await socket.close()
                }
                // Another tenant's API token opens its own chats, not these.
                let foreign = LiveSocket.open("\(ws)/api/v1/chats/live", auth: #"{"type":"auth","token":"\#(b.token)"}"#)
                try await foreign.next("the other tenant's chats") { $0["type"]?.stringValue == "chats" && $0["chats"] == .array([]) }
                try await foreign.send(#"{"type":"finish","ref":"x","chatId":"\#(chatId)"}"#)
                let refused = try await foreign.next("another tenant's chat refused") { $0["ref"]?.stringValue == "x" }
                #expect(refused["status"] == .number(404))
                await foreign.close()
            }
            #expect(try await TextStore(db: sb.db).list(tenantId: a.id, kind: .chat, state: "open").count == 2)
        }
    }
}
