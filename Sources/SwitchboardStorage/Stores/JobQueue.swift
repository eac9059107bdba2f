import Foundation
import SwitchboardCore

public enum JobState: String, Codable, Sendable, CaseIterable {
    case queued, running, done, dead
}

/// What to deliver: written in the same transaction as the change that caused it.
public struct JobSpec: Sendable {
    public var tenantId: String
    /// Jobs with one key run in order, one at a time (one CRM account = one partition).
    public var partitionKey: String
    public var kind: String
    public var payload: String
    public var callId: String?
    /// A second job with the same key is not created (repeated events).
    public var dedupeKey: String?
    public var maxAttempts: Int
    public var runAt: Date?

    public init(tenantId: String, partitionKey: String, kind: String, payload: String, callId: String? = nil,
                dedupeKey: String? = nil, maxAttempts: Int = 30, runAt: Date? = nil) {
        self.tenantId = tenantId
        self.partitionKey = partitionKey
        self.kind = kind
        self.payload = payload
        self.callId = callId
        self.dedupeKey = dedupeKey
        self.maxAttempts = maxAttempts
        self.runAt = runAt
    }
}

public struct Job: Codable, Sendable, Equatable {
    public var id: Int64
    public var tenantId: String
    public var partitionKey: String
    public var kind: String
    public var payload: String
    public var state: JobState
    public var attempts: Int
    public var maxAttempts: Int
    public var runAt: Date
    public var leaseOwner: String?
    public var leaseExpiresAt: Date?
    public var lastError: String?
    /// `lastError` in the tenant's languages; nil for a job that failed before phrases were stored.
    public var lastErrorPhrase: Phrase? = nil
    public var callId: String?
    /// Consecutive attempts that failed for the remote's outage.
    public var failures: Int = 0
    public var createdAt: Date
    public var updatedAt: Date
    public var finishedAt: Date?
}

/// One request and answer (or note) made during an attempt, for the call journal.
public struct Exchange: Codable, Sendable, Equatable {
    public var at: Date
    public var request: String
    public var status: Int?
    public var response: String?
    public var note: String?
    /// The note in the tenant's languages (absent in exchanges stored before phrases were).
    public var phrase: Phrase?

    public init(at: Date = Date(), request: String, status: Int? = nil, response: String? = nil, note: String? = nil,
                phrase: Phrase? = nil) {
        self.at = at
        self.request = request
        self.status = status
        self.response = response
        self.note = note
        self.phrase = phrase
    }
}

public struct JobAttempt: Codable, Sendable, Equatable {
    public var attempt: Int
    public var worker: String
    public var startedAt: Date
    public var finishedAt: Date
    /// `done`, `retry`, `dead` or `released` (worker shut down mid-job).
    public var outcome: String
    public var detail: String?
    /// `detail` in the tenant's languages; nil for attempts recorded before phrases were.
    public var detailPhrase: Phrase? = nil
    public var exchanges: [Exchange]
}

/// How an attempt ended, as the worker reports it.
public enum AttemptResult: Sendable {
    case done
    /// Back to the queue until `at`. `outage` says the remote failed (5xx, unreachable): it raises the job's
    /// failure streak, the backoff's exponent; a rate limit or a transient conflict does not.
    case retry(at: Date, reason: String, outage: Bool = true, phrase: Phrase? = nil)
    case dead(reason: String, phrase: Phrase? = nil)
    /// Handed back without counting the attempt (graceful shutdown).
    case released
}

/// The durable delivery queue over either backend.
public struct JobQueue: Sendable {
    let db: any Database
    /// Wakes this process's workers when a job is committed here.
    public let wake: WakeSignal
    /// Attempts that end together commit together.
    let finisher: GroupCommitter
    public static let notifyChannel = "switchboard_jobs"

    public init(db: any Database, wake: WakeSignal) {
        self.db = db
        self.wake = wake
        self.finisher = GroupCommitter(db: db, maxBatch: 256)
    }

