import ArgumentParser
import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// Answers at once, except for the one job that always fails; times account B's jobs into the current phase.
final class FairnessHandler: JobHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var phase = LatencyHistogram()
    private var failures = 0
    private var backlogDone = 0

    func startPhase() -> LatencyHistogram { lock.withLock { phase = LatencyHistogram(); return phase } }
    var failed: Int { lock.withLock { failures } }
    var backlogFinished: Int { lock.withLock { backlogDone } }

    func run(_ job: Job, log: AttemptLog) async throws {
        switch job.partitionKey {
        case "acct-B":
            let h = lock.withLock { phase }
            h.record(.seconds(max(0, Date().timeIntervalSince(job.createdAt))))
        case "acct-A-failing":
            lock.withLock { failures += 1 }
            throw DeliveryError.retryable(Phrase(code: "bench.failing", en: "bench: this CRM account keeps failing",
                                                 ru: "стенд: этот аккаунт CRM всё время отказывает"))
        default:
            lock.withLock { backlogDone += 1 }
        }
    }
}

struct QueueFairnessBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fairness",
        abstract: "Account B's enqueue→start latency with and without account A's backlog and failing job, in one run.")

    @Option(help: "Jobs in account A's backlog (one partition).") var backlog = 20_000
    @Option(help: "Account B's jobs per phase, one every --interval-ms.") var trickle = 1000
    @Option(help: "Milliseconds between two of account B's jobs.") var intervalMs = 5
    @Option(help: "Worker concurrency.") var concurrency = 32
    @Option(help: "Retry delay of account A's failing job, in milliseconds (backoff base and cap).") var retryMs = 20
    @OptionGroup var storage: BenchStorage

    func run() async throws {
        let retryMs = retryMs
        let (sb, config, _) = try await storage.open { c in
            c.retryBaseMs = retryMs
            c.retryCapMs = retryMs
        }
        if sb.db.dialect == .postgres {
            _ = try await sb.db.transaction { tx in try await tx.execute("DELETE FROM jobs WHERE tenant_id IN ('bench-a', 'bench-b')") }
        }
        let handler = FairnessHandler()
        let worker = sb.makeWorker(handlers: ["bench": handler], concurrency: concurrency, lease: .seconds(60))
        let workerTask = Task { await worker.run() }

        func trickleB() async throws -> LatencyHistogram {
            let h = handler.startPhase()
            for _ in 0..<trickle {
                try await sb.queue.enqueue(JobSpec(tenantId: "bench-b", partitionKey: "acct-B", kind: "bench", payload: "{}"))
                try await Task.sleep(for: .milliseconds(Int64(intervalMs)))
            }
            while h.count < trickle { try await Task.sleep(for: .milliseconds(5)) }
            return h
        }

        let alone = try await trickleB()

        // Account A: one job that fails on every attempt, then its backlog, enqueued by 8 producers.
        try await sb.queue.enqueue(JobSpec(tenantId: "bench-a", partitionKey: "acct-A-failing", kind: "bench",
                                           payload: "{}", maxAttempts: 1_000_000))
        let enqueueStart = ContinuousClock.now
        let producers = 8
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in 0..<producers {
                group.addTask {
                    for _ in stride(from: p, to: backlog, by: producers) {
                        try await sb.queue.enqueue(JobSpec(tenantId: "bench-a", partitionKey: "acct-A", kind: "bench", payload: "{}"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let enqueueTime = ContinuousClock.now - enqueueStart
        let failuresBefore = handler.failed
        let backlogBefore = handler.backlogFinished
        let phaseStart = ContinuousClock.now
        let crowded = try await trickleB()
        let phaseTime = ContinuousClock.now - phaseStart
        let backlogAfter = handler.backlogFinished
        let failuresAfter = handler.failed
        worker.stop()
        await workerTask.value

        print(storage.describe(sb))
        print("worker concurrency \(concurrency); account B: \(trickle) jobs a phase, one every \(intervalMs) ms; instant handler")
        print("B alone:                     enqueue→start \(alone.line())")
        print("B beside A's backlog+retry:  enqueue→start \(crowded.line())")
        print(String(format: "A: %d backlog jobs enqueued in %.2f s; during B's phase (%.2f s) A finished %d of them " +
                     "(%d left) and its failing job was tried %d times (retry every %d ms)",
                     backlog, enqueueTime.seconds, phaseTime.seconds, backlogAfter - backlogBefore,
                     backlog - backlogAfter, failuresAfter - failuresBefore, retryMs))
        await storage.cleanUp(sb, config)
    }
}
