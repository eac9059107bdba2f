import Foundation

/// Runs many small units of work in few transactions (group commit): while one batch commits, new
/// work gathers for the next. One unit's failure rolls back only that unit (the rest of its batch runs
/// again without it). A unit's caller resumes only after its batch has committed: acknowledged means durable.
public final class GroupCommitter: @unchecked Sendable {
    typealias Work = @Sendable (any SQLExecutor) async throws -> any Sendable
    struct Item {
        let work: Work
        let continuation: CheckedContinuation<any Sendable, any Error>
    }

    private let db: any Database
    private let maxBatch: Int
    private let maxFlushers: Int
    private let lock = NSLock()
    private var pending: [Item] = []
    private var flushers = 0

    /// `maxFlushers` batches may commit at once (1 for SQLite, which writes one at a time).
    public init(db: any Database, maxBatch: Int = 512, maxFlushers: Int? = nil) {
        self.db = db
        self.maxBatch = maxBatch
        self.maxFlushers = maxFlushers ?? (db.dialect == .sqlite ? 1 : 4)
    }

    public func run<T: Sendable>(_ work: @escaping @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let value = try await withCheckedThrowingContinuation { (c: CheckedContinuation<any Sendable, any Error>) in
            let startFlusher: Bool = lock.withLock {
                pending.append(Item(work: { try await work($0) }, continuation: c))
                if flushers < maxFlushers {
                    flushers += 1
                    return true
                }
                return false
            }
            if startFlusher { Task { await self.flushLoop() } }
        }
        return value as! T
    }

    private func flushLoop() async {
        while true {
            let batch: [Item] = lock.withLock {
                let n = min(pending.count, maxBatch)
                let taken = Array(pending.prefix(n))
                pending.removeFirst(n)
                if taken.isEmpty { flushers -= 1 }
                return taken
            }
            if batch.isEmpty { return }
            await commit(batch)
        }
    }

    /// Commits the batch in one transaction. Units run one after another with no savepoints (each would cost a
    /// round trip on PostgreSQL); when a unit fails, the transaction is rolled back, that unit gets its error, and
    /// the others run again without it. Failures are rare (bad input is refused before it gets here), so the
    /// common batch costs nothing extra.
    private func commit(_ batch: [Item]) async {
        var remaining = batch
        while !remaining.isEmpty {
            let units = remaining
            let failed = FailedUnit()
            do {
                let values = try await db.transaction { tx in
                    var out: [any Sendable] = []
                    out.reserveCapacity(units.count)
                    for (i, item) in units.enumerated() {
                        do {
                            out.append(try await item.work(tx))
                        } catch {
                            failed.set(i, error)
                            throw error
                        }
                    }
                    return ValuesBox(out)
                }.value
                for (item, value) in zip(units, values) { item.continuation.resume(returning: value) }
                return
            } catch {
                guard let (index, unitError) = failed.get() else {
                    // The transaction itself failed (BEGIN or COMMIT): nothing of the batch is stored.
                    for item in units { item.continuation.resume(throwing: error) }
                    return
                }
                units[index].continuation.resume(throwing: unitError)
                remaining.remove(at: index)
            }
        }
    }
}

/// Which unit of a batch failed, set from inside the transaction.
private final class FailedUnit: @unchecked Sendable {
    private let lock = NSLock()
    private var value: (Int, any Error)?
    func set(_ index: Int, _ error: any Error) { lock.withLock { value = (index, error) } }
    func get() -> (Int, any Error)? { lock.withLock { value } }
}

private struct ValuesBox: @unchecked Sendable {
    let value: [any Sendable]
    init(_ value: [any Sendable]) { self.value = value }
}