    /// Adds a job inside the caller's transaction; returns nil if a job with the same dedupe key exists.
    /// With `advance`, a queued job with the same dedupe key that is scheduled later is moved up to `runAt` instead.
    @discardableResult
    public func enqueue(_ spec: JobSpec, in tx: any SQLExecutor, advance: Bool = false) async throws -> Int64? {
        let now = Date()
        let onConflict = advance
            ? "DO UPDATE SET run_at = excluded.run_at, updated_at = excluded.updated_at WHERE jobs.state = 'queued' AND jobs.run_at > excluded.run_at"
            : "DO NOTHING"
        let rows = try await tx.query("""
            INSERT INTO jobs (tenant_id, partition_key, kind, payload, state, attempts, max_attempts, run_at, call_id,
              dedupe_key, created_at, updated_at)
            VALUES (?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (dedupe_key) \(onConflict) RETURNING id
            """, [.text(spec.tenantId), .text(spec.partitionKey), .text(spec.kind), .text(spec.payload),
                  .int(Int64(spec.maxAttempts)), .of(spec.runAt ?? now), .of(spec.callId), .of(spec.dedupeKey),
                  .of(now), .of(now)])
        guard let id = rows.first?.int64("id") else { return nil }
        tx.notifyOnCommit(Self.notifyChannel)
        let wake = self.wake
        tx.afterCommit { wake.signal() }
        return id
    }

    /// Adds many jobs inside the caller's transaction in at most two statements, with the outcome of `enqueue(_:in:advance:)`
    /// called for each in order: of several jobs with one dedupe key the first is kept, moved up to the earliest
    /// `runAt` of those that `advance`. Returns how many jobs were added or moved.
    @discardableResult
    public func enqueue(many jobs: [(spec: JobSpec, advance: Bool)], in tx: any SQLExecutor) async throws -> Int {
        var merged: [(spec: JobSpec, advance: Bool)] = []
        var byKey: [String: Int] = [:]
        let now = Date()
        for (spec, advance) in jobs {
            guard let key = spec.dedupeKey else {
                merged.append((spec, advance))
                continue
            }
            if let i = byKey[key] {
                if advance, let runAt = spec.runAt, runAt < (merged[i].spec.runAt ?? now) {
                    merged[i].spec.runAt = runAt
                    merged[i].advance = true
                }
            } else {
                byKey[key] = merged.count
                merged.append((spec, advance))
            }
        }
        var changed = 0
        for advance in [false, true] {
            let specs = merged.filter { $0.advance == advance }.map(\.spec)
            for chunk in specs.chunked(200) {
                let onConflict = advance
                    ? "DO UPDATE SET run_at = excluded.run_at, updated_at = excluded.updated_at WHERE jobs.state = 'queued' AND jobs.run_at > excluded.run_at"
                    : "DO NOTHING"
                var binds: [SQLValue] = []
                binds.reserveCapacity(chunk.count * 10)
                for spec in chunk {
                    binds += [.text(spec.tenantId), .text(spec.partitionKey), .text(spec.kind), .text(spec.payload),
                              .int(Int64(spec.maxAttempts)), .of(spec.runAt ?? now), .of(spec.callId), .of(spec.dedupeKey),
                              .of(now), .of(now)]
                }
                let rows = try await tx.query("""
                    INSERT INTO jobs (tenant_id, partition_key, kind, payload, state, attempts, max_attempts, run_at, call_id,
                      dedupe_key, created_at, updated_at)
                    VALUES \(Array(repeating: "(?, ?, ?, ?, 'queued', 0, ?, ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                    ON CONFLICT (dedupe_key) \(onConflict) RETURNING id
                    """, binds)
                changed += rows.count
            }
        }
        if changed > 0 {
            tx.notifyOnCommit(Self.notifyChannel)
            let wake = self.wake
            tx.afterCommit { wake.signal() }
        }
        return changed
    }

    @discardableResult
    public func enqueue(_ spec: JobSpec) async throws -> Int64? {
        try await db.transaction { tx in try await enqueue(spec, in: tx) }
    }

    /// Every partition's head: the lowest-id queued or running job that holds the partition. A running job and a
    /// job waiting for a retry (`attempts > 0`) hold it, so a partition's jobs run in order and one at a time, and
    /// order survives outages; a job merely scheduled for later does not hold it until it is due.
    ///
    /// The partitions are walked on the active-jobs index (one probe per partition with active jobs, however long
    /// their backlogs), so the cost of a claim grows with the number of busy CRM accounts, not with queued jobs,
    /// and no backlog can hide another partition's head.
    static let headsSQL = """
        WITH RECURSIVE parts(k) AS (
          SELECT MIN(partition_key) FROM jobs WHERE state IN ('queued', 'running')
          UNION ALL
          SELECT (SELECT MIN(partition_key) FROM jobs WHERE state IN ('queued', 'running') AND partition_key > parts.k)
          FROM parts WHERE parts.k IS NOT NULL
        ), heads(id) AS (
          SELECT (SELECT id FROM jobs WHERE partition_key = parts.k AND state IN ('queued', 'running')
                    AND (state = 'running' OR attempts > 0 OR run_at <= ?) ORDER BY id LIMIT 1)
          FROM parts WHERE parts.k IS NOT NULL
        )
        """

