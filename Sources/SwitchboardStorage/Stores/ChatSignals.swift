import Foundation

/// Tells the live chat sockets (the operators' workspace, the visitor's widget) that a chat changed, so they read it
/// again and push what is new. The store stays the only truth: a signal carries ids, never the chat.
///
/// A change `TextStore` commits reaches this instance's sockets at once. On PostgreSQL it is also announced with
/// NOTIFY on the jobs' channel (`JobQueue.notifyChannel`, which every instance already listens to), and each other
/// instance's listener hands the payload to `receive(payload:)`; the announcing instance skips its own.
public final class ChatSignals: @unchecked Sendable {
    /// A chat of a tenant changed; no chat id means any of the tenant's chats may have (after a lost listener).
    public struct Change: Sendable, Equatable {
        public var tenantId: String?
        public var chatId: String?
        public init(tenantId: String?, chatId: String?) {
            self.tenantId = tenantId
            self.chatId = chatId
        }
    }

    static let prefix = "chat "
    /// This instance's mark on what it announces.
    let origin = Hashing.randomToken(prefix: "", bytes: 8)
    private let lock = NSLock()
    private var subscribers: [Int: (tenantId: String, chatId: String?, continuation: AsyncStream<Change>.Continuation)] = [:]
    private var next = 0

    public init() {}

    /// The changes of one tenant's chats (or of one chat), from now until the stream is dropped. A slow reader misses
    /// nothing that matters: it reads the chat again anyway, so only the newest signals are kept.
    public func subscribe(tenantId: String, chatId: String? = nil) -> AsyncStream<Change> {
        let (stream, continuation) = AsyncStream.makeStream(of: Change.self, bufferingPolicy: .bufferingNewest(32))
        let id: Int = lock.withLock {
            next += 1
            subscribers[next] = (tenantId, chatId, continuation)
            return next
        }
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            _ = self.lock.withLock { self.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// How many sockets listen now (for tests and metrics).
    public var listening: Int { lock.withLock { subscribers.count } }

    /// Passes a change to the subscribers it concerns; a change without a tenant concerns everyone.
    public func publish(_ change: Change) {
        let targets = lock.withLock {
            subscribers.values.filter { s in
                guard let tenantId = change.tenantId else { return true }
                return s.tenantId == tenantId && (s.chatId == nil || change.chatId == nil || s.chatId == change.chatId)
            }.map(\.continuation)
        }
        for continuation in targets { continuation.yield(change) }
    }

    /// The NOTIFY payload that announces a change of `chatId` to the other instances (`origin`: the announcing one's).
    static func payload(origin: String, tenantId: String, chatId: String) -> String { "\(prefix)\(origin) \(tenantId) \(chatId)" }

    /// Takes a NOTIFY payload from the listener: true when it was a chat's (then passed on unless this instance sent it).
    public func receive(payload: String) -> Bool {
        guard payload.hasPrefix(Self.prefix) else { return false }
        let parts = payload.dropFirst(Self.prefix.count).split(separator: " ").map(String.init)
        guard parts.count == 3 else { return true }
        if parts[0] != origin { publish(Change(tenantId: parts[1], chatId: parts[2])) }
        return true
    }

    /// The listener (re)connected: what other instances announced meanwhile is unknown, so every socket reads again.
    public func everythingMayHaveChanged() { publish(Change(tenantId: nil, chatId: nil)) }
}
