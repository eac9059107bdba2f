import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardDelivery
@testable import SwitchboardStorage

/// A small deterministic generator, so a property run can be repeated from its seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Delivery queue: claims by partition head")
struct QueueFairnessTests {
    @Test("a retry waiting behind a long backlog never stalls the queue, for its partition or any other", arguments: Backend.available)
    func retryBehindBacklog(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            // One job of account A fails once (a single 503) and waits an hour for its retry...
            let first = try #require(try await sb.queue.enqueue(spec(tenant: "ten_a", partition: "crm:A", payload: "a0")))
            let claimed = try await sb.queue.claim(worker: "w", limit: 16, lease: .seconds(30), now: Date().addingTimeInterval(1))
            try #require(claimed.map(\.id) == [first])
            let retryAt = Date().addingTimeInterval(3600)
            #expect(try await sb.queue.finish(claimed[0], worker: "w", startedAt: Date(),
                                              result: .retry(at: retryAt, reason: "503"), exchanges: []))
            // ...while a burst of 200 more calls for A and then 5 for B are queued, all due now.
            for i in 1...200 { try await sb.queue.enqueue(spec(tenant: "ten_a", partition: "crm:A", payload: "a\(i)")) }
            var bIds: [Int64] = []
            for i in 0..<5 { bIds.append(try #require(try await sb.queue.enqueue(spec(tenant: "ten_b", partition: "crm:B", payload: "b\(i)")))) }

            // Before A's retry is due, B runs and A waits (its order survives the outage).
            let early = try await sb.queue.claim(worker: "w", limit: 16, lease: .seconds(30), now: Date().addingTimeInterval(1))
            #expect(early.map(\.id) == [bIds[0]])
            // Once it is due, A's failed job is claimed again, not any of the 200 behind it.
            #expect(try await sb.queue.finish(early[0], worker: "w", startedAt: Date(), result: .done, exchanges: []))
            let due = try await sb.queue.claim(worker: "w", limit: 16, lease: .seconds(30), now: retryAt.addingTimeInterval(1))
            #expect(due.filter { $0.partitionKey == "crm:A" }.map(\.id) == [first])
            #expect(due.filter { $0.partitionKey == "crm:B" }.map(\.id) == [bIds[1]])
            #expect(due.first { $0.id == first }?.failures == 1)
        }
    }

    @Test("one claim takes every due partition head, the longest waiting first, whatever the backlogs", arguments: Backend.available)
    func headsAcrossBacklogs(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            var heads: [String: Int64] = [:]
            // Partition p0 has a backlog of 300; partitions p1…p9 one job each, enqueued after it.
            for i in 0..<300 {
                let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:p0", payload: "\(i)")))
                if heads["crm:p0"] == nil { heads["crm:p0"] = id }
            }
            for p in 1..<10 {
                let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:p\(p)", payload: "only")))
                heads["crm:p\(p)"] = id
            }
            let now = Date().addingTimeInterval(1)
            let batch = try await sb.queue.claim(worker: "w", limit: 10, lease: .seconds(30), now: now)
            #expect(Set(batch.map(\.partitionKey)).count == 10)
            #expect(Set(batch.map(\.id)) == Set(heads.values))
            // A partition with a job running offers nothing more; the rest of p0's backlog waits for its head.
            #expect(try await sb.queue.claim(worker: "w", limit: 10, lease: .seconds(30), now: now).isEmpty)
            // A smaller claim takes the heads in the order they became due: p0's (enqueued first) before the others.
            for job in batch {
                #expect(try await sb.queue.finish(job, worker: "w", startedAt: now, result: .released, exchanges: []))
            }
            let one = try await sb.queue.claim(worker: "w", limit: 1, lease: .seconds(30), now: now)
            #expect(one.map(\.id) == [heads["crm:p0"]!])
        }
    }

    @Test("the worker's sleep is set by partition heads, not by jobs waiting behind a retry", arguments: Backend.available)
    func nextDueIgnoresBlockedJobs(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            try await sb.queue.enqueue(spec(partition: "crm:A", payload: "x"))
            let claimed = try await sb.queue.claim(worker: "w", limit: 1, lease: .seconds(30), now: Date().addingTimeInterval(1))
            try #require(claimed.count == 1)
            let retryAt = Date().addingTimeInterval(3600)
            _ = try await sb.queue.finish(claimed[0], worker: "w", startedAt: Date(), result: .retry(at: retryAt, reason: "503"),
                                          exchanges: [])
            // Due now, but blocked: the worker must not spin on it.
            try await sb.queue.enqueue(spec(partition: "crm:A", payload: "y"))
            let next = try #require(try await sb.queue.nextDue(now: Date().addingTimeInterval(60)))
            #expect(abs(next.timeIntervalSince(retryAt)) < 0.01)
        }
    }

    @Test("property: random failures, rate limits, crashed workers and restarts: every job runs, in order per partition",
          arguments: Backend.available)
    func randomFailuresAndRestarts(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            var rng = SeededRandom(seed: 20_261_127)
            let partitions = 12
            let total = 240
            var partitionOf: [Int64: String] = [:]
            for i in 0..<total {
                let p = "crm:\(Int.random(in: 0..<partitions, using: &rng))"
                let id = try #require(try await sb.queue.enqueue(spec(partition: p, payload: "\(i)")))
                partitionOf[id] = p
            }
            // Each job's fate on its attempts, fixed up front: a 503, a 429, or success.
            var fates: [Int64: [Int]] = [:]
            for id in partitionOf.keys {
                fates[id] = (0..<Int.random(in: 0...3, using: &rng)).map { _ in Int.random(in: 0...1, using: &rng) }
            }
            let plan = fates
            let handler = RecordingHandler { job in
                let fate = plan[job.id] ?? []
                let n = job.attempts - 1
                guard n < fate.count else { return }
                if fate[n] == 0 { throw DeliveryError.retryable(.test("503")) }
                throw DeliveryError.rateLimited(.test("429"), retryAfter: .milliseconds(5))
            }
            let fast = Backoff(base: .milliseconds(5), cap: .milliseconds(20))
            // Three "instances" in turn: the first is cancelled mid-run (a restart), a crashed one takes jobs and
            // never reports (kill -9: its short leases expire), the last drains the queue.
            let w1 = DeliveryWorker(queue: sb.queue, handlers: ["test": handler],
                                    configuration: .init(workerId: "w1", concurrency: 4, lease: .seconds(5), backoff: fast,
                                                         idlePoll: .milliseconds(50)), logger: testLogger())
            let t1 = Task { await w1.run() }
            try await eventually("some jobs to run") { handler.count > 40 }
            t1.cancel()
            await t1.value
            let crashed = try await sb.queue.claim(worker: "w-crashed", limit: 5, lease: .milliseconds(300))
            try await runWorker(sb, handler, concurrency: 6, backoff: fast, workerId: "w2") {
                (try await sb.queue.counts()[.done] ?? 0) == total
            }
            let counts = try await sb.queue.counts()
            #expect(counts[.done] == total)
            #expect(counts[.dead, default: 0] == 0)
            // Every job that was taken by the crashed worker ran again elsewhere.
            let ranBy = Dictionary(grouping: handler.runs, by: \.id)
            for job in crashed { #expect(ranBy[job.id]?.isEmpty == false) }
            // Per partition, runs never go back to an earlier job: a later one never starts before an earlier is done.
            var lastRun: [String: Int64] = [:]
            for run in handler.runs {
                let p = partitionOf[run.id]!
                #expect(run.id >= lastRun[p, default: 0], "partition \(p): job \(run.id) ran after \(lastRun[p]!)")
                lastRun[p] = run.id
            }
        }
    }

    @Test("an instance's heartbeat renews every lease it holds, and only its own", arguments: Backend.available)
    func renewLeases(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            for p in ["crm:A", "crm:B", "crm:C"] { try await sb.queue.enqueue(spec(partition: p, payload: p)) }
            let t0 = Date().addingTimeInterval(1)
            let mine = try await sb.queue.claim(worker: "w-alive", limit: 2, lease: .seconds(10), now: t0)
            let theirs = try await sb.queue.claim(worker: "w-dead", limit: 5, lease: .seconds(10), now: t0)
            try #require(mine.count == 2 && theirs.count == 1)
            // Later, both instances' leases would have run out; only the live one renewed.
            #expect(try await sb.queue.renewLeases(worker: "w-alive", lease: .seconds(10), now: t0.addingTimeInterval(8)) == 2)
            let later = t0.addingTimeInterval(12)
            let takenOver = try await sb.queue.claim(worker: "w-new", limit: 5, lease: .seconds(10), now: later)
            #expect(takenOver.map(\.id) == theirs.map(\.id))
        }
    }

    @Test("a worker keeps the lease of a job that outlasts it", arguments: Backend.available)
    func workerRenewsWhileRunning(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:A", payload: "slow")))
            let release = Barrier(2)
            let started = Barrier(2)
            let handler = RecordingHandler { _ in
                await started.arrive()
                await release.arrive()
            }
            let worker = DeliveryWorker(queue: sb.queue, handlers: ["test": handler],
                                        configuration: .init(workerId: "w-slow", concurrency: 1, lease: .milliseconds(400)),
                                        logger: testLogger())
            let task = Task { await worker.run() }
            await started.arrive()
            let first = try #require(try await sb.queue.get(tenantId: "ten_q", id: id)?.leaseExpiresAt)
            // The job is still in hand; its lease keeps moving forward past where it first ended.
            try await eventually("the lease to be renewed") {
                (try await sb.queue.get(tenantId: "ten_q", id: id)?.leaseExpiresAt ?? first) > first.addingTimeInterval(0.5)
            }
            await release.arrive()
            try await eventually("the job to finish") { try await sb.queue.get(tenantId: "ten_q", id: id)?.state == .done }
            worker.stop()
            await task.value
            #expect(try await sb.queue.get(tenantId: "ten_q", id: id)?.attempts == 1)
        }
    }

    @Test("a reason quoting a remote's answer with a NUL in it is recorded, so the job does not run again and again",
          arguments: Backend.available)
    func reasonWithNUL(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:A", payload: "x")))
            let claimed = try await sb.queue.claim(worker: "w", limit: 1, lease: .seconds(30), now: Date().addingTimeInterval(1))
            try #require(claimed.count == 1)
            let kept = try await sb.queue.finish(claimed[0], worker: "w", startedAt: Date(),
                                                 result: .dead(reason: "CRM answered 400: bad\0byte"), exchanges: [])
            #expect(kept)
            let job = try #require(try await sb.queue.get(tenantId: "ten_q", id: id))
            #expect(job.state == .dead)
            #expect(job.lastError == "CRM answered 400: bad\\0byte")
        }
    }

    @Test("a busy partition's next job comes with the finished one's outcome, in order; a retry takes none",
          arguments: Backend.available)
    func finishTakesNext(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            var a: [Int64] = []
            for i in 0..<3 { a.append(try #require(try await sb.queue.enqueue(spec(partition: "crm:A", payload: "a\(i)")))) }
            let b = try #require(try await sb.queue.enqueue(spec(partition: "crm:B", payload: "b")))
            let claimed = try await sb.queue.claim(worker: "w", limit: 10, lease: .seconds(30), now: Date().addingTimeInterval(1))
            try #require(Set(claimed.map(\.id)) == [a[0], b])
            let first = try #require(claimed.first { $0.id == a[0] })
            let done = try await sb.queue.finish(first, worker: "w", startedAt: Date(), result: .done, exchanges: [],
                                                 takeNext: .seconds(30))
            #expect(done.kept)
            #expect(done.next?.id == a[1])
            #expect(done.next?.state == .running && done.next?.leaseOwner == "w" && done.next?.attempts == 1)
            // A retry holds its partition: nothing is taken after it, and the claim loop finds nothing of A either.
            let second = try #require(done.next)
            let retried = try await sb.queue.finish(second, worker: "w", startedAt: Date(),
                                                    result: .retry(at: Date().addingTimeInterval(3600), reason: "503"),
                                                    exchanges: [], takeNext: .seconds(30))
            #expect(retried.kept && retried.next == nil)
            let later = try await sb.queue.claim(worker: "w2", limit: 10, lease: .seconds(30), now: Date().addingTimeInterval(2))
            #expect(!later.contains { $0.partitionKey == "crm:A" })
        }
    }

    @Test("a long outage is retried, not dead-lettered, until the give-up time", arguments: Backend.available)
    func outageOutlivesMaxAttempts(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let id = try #require(try await sb.queue.enqueue(spec(partition: "crm:A", payload: "x", maxAttempts: 3)))
            let handler = RecordingHandler { job in if job.attempts <= 6 { throw DeliveryError.retryable(.test("503")) } }
            try await runWorker(sb, handler) { try await sb.queue.get(tenantId: "ten_q", id: id)?.state == .done }
            #expect(try await sb.queue.get(tenantId: "ten_q", id: id)?.attempts == 7)
        }
    }
}

