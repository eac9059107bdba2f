import Foundation

/// A value behind a lock.
public final class LockedValue<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: T

    public init(_ value: T) { _value = value }

    public var value: T {
        get { lock.withLock { _value } }
        set { lock.withLock { _value = newValue } }
    }
}

/// Hands over the port a server bound to (it may have asked for port 0) to whoever waits for it, or the reason it
/// never will (`fail`: the server stopped before it listened), so nobody waits for a port forever.
public actor PortBox {
    private var port: Int?
    private var failure: (any Error)?
    private var waiters: [CheckedContinuation<Int, any Error>] = []

    public init() {}

    public func set(_ p: Int) {
        port = p
        waiters.forEach { $0.resume(returning: p) }
        waiters = []
    }

    /// The server will not listen (it stopped or failed first); a port set before stays valid.
    public func fail(_ error: any Error) {
        guard port == nil, failure == nil else { return }
        failure = error
        waiters.forEach { $0.resume(throwing: error) }
        waiters = []
    }

    public func get() async throws -> Int {
        if let port { return port }
        if let failure { throw failure }
        return try await withCheckedThrowingContinuation { waiters.append($0) }
    }

    /// The server ended without an error before it listened.
    public struct NeverListened: Error, CustomStringConvertible {
        public var description: String { "the server stopped before it listened" }
    }

    /// Runs `server` (its whole life: listen, serve, stop) in a task; should it end before the port is set, with its
    /// error or `NeverListened`, whoever waits in `get` is told so instead of waiting forever.
    public nonisolated func run(_ server: @escaping @Sendable () async throws -> Void) -> Task<Void, any Error> {
        Task {
            do { try await server() } catch { await fail(error); throw error }
            await fail(NeverListened())
        }
    }
}
