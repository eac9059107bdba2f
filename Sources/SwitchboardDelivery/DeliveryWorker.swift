import Foundation
import Logging
import SwitchboardCore
import SwitchboardStorage

/// How a handler says an attempt failed.
public enum DeliveryError: Error, CustomStringConvertible, Sendable {
    /// Worth trying again later (outage, 5xx, timeouts); `retryAfter` is the remote's own wish. Raises the job's
    /// failure streak, so the next try waits longer (up to the backoff's cap).
    case retryable(Phrase, retryAfter: Duration? = nil)
    /// The remote's rate limit (429): try again when it says, or in a second or two. It concerns a short window, not
    /// an outage, so it does not raise the failure streak.
    case rateLimited(Phrase, retryAfter: Duration? = nil)
    /// Trying again cannot help (4xx other than 408/429, invalid settings); goes to the dead letters.
    case permanent(Phrase)

    /// The reason in the tenant's languages.
    public var phrase: Phrase {
        switch self {
        case .retryable(let p, _), .rateLimited(let p, _), .permanent(let p): return p
        }
    }

    /// The reason in English, for logs and the API.
    public var description: String { phrase.en }

    /// Maps an HTTP status to retryable, rate-limited or permanent, the way every connector must.
    public static func forHTTPStatus(_ status: Int, reason: Phrase, retryAfter: Duration? = nil) -> DeliveryError {
        if status == 429 { return .rateLimited(reason, retryAfter: retryAfter) }
        if status == 408 || status >= 500 { return .retryable(reason, retryAfter: retryAfter) }
        return .permanent(reason)
    }

    /// Reads an HTTP `Retry-After` value: seconds, or an HTTP date.
    public static func retryAfter(header value: String?, now: Date = Date()) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int(value) { return seconds >= 0 ? .seconds(seconds) : nil }
        let format = DateFormatter()
        format.locale = Locale(identifier: "en_US_POSIX")
        format.timeZone = TimeZone(identifier: "GMT")
        format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = format.date(from: value) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
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

    /// A note for the journal: its English for the API, the phrase for the cabinet.
    public func note(_ note: some TenantReadable) {
        let phrase = note.phrase
        record(Exchange(request: "", note: phrase.en, phrase: phrase))
    }

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

/// Exponential backoff with full jitter in [base·2ⁿ/2, base·2ⁿ], capped. The cap is short (30 s by default):
/// only a partition's head job probes a failing CRM, so a short cap costs the CRM one request per account every
/// half minute during an outage and brings delivery back within half a minute of its end.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration
    /// The longest wait a remote's `Retry-After` can impose (a bogus value must not stall an account for good).
    public var retryAfterCap: Duration

    public init(base: Duration = .seconds(2), cap: Duration = .seconds(30), retryAfterCap: Duration = .seconds(3600)) {
        self.base = base
        self.cap = cap
        self.retryAfterCap = retryAfterCap
    }

    /// The delay after the `streak`-th consecutive failure, never shorter than what the remote asked for.
    public func delay(afterAttempt streak: Int, retryAfter: Duration?) -> Duration {
        let exp = min(Double(max(streak, 1) - 1), 30)
        let ceiling = min(base.seconds * pow(2, exp), cap.seconds)
        let jittered = Double.random(in: (ceiling / 2)...max(ceiling, ceiling / 2 + 0.001))
        let asked = min(retryAfter?.seconds ?? 0, retryAfterCap.seconds)
        return .milliseconds(Int64(max(jittered, asked) * 1000))
    }

