import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardApp
import Testing

/// Runs `app` on a real socket for the duration of `body`, which gets the server's base URL.
///
/// Nothing here waits without end: a server that stops before it listens fails the test with its reason, and one
/// that has not stopped `stopLimit` after its graceful shutdown began is recorded as an issue of the test (naming
/// what it still runs is up to its log) and cancelled, so a stuck shutdown shows as a failure, not as a hung run.
func withLiveApplication<A: ApplicationProtocol, T>(_ makeApp: (@escaping @Sendable (Int) async -> Void) -> A,
                                                    stopLimit: Duration = .seconds(60),
                                                    _ body: (String) async throws -> T) async throws -> T {
    let box = PortBox()
    let app = makeApp { await box.set($0) }
    let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: testLogger())
    let task = box.run { try await group.run() }
    let port = try await box.get()
    do {
        let result = try await body("http://127.0.0.1:\(port)")
        await stop(group, task, limit: stopLimit)
        return result
    } catch {
        await stop(group, task, limit: stopLimit)
        throw error
    }
}

/// Shuts `group` down gracefully and waits for `task` (its run) at most `limit`; past that, records an issue, cancels
/// it and waits once more as long (then leaves it).
private func stop(_ group: ServiceGroup, _ task: Task<Void, any Error>, limit: Duration) async {
    await group.triggerGracefulShutdown()
    if await ended(task, within: limit) { return }
    Issue.record("the live server had not stopped \(limit) after its graceful shutdown began; cancelled")
    task.cancel()
    if await !ended(task, within: limit) { Issue.record("the live server did not stop even when cancelled") }
}

/// Whether `task` ends within `limit`; the wait for it is not a child task, so a task that never ends holds up nobody.
func ended(_ task: Task<Void, any Error>, within limit: Duration) async -> Bool {
    await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
        let answered = Guarded(false)
        let answer: @Sendable (Bool) -> Void = { value in
            let first = answered.withLock { done -> Bool in
                defer { done = true }
                return !done
            }
            if first { c.resume(returning: value) }
        }
        let timer = Task { try? await Task.sleep(for: limit); answer(false) }
        Task { _ = try? await task.value; answer(true); timer.cancel() }
    }
}

/// Runs Switchboard itself (HTTP and, unless told otherwise, its workers) on a free port.
func withLiveSwitchboard<T>(_ sb: Switchboard, workers: Bool = true, _ body: (String) async throws -> T) async throws -> T {
    try await withLiveApplication({ onRunning in sb.buildApplication(workers: workers, onRunning: onRunning) }, body)
}
