import ArgumentParser
import Foundation
import Histogram
import Logging
import SwitchboardApp
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure throughput and latency.",
                                                    subcommands: [QueueBench.self, QueueFairnessBench.self, IngestBench.self, MemoryBench.self,
                                                                  AnalyticsBench.self])
}

/// Records the enqueue→start latency of every job it runs.
final class LatencyRecorder: JobHandler, @unchecked Sendable {
    let latency = LatencyHistogram()
    let work: Duration

    init(work: Duration) { self.work = work }

    func run(_ job: Job, log: AttemptLog) async throws {
        latency.record(.seconds(max(0, Date().timeIntervalSince(job.createdAt))))
        if work > .zero { try await Task.sleep(for: work) }
    }
}

/// Where a benchmark keeps its data: PostgreSQL when given, else SQLite in a temporary directory.
struct BenchStorage: ParsableArguments {
    @Option(help: "PostgreSQL URL; SQLite in a temporary directory when omitted.") var databaseURL: String?
    @Option(help: "SQLite synchronous mode (FULL or NORMAL).") var sqliteSynchronous = "FULL"

    func open(lookups: [CRMKind: any ManagerLookup] = [:],
              adjust: (inout AppConfig) -> Void = { _ in }) async throws -> (Switchboard, AppConfig, Logger) {
        var config = AppConfig()
        config.dataDir = FileManager.default.temporaryDirectory.appendingPathComponent("switchboard-bench-\(UUID().uuidString)").path
        config.databaseURL = databaseURL
        config.sqliteSynchronous = sqliteSynchronous
        config.port = 0
        config.logLevel = "error"
        adjust(&config)
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        return (try await Switchboard.open(config: config, logger: logger, lookups: lookups), config, logger)
    }

    func describe(_ sb: Switchboard) -> String {
        "backend: \(sb.db.dialect.rawValue)" + (sb.db.dialect == .sqlite ? " (synchronous=\(sqliteSynchronous))" : "")
    }

    func cleanUp(_ sb: Switchboard, _ config: AppConfig) async {
        await sb.shutdown()
        // The temporary directory: the SQLite store, or beside PostgreSQL the master key the run made.
        try? FileManager.default.removeItem(atPath: config.dataDir)
    }
}

struct QueueBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Enqueue jobs while workers drain them; print jobs/s and enqueue→start latency percentiles.")

    @Option(help: "Jobs to run.") var jobs = 5000
    @Option(help: "Partitions (CRM accounts) the jobs are spread over.") var partitions = 64
    @Option(help: "Concurrent producers.") var producers = 8
    @Option(help: "Worker concurrency.") var concurrency = 32
    @Option(help: "Simulated CRM time per job, in milliseconds.") var workMs = 0
    @Flag(help: "Enqueue every job before the workers start, then time the drain alone (claimed and finished per second).")
    var prefill = false
    @OptionGroup var storage: BenchStorage

    func run() async throws {
        let (sb, config, _) = try await storage.open()
        if sb.db.dialect == .postgres {
            // A clean slate for the run: only the benchmark's own jobs.
            _ = try await sb.db.transaction { tx in try await tx.execute("DELETE FROM jobs WHERE tenant_id = 'bench'") }
        }
        let recorder = LatencyRecorder(work: .milliseconds(Int64(workMs)))
        let worker = sb.makeWorker(handlers: ["bench": recorder], concurrency: concurrency, lease: .seconds(60))
        var workerTask = prefill ? nil : Task { await worker.run() }
        let start = ContinuousClock.now
        let perProducer = jobs / producers
        try await withThrowingTaskGroup(of: Void.self) { group in
            for p in 0..<producers {
                group.addTask {
                    for i in 0..<perProducer {
                        let n = p * perProducer + i
                        try await sb.queue.enqueue(JobSpec(tenantId: "bench", partitionKey: "p\(n % partitions)",
                                                           kind: "bench", payload: "{}"))
                    }
                }
            }
            try await group.waitForAll()
        }
        let enqueued = ContinuousClock.now - start
        let total = perProducer * producers
        let drainStart = ContinuousClock.now
        if workerTask == nil { workerTask = Task { await worker.run() } }
        while recorder.latency.count < total { try await Task.sleep(for: .milliseconds(5)) }
        // Wait until every job is recorded as done, not just started.
        while (try await sb.queue.counts()[.done] ?? 0) < total { try await Task.sleep(for: .milliseconds(5)) }
        let elapsed = ContinuousClock.now - start
        let drained = ContinuousClock.now - drainStart
        worker.stop()
        await workerTask?.value
        print(storage.describe(sb))
        print("jobs: \(total) over \(partitions) partitions, \(producers) producers, worker concurrency \(concurrency), work \(workMs) ms")
        print(String(format: "enqueue: %.0f jobs/s", Double(total) / enqueued.seconds))
        print(String(format: "end to end (enqueue → done): %.0f jobs/s in %.2f s", Double(total) / elapsed.seconds, elapsed.seconds))
        if prefill {
            print(String(format: "claimed and finished (drain of a full queue): %.0f jobs/s in %.2f s",
                         Double(total) / drained.seconds, drained.seconds))
        }
        print("enqueue→start latency: \(recorder.latency.line())")
        await storage.cleanUp(sb, config)
    }
}
