import Foundation
import Logging
import ServiceLifecycle
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardSimulator
import SwitchboardStorage

/// A job that runs until it is cancelled, and then fails the way a cancelled CRM request does.
final class BlockingJob: JobHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var _started = 0
    private var _cancelled = 0
    var started: Int { lock.withLock { _started } }
    var cancelled: Int { lock.withLock { _cancelled } }

    func run(_ job: Job, log: AttemptLog) async throws {
        lock.withLock { _started += 1 }
        do {
            try await Task.sleep(for: .seconds(3600))
        } catch {
            lock.withLock { _cancelled += 1 }
            throw DeliveryError.retryable(.test("the CRM request was cancelled"))
        }
    }
}

@Suite("HTTP server: timeouts, connections per address, graceful shutdown")
struct ServerProtectionTests {
    /// Runs Switchboard's application on a free port until `body` ends, then cancels it.
    func withServer<T>(_ sb: Switchboard, workers: Bool = false, drain: ShutdownDrain? = nil,
                       _ body: (Int, ServiceGroup) async throws -> T) async throws -> T {
        let box = PortBox()
        let app = sb.buildApplication(workers: workers, drain: drain) { await box.set($0) }
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], logger: testLogger())
        let task = box.run { try await group.run() }
        let port = try await box.get()
        do {
            let result = try await body(port, group)
            task.cancel()
            if await !ended(task, within: .seconds(60)) { Issue.record("the server did not stop when cancelled") }
            return result
        } catch {
            task.cancel()
            if await !ended(task, within: .seconds(60)) { Issue.record("the server did not stop when cancelled") }
            throw error
        }
    }

    func open(_ config: (inout AppConfig) -> Void, log: CapturedLog? = nil,
              handlers: [String: any JobHandler] = [:]) async throws -> (Switchboard, TestStorage) {
        let storage = try await TestStorage.make(.sqlite)
        var c = storage.config
        config(&c)
        let sb = try await Switchboard.open(config: c, logger: log?.logger(level: .warning) ?? testLogger(), handlers: handlers)
        return (sb, storage)
    }

    @Test("a server that cannot listen (its port taken) fails the test that starts it, with the reason, instead of hanging")
    func portTaken() async throws {
        try await withSwitchboard(.sqlite) { first in
            try await withLiveSwitchboard(first, workers: false) { base in
                let port = try #require(URLComponents(string: base)?.port)
                try await withSwitchboard(.sqlite, configure: { $0.port = port }) { second in
                    let error = await #expect(throws: (any Error).self) {
                        try await withLiveSwitchboard(second, workers: false) { _ in Issue.record("a second server listened on \(port)") }
                    }
                    // The bind's own error, not the helper's fallback for a server that ended quietly.
                    #expect(error != nil && !(error is PortBox.NeverListened))
                }
            }
        }
    }

    @Test("a head or a body sent slowly is cut off at its timeout; an idle kept-alive connection is not")
    func slowClients() async throws {
        let log = CapturedLog()
        let (sb, storage) = try await open({
            // Short, but long enough for a loaded machine (the whole suite runs side by side on two cores) to open a
            // connection and send a whole request in.
            $0.httpHeaderTimeoutMs = 3000
            $0.httpBodyTimeoutMs = 3000
            $0.httpIdleTimeoutMs = 600_000
        }, log: log)
        try await withServer(sb) { port, _ in
            // A kept-alive connection that answered a request and then waits longer than the head timeout.
            let idle = try await RawConnection.open(port: port)
            #expect(try await idle.get("/healthz").hasPrefix("HTTP/1.1 200"))
            try await Task.sleep(for: .milliseconds(3500))

            // A head that never ends: a header line now and then, as a slow client sends it.
            let slowHead = try await RawConnection.open(port: port)
            try await slowHead.send("GET /healthz HTTP/1.1\r\nHost: test\r\n")
            try await slowHead.trickle("X-Slow: 1\r\n", until: "the server to close a connection whose head never ends")
            #expect(slowHead.inbox.received.isEmpty)

            // A body that trickles in, a byte now and then.
            let slowBody = try await RawConnection.open(port: port)
            try await slowBody.send("POST /pbx/itoolabs/c-1 HTTP/1.1\r\nHost: test\r\nContent-Length: 1000\r\n\r\n")
            try await slowBody.trickle("x", until: "the server to close a connection whose body never ends")

            // The idle connection outlived both (its idle timeout is long) and still answers.
            #expect(!idle.isClosed)
            #expect(try await idle.get("/healthz").hasPrefix("HTTP/1.1 200"))
            await idle.close()
        }
        let cut = log.lines.map(\.message)
        #expect(cut.contains("HTTP connection closed: request head not complete in time"))
        #expect(cut.contains("HTTP connection closed: request body not complete in time"))
        await sb.shutdown()
        await storage.cleanUp()
    }

    @Test("beyond the per-address limit new connections are refused, while another address is served")
    func connectionsPerAddress() async throws {
        let log = CapturedLog()
        let (sb, storage) = try await open({ $0.maxConnectionsPerAddress = 3 }, log: log)
        try await withServer(sb) { port, _ in
            var held: [RawConnection] = []
            for _ in 0..<3 {
                let c = try await RawConnection.open(port: port)
                #expect(try await c.get("/healthz").hasPrefix("HTTP/1.1 200"))
                held.append(c)
            }
            // Past the limit: closed at once, nothing answered.
            for _ in 0..<8 {
                let refused = try await RawConnection.open(port: port)
                try? await refused.send("GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
                try await refused.waitClosed("the server to refuse a connection past the limit")
                #expect(refused.inbox.received.isEmpty)
            }
            // Another client address is served.
            let other = try await RawConnection.open(port: port, from: "127.0.0.2")
            #expect(try await other.get("/healthz").hasPrefix("HTTP/1.1 200"))
            // Once one connection closes, its address may open another.
            await held.removeFirst().close()
            try await eventually("a place to be free again") {
                let c = try await RawConnection.open(port: port)
                try? await c.send("GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
                try await eventually("an answer or a refusal") { c.isClosed }
                return c.inbox.received.hasPrefix("HTTP/1.1 200")
            }
            for c in held + [other] { await c.close() }
        }
        // Logged when it bit, a few times a minute per address, not once per connection.
        let refusals = log.lines("HTTP connection refused: too many open connections from one address")
        #expect(refusals.count == 5)
        #expect(refusals.allSatisfy { $0.metadata["remote"] == "127.0.0.1" && $0.metadata["limit"] == "3" })
        await sb.shutdown()
        await storage.cleanUp()
    }

    @Test("on shutdown: requests get Connection: close, running jobs are handed back at once, PBX events are still acknowledged",
          arguments: Backend.available)
    func gracefulShutdown(_ backend: Backend) async throws {
        let handler = BlockingJob()
        let storage = try await TestStorage.make(backend)
        let sb = try await Switchboard.open(config: storage.config, logger: testLogger(), handlers: ["test.block": handler])
        let fx = try await PBXFixture.make(sb, protocol: .itoolabs)
        let jobId = try #require(try await sb.queue.enqueue(JobSpec(tenantId: fx.tenant.id, partitionKey: "p", kind: "test.block",
                                                                    payload: "{}")))
        // A drain longer than the test: the checks below happen inside it; the test ends it by cancelling.
        let drain = ShutdownDrain(period: .seconds(600))
        try await withServer(sb, workers: true, drain: drain) { port, group in
            try await eventually("the job to start") { handler.started == 1 }
            let kept = try await RawConnection.open(port: port)
            var response = try await kept.get("/healthz")
            #expect(response.hasPrefix("HTTP/1.1 200") && !response.lowercased().contains("connection: close"))

            await group.triggerGracefulShutdown()
            try await eventually("the drain to begin") { drain.isDraining }
            // The running job is handed back at once: released, its attempt not counted, and not run again here.
            try await eventually("the running job to be handed back") {
                try await sb.queue.get(tenantId: fx.tenant.id, id: jobId)?.state == .queued
            }
            #expect(try await sb.queue.get(tenantId: fx.tenant.id, id: jobId)?.attempts == 0)
            #expect(handler.cancelled == 1)

            // The kept-alive connection is answered, told to close, and closed after the answer.
            response = try await kept.get("/healthz")
            #expect(response.hasPrefix("HTTP/1.1 200") && response.lowercased().contains("connection: close"))
            try await kept.waitClosed("the server to close the connection after its answer")

            // A PBX event is still acknowledged.
            let reply = try await fx.player("http://127.0.0.1:\(port)").send(.itoolabs([
                "cmd": "event", "type": "INCOMING", "callid": "drain-1", "user": "ivan", "phone": "79101112233",
            ]))
            #expect(reply.status == 200)
            #expect(try await sb.calls.find(connectionId: fx.connection.id, externalId: "drain-1") != nil)
            #expect(handler.started == 1)
        }
        await sb.shutdown()
        await storage.cleanUp()
    }
}
