import Foundation

/// One statement an analytics page sends, with its values: the stores run these, and the benchmark and the plan test
/// time them and read their plans exactly as the pages send them.
public struct AnalyticsQuery: Sendable {
    /// A short name for reports (`dashboard.byDay`, `deals.touches`, …).
    public let name: String
    public let sql: String
    public let binds: [SQLValue]

    public init(name: String, sql: String, binds: [SQLValue]) {
        self.name = name
        self.sql = sql
        self.binds = binds
    }

    /// Runs the statement.
    public func run(on r: any SQLExecutor) async throws -> [SQLRow] {
        try await r.query(sql, binds)
    }

    /// The statement's plan, one line per node, indented by depth.
    ///
    /// SQLite: EXPLAIN QUERY PLAN (`SEARCH c USING INDEX calls_tenant_started (tenant_id=? AND started_at>? AND started_at<?)`).
    /// PostgreSQL: EXPLAIN, with `analyze` EXPLAIN (ANALYZE, BUFFERS), which runs the statement. With `indexPathsOnly`
    /// sequential scans, hash and merge joins are priced out (SET LOCAL enable_… = off), so a plan uses them only where no
    /// index can serve: on a test's small tables the planner rightly prefers them, and this is how a test sees the index
    /// path a statement has; `switchboard bench analytics` shows what the planner picks on a million rows.
    public func plan(on db: any Database, analyze: Bool = false, indexPathsOnly: Bool = false) async throws -> [String] {
        let statement = sql, values = binds
        switch db.dialect {
        case .sqlite:
            return try await db.read { r in
                let rows = try await r.query("EXPLAIN QUERY PLAN " + statement, values)
                var depth: [Int: Int] = [:]
                return rows.map { row in
                    let d = (depth[row.int("parent") ?? 0] ?? -1) + 1
                    depth[row.int("id") ?? 0] = d
                    return String(repeating: "  ", count: d) + (row.string("detail") ?? "")
                }
            }
        case .postgres:
            return try await db.transaction { tx in
                if indexPathsOnly {
                    for knob in ["enable_seqscan", "enable_hashjoin", "enable_mergejoin"] { try await tx.execute("SET LOCAL \(knob) = off") }
                }
                let rows = try await tx.query((analyze ? "EXPLAIN (ANALYZE, BUFFERS) " : "EXPLAIN ") + statement, values)
                return rows.compactMap { $0.values.first.flatMap { if case .text(let s) = $0 { s } else { nil } } }
            }
        }
    }
}