    /// Leases up to `limit` runnable jobs, each the head of its partition (see `headsSQL`), the longest due first,
    /// so one partition's backlog delays another's due job by one claim at most. A running job whose lease expired
    /// (its worker died) is taken over.
    ///
    /// Two statements: the runnable heads, then one conditional update that another instance's concurrent claim
    /// makes skip rows it holds or has taken (PostgreSQL: `FOR UPDATE SKIP LOCKED`).
    public func claim(worker: String, limit: Int, lease: Duration, now: Date = Date()) async throws -> [Job] {
        guard limit > 0 else { return [] }
        let dialect = db.dialect
        let leaseUntil = now.addingTimeInterval(lease.seconds)
        return try await db.transaction { tx in
            if dialect == .postgres {
                // A claim lost in a database crash only makes the job run again, as a worker's crash would; the
                // attempt's outcome is committed synchronously, which also makes every earlier claim durable.
                try await tx.execute("SET LOCAL synchronous_commit TO OFF")
            }
            let heads = try await tx.query(Self.headsSQL + """
                SELECT j.id FROM heads JOIN jobs j ON j.id = heads.id
                WHERE (j.state = 'queued' AND j.run_at <= ?) OR (j.state = 'running' AND j.lease_expires_at <= ?)
                ORDER BY CASE WHEN j.state = 'running' THEN j.lease_expires_at ELSE j.run_at END, j.id
                LIMIT ?
                """, [.of(now), .of(now), .of(now), .int(Int64(limit))])
            let ids = heads.compactMap { $0.int64("id") }
            guard !ids.isEmpty else { return [] }
            let list = ids.map(String.init).joined(separator: ", ")
            let lock = dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
            let rows = try await tx.query("""
                UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?,
                  updated_at = ?
                WHERE id IN (SELECT id FROM jobs WHERE id IN (\(list))
                  AND (state = 'queued' OR (state = 'running' AND lease_expires_at <= ?))\(lock))
                RETURNING *
                """, [.text(worker), .of(leaseUntil), .of(now), .of(now)])
            let order = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
            return rows.map(Self.job).sorted { order[$0.id, default: 0] < order[$1.id, default: 0] }
        }
    }

    /// Extends every lease this worker holds, in one statement: the instance's heartbeat. A worker that dies stops
    /// renewing, and its jobs are taken over once their (short) leases run out.
    @discardableResult
    public func renewLeases(worker: String, lease: Duration, now: Date = Date()) async throws -> Int {
        try await db.transaction { tx in
            try await tx.query("""
                UPDATE jobs SET lease_expires_at = ? WHERE lease_owner = ? AND state = 'running' RETURNING id
                """, [.of(now.addingTimeInterval(lease.seconds)), .text(worker)]).count
        }
    }

    /// Extends the lease of a job this worker still holds; false if it lost the lease.
    public func heartbeat(jobId: Int64, worker: String, lease: Duration) async throws -> Bool {
        try await db.transaction { tx in
            !(try await tx.query("""
                UPDATE jobs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running' RETURNING id
                """, [.of(Date().addingTimeInterval(lease.seconds)), .int(jobId), .text(worker)]).isEmpty)
        }
    }

    /// Records the attempt and moves the job on; false if the worker no longer held the lease.
    @discardableResult
    public func finish(_ job: Job, worker: String, startedAt: Date, result: AttemptResult,
                       exchanges: [Exchange]) async throws -> Bool {
        try await finish(job, worker: worker, startedAt: startedAt, result: result, exchanges: exchanges, takeNext: nil).kept
    }

