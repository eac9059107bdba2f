import Foundation
import Hummingbird
import SwitchboardStorage

/// Reference routes for the ingest benchmark, served only with `benchFloor` on: what the least a durable ingest can
/// do costs on this server and this storage, measured beside PBX ingest in the same run.
///
/// - `POST /bench/floor/none` reads the body and answers: the HTTP part of a POST, nothing stored.
/// - `POST /bench/floor/append` stores the body as one row of a table without an index and answers after the commit.
/// - `POST /bench/floor/keyed` stores it under a new random key that must be unique (as every PBX event's id is, so a
///   repeat changes nothing) and answers after the commit.
///
/// Both stores go through the group commit PBX ingest uses, with as many batches side by side. Nothing else reads
/// these tables; they are made when the routes are, on the bench's fresh storage.
struct BenchFloor {
    let sb: Switchboard

    static let maxBody = 64 * 1024

    func register(on router: Router<AppRequestContext>) {
        let db = sb.db
        let tables = Task {
            try await db.transaction { tx in
                try await tx.execute("CREATE TABLE IF NOT EXISTS bench_floor_append (k TEXT NOT NULL, body TEXT NOT NULL)")
                try await tx.execute("CREATE TABLE IF NOT EXISTS bench_floor_keyed (k TEXT PRIMARY KEY, body TEXT NOT NULL)")
            }
        }
        let flushers = sb.config.ingestFlushers(on: sb.db.dialect)
        let append = Self.committer(sb.db, table: "bench_floor_append", flushers: flushers)
        let keyed = Self.committer(sb.db, table: "bench_floor_keyed", flushers: flushers)
        router.post("bench/floor/none") { req, _ in
            let body = try await req.body.collect(upTo: Self.maxBody)
            return jsonResponse(["status": "ok", "bytes": "\(body.readableBytes)"])
        }
        router.post("bench/floor/append") { req, _ in
            try await tables.value
            try await append.submit(String(buffer: try await req.body.collect(upTo: Self.maxBody)))
            return jsonResponse(["status": "ok"])
        }
        router.post("bench/floor/keyed") { req, _ in
            try await tables.value
            try await keyed.submit(String(buffer: try await req.body.collect(upTo: Self.maxBody)))
            return jsonResponse(["status": "ok"])
        }
        sb.logger.warning("benchmark routes /bench/floor/* are on (benchFloor): for measurements only")
    }

    /// One row per body, a batch in multi-row inserts of at most 200 rows.
    static func committer(_ db: any Database, table: String, flushers: Int) -> BatchCommitter<String, Void> {
        BatchCommitter(db: db, maxFlushers: flushers, batch: { bodies, tx in
            for start in stride(from: 0, to: bodies.count, by: 200) {
                let part = bodies[start..<min(start + 200, bodies.count)]
                let rows = Array(repeating: "(?, ?)", count: part.count).joined(separator: ", ")
                try await tx.execute("INSERT INTO \(table) (k, body) VALUES \(rows)",
                                     part.flatMap { [SQLValue.text(UUID().uuidString), .text($0)] })
            }
            return bodies.map { _ in () }
        }) { body, tx in
            _ = try await tx.execute("INSERT INTO \(table) (k, body) VALUES (?, ?)", [.text(UUID().uuidString), .text(body)])
        }
    }
}