@Suite("Retry decisions")
struct RetryDecisionTests {
    func worker(_ backoff: Backoff = Backoff(base: .seconds(2), cap: .seconds(30))) async throws -> DeliveryWorker {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sb-decide-\(UUID().uuidString).sqlite").path
        let db = try SQLiteDatabase(path: path, synchronous: "OFF")
        return DeliveryWorker(queue: JobQueue(db: db, wake: WakeSignal()), handlers: [:],
                              configuration: .init(backoff: backoff), logger: testLogger())
    }

    func job(attempts: Int, failures: Int, maxAttempts: Int = 30, age: TimeInterval = 0, now: Date) -> Job {
        Job(id: 1, tenantId: "t", partitionKey: "p", kind: "k", payload: "", state: .running, attempts: attempts,
            maxAttempts: maxAttempts, runAt: now, failures: failures, createdAt: now.addingTimeInterval(-age), updatedAt: now)
    }

    @Test("a 429 after a long outage waits for its window, not on the outage's exponent")
    func rateLimitApartFromOutage() async throws {
        let w = try await worker()
        let now = Date()
        let outage = w.decide(job(attempts: 12, failures: 11, now: now), .retryable(.test("503")), now: now)
        let limited = w.decide(job(attempts: 12, failures: 11, now: now), .rateLimited(.test("429")), now: now)
        let asked = w.decide(job(attempts: 12, failures: 11, now: now), .rateLimited(.test("429"), retryAfter: .seconds(3)), now: now)
        guard case .retry(let outageAt, _, let isOutage, _) = outage, case .retry(let limitedAt, _, let limitedOutage, _) = limited,
              case .retry(let askedAt, _, _, _) = asked else {
            Issue.record("expected retries"); return
        }
        #expect(isOutage && !limitedOutage)
        #expect(outageAt.timeIntervalSince(now) >= 15 && outageAt.timeIntervalSince(now) <= 30.01)  // capped, jittered
        #expect(limitedAt.timeIntervalSince(now) >= 1 && limitedAt.timeIntervalSince(now) <= 2.01)
        #expect(abs(askedAt.timeIntervalSince(now) - 3) < 0.01)
    }

