import Foundation

/// Runs many small units of work in few transactions (group commit): while one batch commits, new
/// work gathers for the next. Each unit runs in its own savepoint, so one unit's failure rolls back only
/// that unit. A unit's caller resumes only after its batch has committed: acknowledged means durable.
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

    private func commit(_ batch: [Item]) async {
        let results: [Result<any Sendable, any Error>]
        do {
            results = try await db.transaction { tx in
                var out: [Result<any Sendable, any Error>] = []
                out.reserveCapacity(batch.count)
                for (i, item) in batch.enumerated() {
                    try await tx.execute("SAVEPOINT gc\(i)")
                    do {
                        let value = try await item.work(tx)
                        try await tx.execute("RELEASE SAVEPOINT gc\(i)")
                        out.append(.success(value))
                    } catch {
                        try await tx.execute("ROLLBACK TO SAVEPOINT gc\(i)")
                        try await tx.execute("RELEASE SAVEPOINT gc\(i)")
                        out.append(.failure(error))
                    }
                }
                return ResultBox(out)
            }.value
        } catch {
            for item in batch { item.continuation.resume(throwing: error) }
            return
        }
        for (item, result) in zip(batch, results) { item.continuation.resume(with: result) }
    }
}

private struct ResultBox: @unchecked Sendable {
    let value: [Result<any Sendable, any Error>]
    init(_ value: [Result<any Sendable, any Error>]) { self.value = value }
}
