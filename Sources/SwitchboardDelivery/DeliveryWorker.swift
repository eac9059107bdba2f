import Foundation
import Logging
import SwitchboardCore
import SwitchboardStorage

/// How a handler says an attempt failed.
public enum DeliveryError: Error, CustomStringConvertible, Sendable {
    /// Worth trying again later (outage, 5xx, 429, timeouts); `retryAfter` is the remote's own wish.
    case retryable(String, retryAfter: Duration? = nil)
    /// Trying again cannot help (4xx other than 429, invalid settings); goes to the dead letters.
    case permanent(String)

    public var description: String {
        switch self {
        case .retryable(let s, _), .permanent(let s): return s
        }
    }

    /// Maps an HTTP status to retryable or permanent, the way every connector must.
    public static func forHTTPStatus(_ status: Int, reason: String, retryAfter: Duration? = nil) -> DeliveryError {
        if status == 429 || status == 408 || status >= 500 { return .retryable(reason, retryAfter: retryAfter) }
        return .permanent(reason)
    }
}

/// The requests and answers of one attempt, kept for the call journal.
public final class AttemptLog: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Exchange] = []

    public init() {}

    public func record(_ exchange: Exchange) {
        lock.lock(); items.append(exchange); lock.unlock()
    }

    public func note(_ text: String) { record(Exchange(request: "", note: text)) }

    public var exchanges: [Exchange] {
        lock.lock(); defer { lock.unlock() }
        return items
    }
}

/// Runs one kind of job.
public protocol JobHandler: Sendable {
    /// Does the job's work; throws `DeliveryError` to retry or dead-letter it.
    func run(_ job: Job, log: AttemptLog) async throws
}

/// Exponential backoff with full jitter in [base·2ⁿ/2, base·2ⁿ], capped.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(2), cap: Duration = .seconds(3600)) {
        self.base = base
        self.cap = cap
    }

    /// The delay before attempt `attempt + 1`, never shorter than what the remote asked for.
    public func delay(afterAttempt attempt: Int, retryAfter: Duration?) -> Duration {
        let exp = min(Double(attempt - 1), 30)
        let ceiling = min(base.seconds * pow(2, exp), cap.seconds)
        let jittered = Double.random(in: (ceiling / 2)...max(ceiling, ceiling / 2 + 0.001))
        return .milliseconds(Int64(max(jittered, retryAfter?.seconds ?? 0) * 1000))
    }
}

/// Takes jobs from the queue and runs them: one per partition at a time, `concurrency` at once.
public final class DeliveryWorker: Sendable {
    public struct Configuration: Sendable {
        public var workerId: String
        public var concurrency: Int
        public var lease: Duration
        public var backoff: Backoff
        /// Longest sleep when nothing is due; other instances' retries are noticed within this.
        public var idlePoll: Duration

        public init(workerId: String = "worker-" + Identifier.make("w").suffix(8), concurrency: Int = 16,
                    lease: Duration = .seconds(60), backoff: Backoff = Backoff(), idlePoll: Duration = .seconds(2)) {
            self.workerId = workerId
            self.concurrency = concurrency
            self.lease = lease
            self.backoff = backoff
            self.idlePoll = idlePoll
        }
    }

    let queue: JobQueue
    let handlers: [String: any JobHandler]
    public let configuration: Configuration
    let logger: Logger
    let metrics: DeliveryMetrics?
    private let stopping = LockedFlag()

    public init(queue: JobQueue, handlers: [String: any JobHandler], configuration: Configuration,
                logger: Logger, metrics: DeliveryMetrics? = nil) {
        self.queue = queue
        self.handlers = handlers
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
    }

    /// Stops taking new jobs; `run` returns once the jobs in hand are finished.
    public func stop() {
        stopping.set()
        queue.wake.signal()
    }

