import CSQLite
import Foundation
import Logging

// SQLite wants these as destructor markers; Swift cannot import the C macros.
private let SQLITE_TRANSIENT_PTR = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection. Not thread-safe by itself: `SQLiteDatabase` lends it to one task at a time.
final class SQLiteConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    init(path: String, readOnly: Bool, synchronous: String) throws {
        let flags = (readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &handle, flags, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            throw DatabaseError("SQLite: cannot open \(path): \(message)")
        }
        sqlite3_busy_timeout(handle, 10_000)
        if !readOnly {
            try exec("PRAGMA journal_mode=WAL")
            // The writer keeps the indexes ingest touches in memory (32 MiB, taken only as pages are read) instead of
            // reading them from the file again for every batch.
            try exec("PRAGMA cache_size=-32768")
        }
        try exec("PRAGMA synchronous=\(synchronous)")
        try exec("PRAGMA foreign_keys=ON")
    }

    deinit {
        for (_, stmt) in statements { sqlite3_finalize(stmt) }
        sqlite3_close_v2(handle)
    }

    func exec(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &err) != SQLITE_OK {
            let message = err.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(err)
            throw DatabaseError("SQLite: \(message) in \(sql)")
        }
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        if let cached = statements[sql] {
            sqlite3_reset(cached)
            sqlite3_clear_bindings(cached)
            return cached
        }
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &stmt, nil) == SQLITE_OK, let stmt else {
            throw DatabaseError("SQLite: \(String(cString: sqlite3_errmsg(handle))) in \(sql)")
        }
        statements[sql] = stmt
        return stmt
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        let stmt = try prepare(sql)
        defer { sqlite3_reset(stmt) }
        for (i, value) in binds.enumerated() {
            let index = Int32(i + 1)
            switch value {
            case .null: sqlite3_bind_null(stmt, index)
            case .int(let v): sqlite3_bind_int64(stmt, index, v)
            case .double(let v): sqlite3_bind_double(stmt, index, v)
            case .text(let v): sqlite3_bind_text(stmt, index, v, -1, SQLITE_TRANSIENT_PTR)
            case .blob(let v):
                v.withUnsafeBytes { raw in
                    _ = sqlite3_bind_blob(stmt, index, raw.baseAddress, Int32(raw.count), SQLITE_TRANSIENT_PTR)
                }
            }
        }
        let count = Int(sqlite3_column_count(stmt))
        let columns = (0..<count).map { String(cString: sqlite3_column_name(stmt, Int32($0))) }
        var rows: [SQLRow] = []
        while true {
            let rc = sqlite3_step(stmt)
            if rc == SQLITE_DONE { break }
            guard rc == SQLITE_ROW else {
                let message = String(cString: sqlite3_errmsg(handle))
                let extended = sqlite3_extended_errcode(handle)
                throw DatabaseError("SQLite: \(message)",
                                    isUniqueViolation: extended == 2067 || extended == 1555)  // SQLITE_CONSTRAINT_UNIQUE / _PRIMARYKEY
            }
            var values: [SQLValue] = []
            values.reserveCapacity(count)
            for c in 0..<Int32(count) {
                switch sqlite3_column_type(stmt, c) {
                case SQLITE_INTEGER: values.append(.int(sqlite3_column_int64(stmt, c)))
                case SQLITE_FLOAT: values.append(.double(sqlite3_column_double(stmt, c)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(stmt, c))))
                case SQLITE_BLOB:
                    let n = Int(sqlite3_column_bytes(stmt, c))
                    if let p = sqlite3_column_blob(stmt, c) {
                        values.append(.blob(Array(UnsafeRawBufferPointer(start: p, count: n))))
                    } else {
                        values.append(.blob([]))
                    }
                default: values.append(.null)
                }
            }
            rows.append(SQLRow(columns: columns, values: values))
        }
        return rows
    }
}

/// Executor over one borrowed SQLite connection.
struct SQLiteExecutor: SQLExecutor {
    let connection: SQLiteConnection
    let hooks: CommitHooks
    var dialect: SQLDialect { .sqlite }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        try connection.query(sql, binds)
    }

    func afterCommit(_ action: @escaping @Sendable () -> Void) { hooks.add(action) }

    func notifyOnCommit(_ channel: String) {}
}

/// The embedded default: one writer connection (SQLite writes one at a time anyway) and a few readers (WAL).
public final class SQLiteDatabase: Database, @unchecked Sendable {
    public var dialect: SQLDialect { .sqlite }
    private let writer: SQLiteConnection
    private let writeLock = AsyncSemaphore(permits: 1)
    private var readers: [SQLiteConnection]
    private let readLock: AsyncSemaphore
    private let readersLock = NSLock()
    /// Where commits wait for the disk: an fsync must not hold one of the few cooperative threads that serve requests.
    private let commitQueue = DispatchQueue(label: "switchboard.sqlite.commit")
    public let path: String

    /// Opens (and creates) the database file. `synchronous` is SQLite's PRAGMA: FULL fsyncs every commit.
    public init(path: String, readers: Int = 2, synchronous: String = "FULL") throws {
        self.path = path
        self.writer = try SQLiteConnection(path: path, readOnly: false, synchronous: synchronous)
        self.readers = try (0..<readers).map { _ in
            try SQLiteConnection(path: path, readOnly: true, synchronous: synchronous)
        }
        self.readLock = AsyncSemaphore(permits: readers)
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        await readLock.acquire()
        let connection = readersLock.withLock { readers.removeLast() }
        defer {
            readersLock.withLock { readers.append(connection) }
            Task { await readLock.release() }
        }
        try connection.exec("BEGIN")
        defer { try? connection.exec("COMMIT") }
        return try await body(SQLiteExecutor(connection: connection, hooks: CommitHooks()))
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        await writeLock.acquire()
        let hooks = CommitHooks()
        let result: T
        do {
            try writer.exec("BEGIN IMMEDIATE")
            do {
                result = try await body(SQLiteExecutor(connection: writer, hooks: hooks))
                try await commit()
            } catch {
                try? writer.exec("ROLLBACK")
                throw error
            }
        } catch {
            await writeLock.release()
            throw error
        }
        await writeLock.release()
        hooks.run()
        return result
    }

    /// COMMIT on the commit queue; the write lock is held, so nothing else touches the writer meanwhile.
    private func commit() async throws {
        let writer = self.writer
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            commitQueue.async { c.resume(with: Result { try writer.exec("COMMIT") }) }
        }
    }

    public func ping() async -> Bool {
        (try? await read { try await $0.query("SELECT 1 AS ok", []) }.first?.int("ok")) == 1
    }

    public func shutdown() async {}
}
