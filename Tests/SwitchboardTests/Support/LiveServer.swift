import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardApp

/// Runs `app` on a real socket for the duration of `body`, which gets the server's base URL.
func withLiveApplication<A: ApplicationProtocol, T>(_ makeApp: (@escaping @Sendable (Int) async -> Void) -> A,
                                                    _ body: (String) async throws -> T) async throws -> T {
    let box = PortBox()
    let app = makeApp { await box.set($0) }
    let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: testLogger())
    let task = Task { try await group.run() }
    let port = await box.get()
    do {
        let result = try await body("http://127.0.0.1:\(port)")
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        return result
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
        throw error
    }
}

/// Runs Switchboard itself (HTTP and, unless told otherwise, its workers) on a free port.
func withLiveSwitchboard<T>(_ sb: Switchboard, workers: Bool = true, _ body: (String) async throws -> T) async throws -> T {
    try await withLiveApplication({ onRunning in sb.buildApplication(workers: workers, onRunning: onRunning) }, body)
}