    /// Runs until `stop()` or cancellation. On cancellation, jobs in hand are handed back to the queue.
    public func run() async {
        let inFlight = Counter()
        await withDiscardingTaskGroup { group in
            while !stopping.isSet && !Task.isCancelled {
                let free = configuration.concurrency - inFlight.value
                var claimed: [Job] = []
                if free > 0 {
                    do {
                        claimed = try await queue.claim(worker: configuration.workerId, limit: free, lease: configuration.lease)
                    } catch {
                        logger.error("claiming jobs failed", metadata: ["error": "\(error)"])
                    }
                }
                for job in claimed {
                    inFlight.add(1)
                    group.addTask {
                        await self.process(job)
                        inFlight.add(-1)
                        self.queue.wake.signal()
                    }
                }
                // A claim that found fewer jobs than it had room for has taken all that is due: wait for news.
                if claimed.count < free || inFlight.value >= configuration.concurrency {
                    await queue.wake.wait(timeout: await sleepBudget())
                }
            }
        }
    }

    private func sleepBudget() async -> Duration {
        guard let due = try? await queue.nextDue() else { return configuration.idlePoll }
        let wait = due.timeIntervalSinceNow
        if wait <= 0 { return .milliseconds(5) }
        return min(.milliseconds(Int64(wait * 1000) + 1), configuration.idlePoll)
    }

    func process(_ job: Job) async {
        let started = Date()
        let log = AttemptLog()
        var logger = self.logger
        logger[metadataKey: "job"] = "\(job.id)"
        logger[metadataKey: "kind"] = "\(job.kind)"
        if let callId = job.callId { logger[metadataKey: "call"] = "\(callId)" }
        if job.attempts == 1 { metrics?.startLatency.record(Duration.seconds(started.timeIntervalSince(job.createdAt))) }

        let heartbeat = Task {
            let interval = Duration.milliseconds(Int64(configuration.lease.seconds * 1000 / 3))
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                _ = try? await queue.heartbeat(jobId: job.id, worker: configuration.workerId, lease: configuration.lease)
            }
        }
        let result: AttemptResult
        if let handler = handlers[job.kind] {
            do {
                try await handler.run(job, log: log)
                result = .done
            } catch where error is CancellationError || Task.isCancelled {
                // Shutting down: whatever the handler made of its cancellation (a cancelled HTTP request, say),
                // the job goes back to the queue untouched.
                result = .released
            } catch let error as DeliveryError {
                result = decide(job, error)
            } catch {
                result = decide(job, .retryable("\(error)"))
            }
        } else {
            result = .dead(reason: "no handler for job kind \(job.kind)")
        }
        heartbeat.cancel()
        metrics?.runDuration.record(Duration.seconds(Date().timeIntervalSince(started)))
        switch result {
        case .done: metrics?.done.increment()
        case .retry(_, let reason):
            metrics?.retried.increment()
            logger.warning("job will be retried", metadata: ["reason": "\(reason)", "attempt": "\(job.attempts)"])
        case .dead(let reason):
            metrics?.dead.increment()
            logger.error("job dead-lettered", metadata: ["reason": "\(reason)", "attempt": "\(job.attempts)"])
        case .released: break
        }
        do {
            // Written even if this task is being cancelled: the outcome must not be lost.
            let kept = try await Task { [queue, configuration] in
                try await queue.finish(job, worker: configuration.workerId, startedAt: started, result: result,
                                       exchanges: log.exchanges)
            }.value
            if !kept { logger.warning("lease lost before the job finished; another worker has taken it over") }
        } catch {
            logger.error("recording job outcome failed; the lease will expire and the job run again",
                         metadata: ["error": "\(error)"])
        }
    }

    func decide(_ job: Job, _ error: DeliveryError) -> AttemptResult {
        switch error {
        case .permanent(let reason):
            return .dead(reason: reason)
        case .retryable(let reason, let retryAfter):
            if job.attempts >= job.maxAttempts {
                return .dead(reason: "gave up after \(job.attempts) attempts: \(reason)")
            }
            let delay = configuration.backoff.delay(afterAttempt: job.attempts, retryAfter: retryAfter)
            return .retry(at: Date().addingTimeInterval(delay.seconds), reason: reason)
        }
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func add(_ d: Int) { lock.lock(); n += d; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return n }
}

final class LockedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    func set() { lock.lock(); flag = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return flag }
}
