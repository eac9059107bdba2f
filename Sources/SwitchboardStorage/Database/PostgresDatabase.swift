import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Executor over one PostgreSQL connection inside a transaction; rewrites `?` to `$n`.
struct PostgresExecutor: SQLExecutor {
    let connection: PostgresConnection
    let hooks: CommitHooks
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow] {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .int(let v): bindings.append(v)
            case .double(let v): bindings.append(v)
            case .text(let v): bindings.append(v)
            case .blob(let v): bindings.append(ByteBuffer(bytes: v))
            }
        }
        let statement = PostgresQuery(unsafeSQL: PostgresDatabase.numberPlaceholders(sql), binds: bindings)
        do {
            let sequence = try await connection.query(statement, logger: logger)
            var rows: [SQLRow] = []
            var columns: [String]?
            for try await row in sequence {
                var values: [SQLValue] = []
                var names: [String] = []
                for cell in row {
                    if columns == nil { names.append(cell.columnName) }
                    values.append(try Self.value(of: cell))
                }
                if columns == nil { columns = names }
                rows.append(SQLRow(columns: columns!, values: values))
            }
            return rows
        } catch let error as PSQLError {
            let code = error.serverInfo?[.sqlState]
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            throw DatabaseError("PostgreSQL: \(message)", isUniqueViolation: code == "23505",
                                isConflict: code?.hasPrefix("40") ?? false,
                                isDataRefused: (code?.hasPrefix("22") ?? false) || (code?.hasPrefix("23") ?? false))
        }
    }

    static func value(of cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8, .oid: return .int(try cell.decode(Int64.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .numeric: return .double(Double(try cell.decode(String.self)) ?? 0)
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default: return .text(try cell.decode(String.self))
        }
    }

    func afterCommit(_ action: @escaping @Sendable () -> Void) { hooks.add(action) }

    func notifyOnCommit(_ channel: String) { hooks.notify(channel) }
}

/// PostgreSQL through a PostgresNIO connection pool; for scale and several instances.
public final class PostgresDatabase: Database, @unchecked Sendable {
    public var dialect: SQLDialect { .postgres }
    public let client: PostgresClient
    private let logger: Logger
    private let runTask: Task<Void, Never>

    /// Parses `postgres://user:password@host:port/database?sslmode=disable`.
    public init(url: String, logger: Logger, maxConnections: Int = 20) throws {
        guard let components = URLComponents(string: url),
              let scheme = components.scheme, scheme.hasPrefix("postgres"),
              let host = components.host else {
            throw DatabaseError("not a PostgreSQL URL (postgres://user:password@host:port/database)")
        }
        let sslMode = components.queryItems?.first { $0.name == "sslmode" }?.value
        let loopback = ["127.0.0.1", "localhost", "::1"].contains(host)
        let tls: PostgresClient.Configuration.TLS = (sslMode == "disable" || (loopback && sslMode == nil))
            ? .disable : .prefer(.makeClientConfiguration())
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432,
            username: components.user ?? "postgres", password: components.password,
            database: String(components.path.dropFirst()).nilIfEmpty, tls: tls)
        configuration.options.maximumConnections = maxConnections
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.runTask = Task { await client.run() }
    }

    public func read<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await body(PostgresExecutor(connection: connection, hooks: CommitHooks(), logger: logger))
        }
    }

    public func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T {
        let hooks = CommitHooks()
        let logger = self.logger
        let result: T
        do {
            result = try await client.withTransaction(logger: logger) { connection in
                let executor = PostgresExecutor(connection: connection, hooks: hooks, logger: logger)
                let value = try await body(executor)
                // One NOTIFY per channel for the whole transaction (a group commit may enqueue hundreds of jobs).
                for channel in hooks.takeChannels().sorted() {
                    try await executor.execute("SELECT pg_notify(?, '')", [.text(channel)])
                }
                return value
            }
        } catch let error as PostgresTransactionError {
            // Callers see their own error, as on SQLite.
            if let inner = error.closureError { throw inner }
            throw DatabaseError("PostgreSQL transaction failed: \(String(reflecting: error.beginError ?? error.commitError ?? error.rollbackError))")
        }
        hooks.run()
        return result
    }

    public func ping() async -> Bool {
        (try? await read { try await $0.query("SELECT 1 AS ok", []) }.first?.int("ok")) == 1
    }

    /// Calls `onPayload` with each NOTIFY's payload on `channel` until the task is cancelled; reconnects on errors.
    /// After (re)connecting it is called once with nil: whatever was sent meanwhile is unknown.
    public func listen(channel: String, onPayload: @escaping @Sendable (String?) -> Void) async {
        while !Task.isCancelled {
            do {
                try await client.withConnection { connection in
                    try await connection.listen(on: channel) { notifications in
                        onPayload(nil)  // anything missed while (re)connecting
                        for try await n in notifications { onPayload(n.payload) }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                logger.warning("LISTEN \(channel) failed, retrying", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Sends a NOTIFY with `payload` to every instance listening on `channel` (this one too).
    public func notify(channel: String, payload: String) async throws {
        _ = try await transaction { tx in try await tx.execute("SELECT pg_notify(?, ?)", [.text(channel), .text(payload)]) }
    }

    public func shutdown() async {
        runTask.cancel()
        _ = await runTask.value
    }

    /// Turns `?` placeholders into `$1…$n`, leaving quoted text alone.
    static func numberPlaceholders(_ sql: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(sql.utf8.count * 5 / 4 + 16)
        var n = 0
        var inQuote = false
        for byte in sql.utf8 {
            if byte == UInt8(ascii: "'") { inQuote.toggle() }
            if byte == UInt8(ascii: "?") && !inQuote {
                n += 1
                out.append(UInt8(ascii: "$"))
                // The number's digits, most significant first.
                var divisor = 1
                while divisor * 10 <= n { divisor *= 10 }
                while divisor > 0 {
                    out.append(UInt8(ascii: "0") + UInt8(n / divisor % 10))
                    divisor /= 10
                }
            } else {
                out.append(byte)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// Which errors mean "the storage could not do it now" rather than "this request is wrong" (a value the storage
/// refused stays a 500, so the fuzz suite still finds input that reaches storage unchecked).
public enum StorageFailure {
    public static func isUnavailable(_ error: any Error) -> Bool {
        switch error {
        case is StorageBusy, is PSQLError: return true
        case let e as DatabaseError: return !e.isDataRefused
        default: return false
        }
    }
}
