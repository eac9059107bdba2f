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

/// Hands over the port a server bound to (it may have asked for port 0) to whoever waits for it.
public actor PortBox {
    private var port: Int?
    private var waiters: [CheckedContinuation<Int, Never>] = []

    public init() {}

    public func set(_ p: Int) {
        port = p
        waiters.forEach { $0.resume(returning: p) }
        waiters = []
    }

    public func get() async -> Int {
        if let port { return port }
        return await withCheckedContinuation { waiters.append($0) }
    }
}
