import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardDelivery
@testable import SwitchboardStorage

/// A job handler for queue tests: records what ran, and fails as told.
final class RecordingHandler: JobHandler, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var runs: [(id: Int64, payload: String, worker: String)] = []
    private var current = 0
    private(set) var maxConcurrent = 0
    let worker: String
    let behaviour: @Sendable (Job) async throws -> Void

    init(worker: String = "", behaviour: @escaping @Sendable (Job) async throws -> Void = { _ in }) {
        self.worker = worker
        self.behaviour = behaviour
    }

    func run(_ job: Job, log: AttemptLog) async throws {
        lock.withLock {
            runs.append((job.id, job.payload, worker))
            current += 1
            maxConcurrent = max(maxConcurrent, current)
        }
        defer { lock.withLock { current -= 1 } }
        log.record(Exchange(request: "POST /test \(job.payload)", status: 200, response: "{}"))
        try await behaviour(job)
    }

    var payloads: [String] { lock.withLock { runs.map(\.payload) } }
    var count: Int { lock.withLock { runs.count } }
}

/// Releases waiters once `n` arrivals have come.
actor Barrier {
    let n: Int
    var arrived = 0
    var waiters: [CheckedContinuation<Void, Never>] = []

    init(_ n: Int) { self.n = n }

    func arrive() async {
        arrived += 1
        if arrived >= n {
            waiters.forEach { $0.resume() }
            waiters = []
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }
}

func spec(tenant: String = "ten_q", partition: String, payload: String, maxAttempts: Int = 30) -> JobSpec {
    JobSpec(tenantId: tenant, partitionKey: partition, kind: "test", payload: payload, maxAttempts: maxAttempts)
}

func runWorker(_ sb: Switchboard, _ handler: RecordingHandler, concurrency: Int = 8, lease: Duration = .seconds(30),
               backoff: Backoff = Backoff(base: .milliseconds(10), cap: .milliseconds(50)),
               workerId: String = "w-test", giveUpAfter: Duration = .seconds(86400),
               until done: () async throws -> Bool) async throws {
    var configuration = DeliveryWorker.Configuration(workerId: workerId, concurrency: concurrency, lease: lease,
                                                     backoff: backoff, idlePoll: .milliseconds(200), giveUpAfter: giveUpAfter)
    configuration.backoff = backoff
    let worker = DeliveryWorker(queue: sb.queue, handlers: ["test": handler], configuration: configuration,
                                logger: testLogger())
    let task = Task { await worker.run() }
    do {
        // Generous: the whole suite runs side by side on two cores; a passing run ends as soon as the jobs are done.
        try await eventually(timeout: .seconds(120), "jobs to finish", done)
    } catch {
        worker.stop()
        await task.value
        throw error
    }
    worker.stop()
    await task.value
}

@Suite("Durable delivery queue")
struct QueueTests {
    @Test("jobs of one partition run in order, one at a time", arguments: Backend.available)
    func orderingWithinPartition(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            for i in 0..<40 { try await sb.queue.enqueue(spec(partition: "crm:A", payload: "\(i)")) }
            let handler = RecordingHandler { _ in try await Task.sleep(for: .milliseconds(1)) }
            try await runWorker(sb, handler, concurrency: 8) { handler.count == 40 }
            #expect(handler.payloads == (0..<40).map(String.init))
            #expect(handler.maxConcurrent == 1)
        }
    }

    @Test("different partitions run in parallel", arguments: Backend.available)
    func parallelAcrossPartitions(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            // Each job waits until all four have started: this finishes only if four partitions run at once.
            let barrier = Barrier(4)
            for p in 0..<4 { try await sb.queue.enqueue(spec(partition: "crm:\(p)", payload: "\(p)")) }
            let handler = RecordingHandler { _ in await barrier.arrive() }
            try await runWorker(sb, handler, concurrency: 4) {
                (try await sb.queue.counts()[.done] ?? 0) == 4
            }
            #expect(handler.maxConcurrent == 4)
        }
    }

    @Test("retryable failures are retried with backoff; every attempt is recorded", arguments: Backend.available)
    func retryAndAttempts(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(tenant: "ten_r", partition: "crm:A", payload: "x")))
            let later = try #require(try await sb.queue.enqueue(spec(tenant: "ten_r", partition: "crm:A", payload: "after")))
            let handler = RecordingHandler { job in
                if job.payload == "x" && job.attempts < 3 { throw DeliveryError.retryable(.test("CRM answered 503")) }
            }
            try await runWorker(sb, handler) { try await sb.queue.get(tenantId: "ten_r", id: later)?.state == .done }
            let job = try #require(try await sb.queue.get(tenantId: "ten_r", id: id))
            #expect(job.state == .done)
            #expect(job.attempts == 3)
            // The second job of the partition waited for the first to succeed: order survives retries.
            #expect(handler.payloads == ["x", "x", "x", "after"])
            let attempts = try await sb.queue.attempts(tenantId: "ten_r", jobId: id)
            #expect(attempts.map(\.outcome) == ["retry", "retry", "done"])
            #expect(attempts[0].detail == "CRM answered 503")
            #expect(attempts[0].exchanges.first?.request == "POST /test x")
            #expect(attempts[0].exchanges.first?.status == 200)
        }
    }

    @Test("backoff grows exponentially with jitter and honours Retry-After")
    func backoffShape() {
        let backoff = Backoff(base: .seconds(2), cap: .seconds(600))
        for attempt in 1...12 {
            let ceiling = min(2 * pow(2, Double(attempt - 1)), 600)
            let d = backoff.delay(afterAttempt: attempt, retryAfter: nil).seconds
            #expect(d >= ceiling / 2 - 0.001 && d <= ceiling + 0.001)
        }
        #expect(backoff.delay(afterAttempt: 1, retryAfter: .seconds(30)).seconds >= 30)
        let delays = Set((0..<20).map { _ in backoff.delay(afterAttempt: 6, retryAfter: nil).seconds })
        #expect(delays.count > 1)  // jitter spreads retries
        #expect(DeliveryError.forHTTPStatus(429, reason: .test("")).isRetryable)
        #expect(DeliveryError.forHTTPStatus(503, reason: .test("")).isRetryable)
        #expect(!DeliveryError.forHTTPStatus(400, reason: .test("")).isRetryable)
        #expect(!DeliveryError.forHTTPStatus(404, reason: .test("")).isRetryable)
    }

    @Test("permanent errors go to the dead letters with the reason; replay runs them again", arguments: Backend.available)
    func deadLetterAndReplay(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(tenant: "ten_d", partition: "crm:A", payload: "bad")))
            let fixed = LockedValue(false)
            let handler = RecordingHandler { _ in
                if !fixed.value { throw DeliveryError.permanent(.test("amoCRM refused: pipeline 42 no longer exists")) }
            }
            try await runWorker(sb, handler) { try await sb.queue.get(tenantId: "ten_d", id: id)?.state == .dead }
            var job = try #require(try await sb.queue.get(tenantId: "ten_d", id: id))
            #expect(job.attempts == 1)
            #expect(job.lastError == "amoCRM refused: pipeline 42 no longer exists")
            #expect(try await sb.queue.list(tenantId: "ten_d", state: .dead).map(\.id) == [id])
            #expect(try await sb.queue.list(tenantId: "ten_other", state: .dead).isEmpty)
            #expect(try await sb.queue.replay(tenantId: "ten_other", id: id) == false)

            fixed.value = true
            #expect(try await sb.queue.replay(tenantId: "ten_d", id: id))
            #expect(try await sb.queue.replay(tenantId: "ten_d", id: id) == false)  // already queued
            try await runWorker(sb, handler) { try await sb.queue.get(tenantId: "ten_d", id: id)?.state == .done }
            job = try #require(try await sb.queue.get(tenantId: "ten_d", id: id))
            #expect(job.state == .done)
            let outcomes = try await sb.queue.attempts(tenantId: "ten_d", jobId: id).map(\.outcome)
            #expect(outcomes == ["dead", "done"])
        }
    }

    @Test("retries stop after max attempts (and the give-up time) and the job is dead-lettered", arguments: Backend.available)
    func exhaustedRetries(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:A", payload: "x", maxAttempts: 3)))
            let handler = RecordingHandler { _ in throw DeliveryError.retryable(.test("timeout")) }
            try await runWorker(sb, handler, giveUpAfter: .zero) { try await sb.queue.get(tenantId: "ten_q", id: id)?.state == .dead }
            let job = try #require(try await sb.queue.get(tenantId: "ten_q", id: id))
            #expect(job.attempts == 3)
            #expect(job.lastError?.contains("gave up after 3 attempts: timeout") == true)
        }
    }

    @Test("a job whose worker died is taken over when its lease expires", arguments: Backend.available)
    func leaseExpiry(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:A", payload: "x")))
            // A worker claims the job and dies: it never finishes nor renews the lease.
            let t0 = Date()
            let claimed = try await sb.queue.claim(worker: "w-dead", limit: 10, lease: .milliseconds(300), now: t0)
            #expect(claimed.map(\.id) == [id])
            // While the lease runs (seen from the same instant, whatever the machine's load), nobody else gets it.
            #expect(try await sb.queue.claim(worker: "w-other", limit: 10, lease: .seconds(30), now: t0.addingTimeInterval(0.2)).isEmpty)
            let handler = RecordingHandler()
            try await runWorker(sb, handler, workerId: "w-alive") {
                try await sb.queue.get(tenantId: "ten_q", id: id)?.state == .done
            }
            #expect(handler.count == 1)
            #expect(try await sb.queue.get(tenantId: "ten_q", id: id)?.attempts == 2)
            // The dead worker's late report is refused: it no longer holds the lease.
            let late = try await sb.queue.finish(claimed[0], worker: "w-dead", startedAt: Date(), result: .done, exchanges: [])
            #expect(late == false)
            #expect(try await sb.queue.attempts(tenantId: "ten_q", jobId: id).map(\.worker) == ["w-alive"])
        }
    }

    @Test("graceful stop finishes the job in hand", arguments: Backend.available)
    func gracefulStop(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:A", payload: "x")))
            let started = Barrier(2)
            let handler = RecordingHandler { _ in
                await started.arrive()
                try await Task.sleep(for: .milliseconds(200))
            }
            let worker = DeliveryWorker(queue: sb.queue, handlers: ["test": handler],
                                        configuration: .init(workerId: "w1", concurrency: 2), logger: testLogger())
            let task = Task { await worker.run() }
            await started.arrive()
            worker.stop()
            await task.value
            #expect(try await sb.queue.get(tenantId: "ten_q", id: id)?.state == .done)
        }
    }

    @Test("a job is handed back, not lost, when its worker is cancelled mid-job", arguments: Backend.available)
    func cancelledWorkerReleases(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:A", payload: "x")))
            let started = Barrier(2)
            let handler = RecordingHandler { _ in
                await started.arrive()
                try await Task.sleep(for: .seconds(60))
            }
            let worker = DeliveryWorker(queue: sb.queue, handlers: ["test": handler],
                                        configuration: .init(workerId: "w1", concurrency: 2), logger: testLogger())
            let task = Task { await worker.run() }
            await started.arrive()
            task.cancel()
            await task.value
            let job = try #require(try await sb.queue.get(tenantId: "ten_q", id: id))
            #expect(job.state == .queued)
            #expect(job.attempts == 0)
            #expect(try await sb.queue.attempts(tenantId: "ten_q", jobId: id).map(\.outcome) == ["released"])
        }
    }

    @Test("jobs with one dedupe key are enqueued once", arguments: Backend.available)
    func dedupe(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            var s = spec(partition: "crm:A", payload: "x")
            s.dedupeKey = "call-1:finish"
            let first = try await sb.queue.enqueue(s)
            let second = try await sb.queue.enqueue(s)
            #expect(first != nil)
            #expect(second == nil)
            let jobs = try await sb.queue.list(tenantId: "ten_q")
            #expect(jobs.count == 1)
        }
    }

    @Test("a job enqueued in a transaction that rolls back does not exist", arguments: Backend.available)
    func enqueueIsTransactional(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            struct Boom: Error {}
            await #expect(throws: Boom.self) {
                try await sb.db.transaction { tx in
                    try await sb.queue.enqueue(spec(partition: "crm:A", payload: "x"), in: tx)
                    throw Boom()
                }
            }
            let jobs = try await sb.queue.list(tenantId: "ten_q")
            #expect(jobs.isEmpty)
        }
    }

    @Test("on PostgreSQL, a job enqueued by one instance wakes another instance's idle worker (LISTEN/NOTIFY)")
    func notifyWakesOtherInstance() async throws {
        guard Backend.available.contains(.postgres) else { return }
        let storage = try await TestStorage.make(.postgres)
        let a = try await Switchboard.open(config: storage.config, logger: testLogger())
        let b = try await Switchboard.open(config: storage.config, logger: testLogger())
        // B's worker polls only every 10 minutes: without the notification it would not run the job in this test.
        let handler = RecordingHandler()
        let worker = DeliveryWorker(queue: b.queue, handlers: ["test": handler],
                                    configuration: .init(workerId: "b", concurrency: 2, idlePoll: .seconds(600)), logger: testLogger())
        let pg = try #require(b.db as? PostgresDatabase)
        let listener = Task { try await NotificationService(db: pg, wake: b.queue.wake, routing: b.routing).run() }
        let running = Task { await worker.run() }
        // Let B settle into its long sleep with nothing due, then enqueue on A.
        try await eventually("B's listener to be ready") {
            try await a.db.read { try await $0.one("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND datname = current_database()", []) }?.int("n") ?? 0 > 0
        }
        // B's first (empty) claim has long happened; it now sleeps on its ten-minute poll.
        try await Task.sleep(for: .seconds(1))
        try await a.queue.enqueue(spec(partition: "crm:A", payload: "x"))
        try await eventually(timeout: .seconds(120), "B to run A's job") { handler.count == 1 }
        worker.stop()
        listener.cancel()
        await running.value
        _ = await listener.result
        await a.shutdown(); await b.shutdown()
        await storage.cleanUp()
    }

    @Test("two instances on one PostgreSQL never run the same job twice and keep partition order")
    func twoInstancesOnPostgres() async throws {
        guard Backend.available.contains(.postgres) else { return }
        let storage = try await TestStorage.make(.postgres)
        let a = try await Switchboard.open(config: storage.config, logger: testLogger())
        let b = try await Switchboard.open(config: storage.config, logger: testLogger())
        let total = 300
        for i in 0..<total { try await a.queue.enqueue(spec(partition: "crm:\(i % 10)", payload: "\(i)")) }
        let ha = RecordingHandler(worker: "a")
        let hb = RecordingHandler(worker: "b")
        let wa = a.makeWorker(handlers: ["test": ha], concurrency: 6, lease: .seconds(30), workerId: "instance-a")
        let wb = b.makeWorker(handlers: ["test": hb], concurrency: 6, lease: .seconds(30), workerId: "instance-b")
        let ta = Task { await wa.run() }
        let tb = Task { await wb.run() }
        try await eventually("both instances to drain the queue") { (try await a.queue.counts()[.done] ?? 0) == total }
        wa.stop(); wb.stop()
        await ta.value; await tb.value
        let all = ha.runs + hb.runs
        #expect(all.count == total)
        #expect(Set(all.map(\.id)).count == total)
        #expect(ha.count > 0 && hb.count > 0)
        // Within each partition, jobs started in enqueue order even across instances.
        let attempts = try await a.db.read { r in
            try await r.query("""
                SELECT j.partition_key, j.payload FROM job_attempts a JOIN jobs j ON j.id = a.job_id ORDER BY a.started_at, a.id
                """, [])
        }
        var byPartition: [String: [Int]] = [:]
        for row in attempts { byPartition[row.string("partition_key")!, default: []].append(Int(row.string("payload")!)!) }
        for (_, payloads) in byPartition { #expect(payloads == payloads.sorted()) }
        await a.shutdown(); await b.shutdown()
        await storage.cleanUp()
    }
}

extension DeliveryError {
    var isRetryable: Bool {
        switch self {
        case .retryable, .rateLimited: return true
        case .permanent: return false
        }
    }
    var isRateLimited: Bool { if case .rateLimited = self { return true } else { return false } }
}
