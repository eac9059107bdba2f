import Foundation

/// Work refused before any of it ran, because too much is already waiting for the storage: nothing of it was written,
/// and sending it again later is safe.
public struct StorageBusy: Error, CustomStringConvertible, Sendable {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Runs many small units of work in few transactions (group commit): while one batch commits, new
/// work gathers for the next. One unit's failure rolls back only that unit (the rest of its batch runs
/// again without it). A unit's caller resumes only after its batch has committed: acknowledged means durable.
///
/// Units are spread over up to `maxFlushers` shards that commit side by side (one on SQLite, which writes one
/// transaction at a time); units with the same key always go to the same shard, in order, so two batches never
/// lock the same rows in opposite orders. A batch the server rolls back for a conflict with another transaction
/// (a deadlock with another instance or a queue claim) runs again, whole, a few times.
///
/// Overload is refused, never queued without end: a unit arriving while `maxPending` units wait is refused at once,
/// and one that waited longer than `maxWait` for its batch is refused instead of run (`StorageBusy`, nothing written).
///
/// Units are values (`Input`). `single` stores one unit; `batch`, when given, stores a whole batch at once (a few
/// multi-row statements instead of a few statements per unit). A batch that `batch` cannot store (any error but a
/// conflict) is stored again unit by unit with `single`, which finds the failing unit and runs the rest without it.
public final class BatchCommitter<Input: Sendable, Output: Sendable>: @unchecked Sendable {
    public typealias Single = @Sendable (Input, any SQLExecutor) async throws -> Output
    public typealias Batch = @Sendable ([Input], any SQLExecutor) async throws -> [Output]

    struct Item {
        let input: Input
        let continuation: CheckedContinuation<Output, any Error>
        let enqueued: ContinuousClock.Instant
    }

    struct Shard {
        var pending: [Item] = []
        var flushing = false
    }

    /// How often a batch rolled back for a conflict runs again before its units get the error.
    static var conflictRetries: Int { 3 }

    private let db: any Database
    private let maxBatch: Int
    private let maxPending: Int
    private let maxWait: Duration?
    private let single: Single
    private let batch: Batch?
    private let lock = NSLock()
    private var shards: [Shard]
    private var waiting = 0
    private var nextShard = 0

    /// `maxFlushers` batches may commit at once (1 for SQLite, which writes one at a time).
    public init(db: any Database, maxBatch: Int = 512, maxFlushers: Int? = nil, maxPending: Int = .max,
                maxWait: Duration? = nil, batch: Batch? = nil, single: @escaping Single) {
        self.db = db
        self.maxBatch = maxBatch
        self.maxPending = max(1, maxPending)
        self.maxWait = maxWait
        self.single = single
        self.batch = batch
        self.shards = Array(repeating: Shard(), count: max(1, maxFlushers ?? (db.dialect == .sqlite ? 1 : 4)))
    }