    @Test("the backoff probes a failing CRM at least every cap, and honours a bounded Retry-After")
    func backoffCap() {
        let backoff = Backoff(base: .seconds(2), cap: .seconds(30), retryAfterCap: .seconds(600))
        for streak in 1...40 { #expect(backoff.delay(afterAttempt: streak, retryAfter: nil).seconds <= 30.001) }
        #expect(backoff.delay(afterAttempt: 1, retryAfter: .seconds(120)).seconds >= 120)
        #expect(backoff.delay(afterAttempt: 1, retryAfter: .seconds(10_000_000)).seconds <= 600.001)
    }

    @Test("Retry-After in seconds or as an HTTP date")
    func retryAfterHeader() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)  // Tue, 14 Nov 2023 22:13:20 GMT
        #expect(DeliveryError.retryAfter(header: "7", now: now) == .seconds(7))
        #expect(DeliveryError.retryAfter(header: "Tue, 14 Nov 2023 22:13:50 GMT", now: now) == .seconds(30))
        #expect(DeliveryError.retryAfter(header: "soon", now: now) == nil)
        #expect(DeliveryError.retryAfter(header: "-3", now: now) == nil)
        #expect(DeliveryError.forHTTPStatus(429, reason: .test("")).isRateLimited)
        #expect(!DeliveryError.forHTTPStatus(503, reason: .test("")).isRateLimited)
    }

    @Test("dead only after both the attempts and the give-up time are spent")
    func giveUp() async throws {
        let w = try await worker()
        let now = Date()
        let young = w.decide(job(attempts: 40, failures: 40, maxAttempts: 30, age: 3600, now: now), .retryable(.test("503")), now: now)
        let old = w.decide(job(attempts: 40, failures: 40, maxAttempts: 30, age: 90_000, now: now), .retryable(.test("503")), now: now)
        let fewTries = w.decide(job(attempts: 3, failures: 3, maxAttempts: 30, age: 90_000, now: now), .retryable(.test("503")), now: now)
        if case .retry = young {} else { Issue.record("a job an hour into an outage must be retried") }
        if case .dead = old {} else { Issue.record("a job past both limits must be dead-lettered") }
        if case .retry = fewTries {} else { Issue.record("a job with attempts left must be retried") }
    }
}

