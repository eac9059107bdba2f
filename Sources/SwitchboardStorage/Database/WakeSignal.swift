import Foundation

/// Wakes a waiting worker at once; a signal sent while nobody waits is kept for the next wait.
public final class WakeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var pending = false
    private var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    private var cancelled: Set<UUID> = []

    public init() {}

    public func signal() {
        lock.lock()
        let all = waiters
        waiters = [:]
        if all.isEmpty { pending = true }
        lock.unlock()
        for (_, c) in all { c.resume() }
    }

    /// Returns on a signal, after `timeout`, or when the task is cancelled.
    public func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.waitForSignal() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForSignal() async {
        let id = UUID()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                lock.lock()
                if cancelled.remove(id) != nil || pending {
                    if !Task.isCancelled { pending = false }
                    lock.unlock()
                    c.resume()
                    return
                }
                waiters[id] = c
                lock.unlock()
            }
        } onCancel: {
            lock.lock()
            let c = waiters.removeValue(forKey: id)
            if c == nil { cancelled.insert(id) }
            lock.unlock()
            c?.resume()
        }
    }
}