    /// The delay after a rate limit: what the remote asked for, else one to two seconds (limits count per second).
    public func rateLimitDelay(retryAfter: Duration?) -> Duration {
        if let retryAfter { return .milliseconds(Int64(min(retryAfter.seconds, retryAfterCap.seconds) * 1000)) }
        return .milliseconds(Int64.random(in: 1000...2000))
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
        /// A failing job is dead-lettered only after `maxAttempts` tries and this long since it was enqueued, so a
        /// CRM outage shorter than this delays delivery and never drops it.
        public var giveUpAfter: Duration

        public init(workerId: String = "worker-" + Identifier.make("w").suffix(8), concurrency: Int = 16,
                    lease: Duration = .seconds(15), backoff: Backoff = Backoff(), idlePoll: Duration = .seconds(2),
                    giveUpAfter: Duration = .seconds(24 * 3600)) {
            self.workerId = workerId
            self.concurrency = concurrency
            self.lease = lease
            self.backoff = backoff
            self.idlePoll = idlePoll
            self.giveUpAfter = giveUpAfter
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
        // The instance's heartbeat: every lease this worker holds is renewed in one statement, several times per
        // lease, so a short lease is safe for long jobs and a dead instance's jobs are taken over soon.
        let renewal = Task { [queue, configuration, logger] in
            let interval = Duration.milliseconds(max(Int64(configuration.lease.seconds * 1000 / 4), 10))
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                if Task.isCancelled { return }
                do {
                    try await queue.renewLeases(worker: configuration.workerId, lease: configuration.lease)
                } catch {
                    logger.warning("renewing job leases failed", metadata: ["error": "\(error)"])
                }
            }
        }
        defer { renewal.cancel() }
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
                        // While slots are spare, a busy partition's next job comes with the finished one's outcome;
                        // once they are not, the slot goes back to the claim loop, which serves the longest-due heads.
                        var current: Job? = job
                        while let next = current {
                            let chain = !self.stopping.isSet && !Task.isCancelled
                                && inFlight.value < self.configuration.concurrency
                            current = await self.process(next, takeNext: chain)
                        }
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

    /// Runs one job and records its outcome; with `takeNext`, returns the partition's next job if it was leased to
    /// this worker with the outcome.
    @discardableResult
    func process(_ job: Job, takeNext: Bool = false) async -> Job? {
        let started = Date()
        let log = AttemptLog()
        var logger = self.logger
        logger[metadataKey: "job"] = "\(job.id)"
        logger[metadataKey: "kind"] = "\(job.kind)"
        if let callId = job.callId { logger[metadataKey: "call"] = "\(callId)" }
        if job.attempts == 1 { metrics?.startLatency.record(Duration.seconds(started.timeIntervalSince(job.createdAt))) }

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
                result = decide(job, .retryable(WorkerProblem.unexpected(error: "\(error)").phrase))
            }
        } else {
            let problem = WorkerProblem.noHandler(kind: job.kind).phrase
            result = .dead(reason: problem.en, phrase: problem)
        }
        metrics?.runDuration.record(Duration.seconds(Date().timeIntervalSince(started)))
        switch result {
        case .done: metrics?.done.increment()
        case .retry(_, let reason, _, _):
            metrics?.retried.increment()
            logger.warning("job will be retried", metadata: ["reason": "\(reason)", "attempt": "\(job.attempts)"])
        case .dead(let reason, _):
            metrics?.dead.increment()
            logger.error("job dead-lettered", metadata: ["reason": "\(reason)", "attempt": "\(job.attempts)"])
        case .released: break
        }
        do {
            // Written even if this task is being cancelled: the outcome must not be lost.
            let (kept, next) = try await Task { [queue, configuration] in
                try await queue.finish(job, worker: configuration.workerId, startedAt: started, result: result,
                                       exchanges: log.exchanges, takeNext: takeNext ? configuration.lease : nil)
            }.value
            if !kept { logger.warning("lease lost before the job finished; another worker has taken it over") }
            return next
        } catch {
            logger.error("recording job outcome failed; the lease will expire and the job run again",
                         metadata: ["error": "\(error)"])
            return nil
        }
    }

    func decide(_ job: Job, _ error: DeliveryError, now: Date = Date()) -> AttemptResult {
        let delay: Duration
        let outage: Bool
        switch error {
        case .permanent(let reason):
            return .dead(reason: reason.en, phrase: reason)
        case .retryable(_, let retryAfter):
            delay = configuration.backoff.delay(afterAttempt: job.failures + 1, retryAfter: retryAfter)
            outage = true
        case .rateLimited(_, let retryAfter):
            delay = configuration.backoff.rateLimitDelay(retryAfter: retryAfter)
            outage = false
        }
        if job.attempts >= job.maxAttempts && now.timeIntervalSince(job.createdAt) >= configuration.giveUpAfter.seconds {
            let gaveUp = WorkerProblem.gaveUp(attempts: job.attempts, last: error.phrase).phrase
            return .dead(reason: gaveUp.en, phrase: gaveUp)
        }
        return .retry(at: now.addingTimeInterval(delay.seconds), reason: error.description, outage: outage, phrase: error.phrase)
    }
}

/// Why the worker itself ended an attempt.
public enum WorkerProblem: PhraseCatalog, Equatable {
    case noHandler(kind: String)
    case gaveUp(attempts: Int, last: Phrase)
    /// A handler threw something other than a `DeliveryError`: tried again, as an outage.
    case unexpected(error: String)

    public var phrase: Phrase {
        switch self {
        case .noHandler(let kind):
            Phrase(code: "delivery.noHandler", en: "no handler for job kind \(kind)", ru: "нет обработчика для задания \(kind)")
        case .gaveUp(let attempts, let last):
            Phrase(code: "delivery.gaveUp", en: "gave up after \(attempts) attempts: \(last.en)",
                   ru: "попытки прекращены после \(attempts): \(last.ru)")
        case .unexpected(let error):
            Phrase(code: "delivery.unexpected", en: error, ru: "непредвиденная ошибка: \(error)")
        }
    }

    public static var samples: [WorkerProblem] {
        [.noHandler(kind: "x.y"), .gaveUp(attempts: 3, last: Phrase(code: "t", en: "t", ru: "т")), .unexpected(error: "e")]
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