    /// Records the attempt and, with `takeNext` (the lease to take), in the same transaction leases the partition's
    /// next job to the same worker when it is the partition's runnable head: a busy partition then flows job after
    /// job without a trip through the claim loop, which stays free for every other partition's heads.
    public func finish(_ job: Job, worker: String, startedAt: Date, result: AttemptResult, exchanges: [Exchange],
                       takeNext lease: Duration?) async throws -> (kept: Bool, next: Job?) {
        let now = Date()
        let wake = self.wake
        let dialect = db.dialect
        return try await finisher.run { tx in
            let update: (String, [SQLValue], String, String?)
            var phrase: String?
            switch result {
            case .done:
                update = ("state = 'done', finished_at = ?, last_error = NULL, last_error_phrase = NULL", [.of(now)], "done", nil)
            case .retry(let at, let reason, let outage, let p):
                let reason = Self.storable(reason)
                phrase = p.map { Self.storable(JSON.string($0)) }
                update = ("state = 'queued', run_at = ?, last_error = ?, last_error_phrase = ?, failures = failures + ?",
                          [.of(at), .text(reason), .of(phrase), .int(outage ? 1 : 0)], "retry", reason)
            case .dead(let reason, let p):
                let reason = Self.storable(reason)
                phrase = p.map { Self.storable(JSON.string($0)) }
                update = ("state = 'dead', finished_at = ?, last_error = ?, last_error_phrase = ?",
                          [.of(now), .text(reason), .of(phrase)], "dead", reason)
            case .released:
                update = ("state = 'queued', attempts = attempts - 1", [], "released", "worker shut down; job handed back")
            }
            let rows = try await tx.query("""
                UPDATE jobs SET \(update.0), lease_owner = NULL, lease_expires_at = NULL, updated_at = ?
                WHERE id = ? AND lease_owner = ? AND state = 'running' RETURNING id
                """, update.1 + [.of(now), .int(job.id), .text(worker)])
            guard !rows.isEmpty else { return (false, nil) }
            try await tx.execute("""
                INSERT INTO job_attempts (job_id, tenant_id, attempt, worker, started_at, finished_at, outcome, detail,
                  detail_phrase, exchanges)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.int(job.id), .text(job.tenantId), .int(Int64(job.attempts)), .text(worker), .of(startedAt), .of(now),
                      .text(update.2), .of(update.3), .of(phrase), .text(JSON.string(exchanges))])
            var next: Job?
            if let lease, update.2 == "done" || update.2 == "dead" {
                next = try await Self.takeHead(of: job.partitionKey, worker: worker, lease: lease, now: now, in: tx, dialect: dialect)
            }
            // The partition's next job may run now (unless this worker took it).
            if next == nil { tx.afterCommit { wake.signal() } }
            return (true, next)
        }
    }

    /// Leases a partition's head to `worker` if it is runnable now (the rule of `headsSQL`, for one partition).
    static func takeHead(of partition: String, worker: String, lease: Duration, now: Date, in tx: any SQLExecutor,
                         dialect: SQLDialect) async throws -> Job? {
        guard let head = try await tx.one("""
            SELECT id FROM jobs WHERE partition_key = ? AND state IN ('queued', 'running')
              AND (state = 'running' OR attempts > 0 OR run_at <= ?) ORDER BY id LIMIT 1
            """, [.text(partition), .of(now)])?.int64("id") else { return nil }
        let lock = dialect == .postgres ? " FOR UPDATE SKIP LOCKED" : ""
        return try await tx.one("""
            UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires_at = ?, updated_at = ?
            WHERE id IN (SELECT id FROM jobs WHERE id = ? AND state = 'queued' AND run_at <= ?\(lock))
            RETURNING *
            """, [.text(worker), .of(now.addingTimeInterval(lease.seconds)), .of(now), .int(head), .of(now)]).map(Self.job)
    }

    /// Puts a dead job back in the queue (a tenant's "retry").
    public func replay(tenantId: String, id: Int64) async throws -> Bool {
        let now = Date()
        let wake = self.wake
        let dialect = db.dialect
        return try await db.transaction { tx in
            let rows = try await tx.query("""
                UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, finished_at = NULL, updated_at = ?
                WHERE tenant_id = ? AND id = ? AND state = 'dead' RETURNING id
                """, [.of(now), .of(now), .text(tenantId), .int(id)])
            guard !rows.isEmpty else { return false }
            if dialect == .postgres { try await tx.execute("SELECT pg_notify(?, '')", [.text(Self.notifyChannel)]) }
            tx.afterCommit { wake.signal() }
            return true
        }
    }

    public func get(tenantId: String, id: Int64) async throws -> Job? {
        try await db.read { r in
            try await r.one("SELECT * FROM jobs WHERE tenant_id = ? AND id = ?", [.text(tenantId), .int(id)]).map(Self.job)
        }
    }

    public func list(tenantId: String, state: JobState? = nil, callId: String? = nil, limit: Int = 100) async throws -> [Job] {
        var sql = "SELECT * FROM jobs WHERE tenant_id = ?"
        var binds: [SQLValue] = [.text(tenantId)]
        if let state { sql += " AND state = ?"; binds.append(.text(state.rawValue)) }
        if let callId { sql += " AND call_id = ?"; binds.append(.text(callId)) }
        sql += " ORDER BY id DESC LIMIT ?"
        binds.append(.int(Int64(limit)))
        let (query, values) = (sql, binds)
        return try await db.read { r in try await r.query(query, values).map(Self.job) }
    }

    public func attempts(tenantId: String, jobId: Int64) async throws -> [JobAttempt] {
        try await db.read { r in
            try await r.query("SELECT * FROM job_attempts WHERE tenant_id = ? AND job_id = ? ORDER BY id",
                              [.text(tenantId), .int(jobId)]).map {
                JobAttempt(attempt: $0.int("attempt") ?? 0, worker: $0.string("worker") ?? "",
                           startedAt: $0.date("started_at") ?? Date(), finishedAt: $0.date("finished_at") ?? Date(),
                           outcome: $0.string("outcome") ?? "", detail: $0.string("detail"),
                           detailPhrase: Self.phrase($0.string("detail_phrase")),
                           exchanges: (try? JSON.decode([Exchange].self, from: $0.string("exchanges") ?? "[]")) ?? [])
            }
        }
    }

    /// Jobs per state, for metrics.
    public func counts() async throws -> [JobState: Int] {
        try await db.read { r in
            var out: [JobState: Int] = [:]
            for row in try await r.query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state", []) {
                if let s = JobState(rawValue: row.string("state") ?? "") { out[s] = row.int("n") ?? 0 }
            }
            return out
        }
    }

    /// When a partition's head becomes due or its lease runs out, or a job scheduled for later comes due, if ever.
    /// Jobs waiting behind a head are not counted: they cannot run before it.
    public func nextDue(now: Date = Date()) async throws -> Date? {
        try await db.read { r in
            let heads = try await r.one(Self.headsSQL + """
                SELECT MIN(CASE WHEN j.state = 'running' THEN j.lease_expires_at ELSE j.run_at END) AS t
                FROM heads JOIN jobs j ON j.id = heads.id
                """, [.of(now)])
            let later = try await r.one("SELECT MIN(run_at) AS t FROM jobs WHERE state = 'queued' AND run_at > ?",
                                        [.of(now)])
            return [heads?.date("t"), later?.date("t")].compactMap { $0 }.min()
        }
    }

    /// A failure's reason often quotes the remote's answer; a NUL in it would make PostgreSQL refuse the outcome (and
    /// SQLite cut it), so the attempt could never be recorded and the job would run again and again. Shown as `\0`.
    static func storable(_ reason: String) -> String {
        reason.contains("\0") ? reason.replacingOccurrences(of: "\0", with: "\\0") : reason
    }

    /// A stored phrase; nil when there is none or it cannot be read (the English beside it is shown then).
    static func phrase(_ json: String?) -> Phrase? {
        json.flatMap { try? JSON.decode(Phrase.self, from: $0) }
    }

    static func job(_ row: SQLRow) -> Job {
        Job(id: row.int64("id") ?? 0, tenantId: row.string("tenant_id") ?? "", partitionKey: row.string("partition_key") ?? "",
            kind: row.string("kind") ?? "", payload: row.string("payload") ?? "",
            state: JobState(rawValue: row.string("state") ?? "") ?? .queued, attempts: row.int("attempts") ?? 0,
            maxAttempts: row.int("max_attempts") ?? 0, runAt: row.date("run_at") ?? Date(),
            leaseOwner: row.string("lease_owner"), leaseExpiresAt: row.date("lease_expires_at"),
            lastError: row.string("last_error"), lastErrorPhrase: phrase(row.string("last_error_phrase")), callId: row.string("call_id"), failures: row.int("failures") ?? 0,
            createdAt: row.date("created_at") ?? Date(), updatedAt: row.date("updated_at") ?? Date(),
            finishedAt: row.date("finished_at"))
    }
}

public extension Duration {
    var seconds: Double {
        let c = components
        return Double(c.seconds) + Double(c.attoseconds) / 1e18
    }
}