    /// Stores `input` in the next batch of the shard `key` belongs to (any shard without a key) and returns once that
    /// batch has committed. Throws `StorageBusy` without running it when the storage is overloaded.
    public func submit(_ input: Input, key: String? = nil) async throws -> Output {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Output, any Error>) in
            let item = Item(input: input, continuation: c, enqueued: .now)
            let (startShard, refusedAt): (Int?, Int?) = lock.withLock {
                if waiting >= maxPending { return (nil, waiting) }
                let index: Int
                if let key {
                    index = Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))
                } else {
                    index = nextShard
                    nextShard = (nextShard + 1) % shards.count
                }
                shards[index].pending.append(item)
                waiting += 1
                if shards[index].flushing { return (nil, nil) }
                shards[index].flushing = true
                return (index, nil)
            }
            if let refusedAt {
                c.resume(throwing: StorageBusy("\(refusedAt) writes are waiting for storage (the limit)"))
            } else if let startShard {
                Task { await self.flushLoop(startShard) }
            }
        }
    }

    private func flushLoop(_ shard: Int) async {
        while true {
            let now = ContinuousClock.now
            let (batch, late): ([Item], [Item]) = lock.withLock {
                let n = min(shards[shard].pending.count, maxBatch)
                let taken = shards[shard].pending.prefix(n)
                shards[shard].pending.removeFirst(n)
                waiting -= n
                if taken.isEmpty { shards[shard].flushing = false }
                guard let maxWait else { return (Array(taken), []) }
                // Oldest first: whoever waited too long is at the front.
                let tooLate = taken.prefix { now - $0.enqueued > maxWait }
                return (Array(taken.dropFirst(tooLate.count)), Array(tooLate))
            }
            for item in late {
                let waited = Int((now - item.enqueued) / .milliseconds(1))
                item.continuation.resume(throwing: StorageBusy("waited \(waited) ms for storage, longer than the limit"))
            }
            if batch.isEmpty {
                if late.isEmpty { return }
                continue
            }
            if await commitWhole(batch) { continue }
            await commitUnits(batch)
        }
    }

    /// Stores the batch with `batch` in one transaction; false when it must be stored unit by unit instead.
    private func commitWhole(_ items: [Item]) async -> Bool {
        guard let batch, items.count > 1 else { return false }
        let inputs = items.map(\.input)
        var conflicts = 0
        while true {
            do {
                let values = try await db.transaction { tx in OutputsBox(try await batch(inputs, tx)) }.value
                guard values.count == items.count else { return false }
                for (item, value) in zip(items, values) { item.continuation.resume(returning: value) }
                return true
            } catch {
                if (error as? DatabaseError)?.isConflict == true, conflicts < Self.conflictRetries {
                    conflicts += 1
                    continue
                }
                return false
            }
        }
    }

    /// Commits the batch in one transaction, unit by unit. Units run one after another with no savepoints (each would
    /// cost a round trip on PostgreSQL); when a unit fails, the transaction is rolled back, that unit gets its error,
    /// and the others run again without it. Failures are rare (bad input is refused before it gets here), so the
    /// common batch costs nothing extra. A conflict with another transaction is no unit's fault: the batch runs again.
    private func commitUnits(_ batch: [Item]) async {
        var remaining = batch
        var conflicts = 0
        let single = self.single
        while !remaining.isEmpty {
            let units = remaining
            let inputs = units.map(\.input)
            let failed = FailedUnit()
            do {
                let values = try await db.transaction { tx in
                    var out: [Output] = []
                    out.reserveCapacity(inputs.count)
                    for (i, input) in inputs.enumerated() {
                        do {
                            out.append(try await single(input, tx))
                        } catch {
                            failed.set(i, error)
                            throw error
                        }
                    }
                    return OutputsBox(out)
                }.value
                for (item, value) in zip(units, values) { item.continuation.resume(returning: value) }
                return
            } catch {
                let unit = failed.get()
                if ((unit?.1 ?? error) as? DatabaseError)?.isConflict == true, conflicts < Self.conflictRetries {
                    conflicts += 1
                    continue
                }
                guard let (index, unitError) = unit else {
                    // The transaction itself failed (BEGIN or COMMIT): nothing of the batch is stored.
                    for item in units { item.continuation.resume(throwing: error) }
                    return
                }
                units[index].continuation.resume(throwing: unitError)
                remaining.remove(at: index)
            }
        }
    }

    private struct OutputsBox: @unchecked Sendable {
        let value: [Output]
        init(_ value: [Output]) { self.value = value }
    }
}

/// Group commit of closures: each unit is a piece of work run in the batch's transaction.
public final class GroupCommitter: @unchecked Sendable {
    public typealias Work = @Sendable (any SQLExecutor) async throws -> any Sendable
    private let committer: BatchCommitter<WorkBox, ResultBox>

    /// `maxFlushers` batches may commit at once (1 for SQLite, which writes one at a time).
    public init(db: any Database, maxBatch: Int = 512, maxFlushers: Int? = nil, maxPending: Int = .max,
                maxWait: Duration? = nil) {
        committer = BatchCommitter(db: db, maxBatch: maxBatch, maxFlushers: maxFlushers, maxPending: maxPending,
                                   maxWait: maxWait) { work, tx in ResultBox(value: try await work.work(tx)) }
    }

    /// Runs `work` in the next batch of the shard `key` belongs to (any shard without a key) and returns once that
    /// batch has committed. Throws `StorageBusy` without running it when the storage is overloaded.
    public func run<T: Sendable>(key: String? = nil,
                                 _ work: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await committer.submit(WorkBox(work: { try await work($0) }), key: key).value as! T
    }

    public struct WorkBox: Sendable { let work: Work }
    public struct ResultBox: @unchecked Sendable { let value: any Sendable }
}

/// Which unit of a batch failed, set from inside the transaction.
private final class FailedUnit: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Int, any Error)?
    func set(_ index: Int, _ error: any Error) { lock.withLock { value = (index, error) } }
    func get() -> (Int, any Error)? { lock.withLock { value } }
}
