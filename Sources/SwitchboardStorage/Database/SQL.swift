import Foundation

/// A value bound to or read from SQL, the same for both backends.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case blob([UInt8])
}

extension SQLValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(nilLiteral: ()) { self = .null }
}

public extension SQLValue {
    static func of(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
    static func of(_ i: Int?) -> SQLValue { i.map { .int(Int64($0)) } ?? .null }
    static func of(_ i: Int64?) -> SQLValue { i.map { .int($0) } ?? .null }
    static func of(_ b: Bool) -> SQLValue { .int(b ? 1 : 0) }
    static func of(_ d: Date?) -> SQLValue { d.map { .int(Int64(($0.timeIntervalSince1970 * 1000).rounded())) } ?? .null }
    static func of(_ bytes: [UInt8]?) -> SQLValue { bytes.map { .blob($0) } ?? .null }
}

/// One result row; columns are addressed by name.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    public subscript(_ name: String) -> SQLValue {
        guard let i = columns.firstIndex(of: name) else { return .null }
        return values[i]
    }

    public func string(_ name: String) -> String? {
        switch self[name] {
        case .text(let s): return s
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        case .null: return nil
        }
    }

    public func int(_ name: String) -> Int? {
        switch self[name] {
        case .int(let i): return Int(i)
        case .double(let d): return Int(d)
        case .text(let s): return Int(s)
        default: return nil
        }
    }

    public func int64(_ name: String) -> Int64? { int(name).map(Int64.init) }
    public func bool(_ name: String) -> Bool { (int(name) ?? 0) != 0 }

    public func date(_ name: String) -> Date? {
        int64(name).map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    public func bytes(_ name: String) -> [UInt8]? {
        switch self[name] {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }
}

public enum SQLDialect: String, Sendable {
    case sqlite
    case postgres
}

/// Runs statements inside one transaction (or one read).
public protocol SQLExecutor: Sendable {
    var dialect: SQLDialect { get }
    /// Runs a statement with `?` placeholders and returns its rows.
    func query(_ sql: String, _ binds: [SQLValue]) async throws -> [SQLRow]
    /// Registers an action to run once the surrounding transaction has committed.
    func afterCommit(_ action: @escaping @Sendable () -> Void)
    /// PostgreSQL: NOTIFY `channel` when the transaction commits, once however often it is asked for.
    /// SQLite has no other processes to tell, so it does nothing.
    func notifyOnCommit(_ channel: String)
}

public extension SQLExecutor {
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue] = []) async throws -> [SQLRow] {
        try await query(sql, binds)
    }

    func one(_ sql: String, _ binds: [SQLValue] = []) async throws -> SQLRow? {
        try await query(sql, binds).first
    }
}

/// A storage backend: SQLite or PostgreSQL.
public protocol Database: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `body` in a read-only snapshot.
    func read<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// Runs `body` in one transaction: all of it commits, or none of it.
    func transaction<T: Sendable>(_ body: @Sendable (any SQLExecutor) async throws -> T) async throws -> T
    /// True when the storage answers.
    func ping() async -> Bool
    /// Stops background work and closes connections.
    func shutdown() async
}

public struct DatabaseError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let isUniqueViolation: Bool
    /// The server rolled the transaction back because it conflicted with another one (PostgreSQL: deadlock or
    /// serialization failure, SQLSTATE class 40): nothing of it was written, and running it again may succeed.
    public let isConflict: Bool
    /// The data itself was refused (PostgreSQL SQLSTATE classes 22 and 23: a value the column cannot hold, a
    /// constraint): the request is at fault, not the storage's availability.
    public let isDataRefused: Bool
    public init(_ message: String, isUniqueViolation: Bool = false, isConflict: Bool = false, isDataRefused: Bool = false) {
        self.message = message
        self.isUniqueViolation = isUniqueViolation
        self.isConflict = isConflict
        self.isDataRefused = isDataRefused || isUniqueViolation
    }
    public var description: String { message }
}

/// Collects after-commit actions of one transaction.
final class CommitHooks: @unchecked Sendable {
    private let lock = NSLock()
    private var actions: [@Sendable () -> Void] = []
    private var channels: Set<String> = []

    func notify(_ channel: String) {
        lock.lock(); channels.insert(channel); lock.unlock()
    }

    func takeChannels() -> Set<String> {
        lock.lock(); defer { channels = []; lock.unlock() }
        return channels
    }

    func add(_ action: @escaping @Sendable () -> Void) {
        lock.lock(); actions.append(action); lock.unlock()
    }

    func run() {
        lock.lock(); let all = actions; actions = []; lock.unlock()
        for action in all { action() }
    }
}

public extension Date {
    /// Milliseconds since 1970, the form timestamps take in storage.
    var millis: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
    init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}