@Suite("Rate limits")
struct RateLimitTests {
    @Test("spaced slots keep any one-second window under the limit, with the margin")
    func localSpacing() {
        let limiter = LocalRateLimiter()
        let policy = RatePolicy(limit: 7, per: .seconds(1))
        let now = Date()
        let slots = (0..<50).map { _ in limiter.reserve("acct", policy: policy, now: now) }
        for (i, slot) in slots.enumerated() {
            let window = slots.filter { $0 >= slot && $0 < slot.addingTimeInterval(1.0) }.count
            #expect(window <= 6, "window from slot \(i) holds \(window)")
            // Even if the network bunched requests up by 150 ms, the remote would count no more than 7 a second.
            #expect(slots.filter { $0 >= slot && $0 < slot.addingTimeInterval(1.15) }.count <= 7)
        }
        #expect(limiter.reserve("other", policy: policy, now: now) == now)  // another account is not held up
    }

    @Test("stored slots are shared by every instance on one database", arguments: Backend.available)
    func storedSlots(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = RateLimitStore(db: sb.db)
            let b = RateLimitStore(db: sb.db)
            let interval = RatePolicy(limit: 7, per: .seconds(1)).interval
            let now = Date()
            let slots = try await withThrowingTaskGroup(of: Date.self) { group in
                for i in 0..<20 { group.addTask { try await (i % 2 == 0 ? a : b).reserve(key: "amocrm:x.example", interval: interval, now: now) } }
                return try await group.reduce(into: [Date]()) { $0.append($1) }
            }.sorted()
            #expect(Set(slots.map(\.millis)).count == 20)
            for (x, y) in zip(slots, slots.dropFirst()) { #expect(y.timeIntervalSince(x) >= interval.seconds - 0.002) }
            #expect(abs(slots[0].timeIntervalSince(now)) < 0.002)
            // Later, once the account has been idle, the next request goes at once.
            let later = now.addingTimeInterval(60)
            #expect(abs(try await a.reserve(key: "amocrm:x.example", interval: interval, now: later).timeIntervalSince(later)) < 0.002)
        }
    }
}
