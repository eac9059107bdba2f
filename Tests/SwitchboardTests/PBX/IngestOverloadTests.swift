import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// Opens once, then lets waiters through.
private final class StallGate: @unchecked Sendable {
    private let lock = NSLock()
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        await withCheckedContinuation { c in
            let now = lock.withLock { () -> Bool in
                if open { return true }
                waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func release() {
        let all = lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            open = true
            defer { waiters = [] }
            return waiters
        }
        for c in all { c.resume() }
    }
}

private struct Answer: Sendable {
    var callId: String
    var status: Int
    var retryAfter: String?
    var body: String
}

@Suite("PBX ingest under overload and storage failures")
struct IngestOverloadTests {
    /// Posts one ITooLabs INCOMING event; returns the status, Retry-After and body.
    private static func post(_ http: HTTPClient, _ base: String, _ fx: PBXFixture, callId: String) async throws -> Answer {
        var request = HTTPClientRequest(url: "\(base)/pbx/itoolabs/\(fx.connection.id)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = FormURLEncoding.encode(["cmd": "event", "type": "INCOMING", "callid": callId, "phone": "79161234567",
                                           "user": "ivan", "crm_token": fx.secret])
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await http.execute(request, timeout: .seconds(60))
        var buffer = try await response.body.collect(upTo: 1 << 20)
        return Answer(callId: callId, status: Int(response.status.code), retryAfter: response.headers.first(name: "Retry-After"),
                      body: buffer.readString(length: buffer.readableBytes) ?? "")
    }

    /// A Switchboard on fresh storage whose log is captured, and an HTTP client with room for many connections.
    private static func withServer(_ backend: Backend, configure: (inout AppConfig) -> Void = { _ in },
                                   _ body: (Switchboard, CapturedLog, HTTPClient) async throws -> Void) async throws {
        let storage = try await TestStorage.make(backend)
        var config = storage.config
        configure(&config)
        let log = CapturedLog()
        let sb = try await Switchboard.open(config: config, logger: log.logger(level: .info))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(connectionPool: .init(
            idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))
        var failure: (any Error)?
        do { try await body(sb, log, http) } catch { failure = error }
        try? await http.shutdown()
        await sb.shutdown()
        await storage.cleanUp()
        if let failure { throw failure }
    }

    private static func storedEvents(_ sb: Switchboard, _ fx: PBXFixture) async throws -> Int {
        try await sb.db.read {
            try await $0.one("SELECT COUNT(*) AS n FROM call_events WHERE pbx_connection_id = ?", [.text(fx.connection.id)])
        }?.int("n") ?? 0
    }

    @Test("an overloaded server answers 503 with Retry-After, logs why, and stores every event it acknowledged",
          arguments: Backend.available)
    func overloadRefusesCleanly(_ backend: Backend) async throws {
        try await Self.withServer(backend, configure: { $0.ingestQueueLimit = 1 }) { sb, log, http in
            let fx = try await PBXFixture.make(sb)
            let held = StallGate(), gate = StallGate()
            let start = StallGate()
            let blocker = Task {
                await start.wait()
                try await sb.db.transaction { tx in
                    if tx.dialect == .postgres { try await tx.execute("LOCK TABLE call_events IN EXCLUSIVE MODE") }
                    held.release()
                    await gate.wait()
                }
            }
            let requests = 30
            let answers = try await withLiveSwitchboard(sb, workers: false) { base in
                // One event before the stall, so the connection is known (its lookup needs no storage later).
                #expect(try await Self.post(http, base, fx, callId: "before").status == 200)
                // Storage stalls: a transaction holds what every ingest batch needs until the gate opens.
                start.release()
                await held.wait()
                return try await withThrowingTaskGroup(of: Answer.self) { group in
                    for i in 0..<requests {
                        group.addTask { try await Self.post(http, base, fx, callId: "overload-\(i)") }
                    }
                    // Only the batches the shards have taken and one waiting request can be held by the stall:
                    // everything else is answered while storage is still stalled.
                    let shards = sb.db.dialect == .sqlite ? 1 : 4
                    var answers: [Answer] = []
                    while answers.count < requests - shards - 1, let answer = try await group.next() { answers.append(answer) }
                    gate.release()
                    while let answer = try await group.next() { answers.append(answer) }
                    return answers
                }
            }
            try await blocker.value
            let acknowledged = answers.filter { $0.status == 200 }
            let refused = answers.filter { $0.status == 503 }
            #expect(acknowledged.count + refused.count == requests, "every answer is 200 or 503: \(answers.map { $0.status })")
            #expect(!acknowledged.isEmpty)
            #expect(refused.count >= requests - 5)
            for answer in refused {
                #expect(answer.retryAfter == "1")
                #expect(answer.body.contains("overloaded"))
            }
            // Acknowledged ⇒ stored; refused ⇒ nothing of it written.
            for answer in acknowledged {
                #expect(try await sb.calls.find(connectionId: fx.connection.id, externalId: answer.callId) != nil,
                        "acknowledged \(answer.callId) is stored")
            }
            for answer in refused {
                #expect(try await sb.calls.find(connectionId: fx.connection.id, externalId: answer.callId) == nil,
                        "refused \(answer.callId) left nothing behind")
            }
            #expect(try await Self.storedEvents(sb, fx) == acknowledged.count + 1)
            let lines = log.lines("PBX events refused: overloaded")
            #expect(!lines.isEmpty)
            #expect(lines.first?.metadata["reason"]?.contains("waiting for storage") == true)
        }
    }

    @Test("a storage failure answers 503 with Retry-After and a reason in the log, never a bare 500",
          arguments: Backend.available)
    func storageFailureIsRetryable(_ backend: Backend) async throws {
        try await Self.withServer(backend) { sb, log, http in
            let fx = try await PBXFixture.make(sb)
            try await withLiveSwitchboard(sb, workers: false) { base in
                _ = try await sb.db.transaction { tx in try await tx.execute("ALTER TABLE call_events RENAME TO call_events_away") }
                let failed = try await Self.post(http, base, fx, callId: "broken-1")
                #expect(failed.status == 503)
                #expect(failed.retryAfter == "1")
                #expect(failed.body.contains("could not store"))
                #expect(try await sb.calls.find(connectionId: fx.connection.id, externalId: "broken-1") == nil)
                let lines = log.lines("PBX events refused: storage failed")
                #expect(lines.count == 1)
                #expect(lines.first?.level == .error)
                _ = try await sb.db.transaction { tx in try await tx.execute("ALTER TABLE call_events_away RENAME TO call_events") }
                // The PBX sends it again, and now it is stored.
                let again = try await Self.post(http, base, fx, callId: "broken-1")
                #expect(again.status == 200)
                #expect(try await sb.calls.find(connectionId: fx.connection.id, externalId: "broken-1") != nil)
            }
        }
    }

    @Test("group commit: a batch the server rolls back for a conflict runs again, whole, instead of failing a unit",
          arguments: Backend.available)
    func conflictRunsAgain(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let committer = GroupCommitter(db: sb.db)
            let attempts = LockedCounter()
            let outcomes = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<8 {
                    group.addTask {
                        try await committer.run(key: "same call") { tx in
                            try await tx.execute("INSERT INTO tenants (id, name, region, created_at) VALUES (?, ?, 'RU', 0)",
                                                 [.text("ten_cf\(i)"), .text("n\(i)")])
                            // The first attempt of unit 3 meets a deadlock, as a batch would with another instance's.
                            if i == 3, attempts.next() == 0 { throw DatabaseError("deadlock detected", isConflict: true) }
                            return i
                        }
                    }
                }
                var out: [Int] = []
                for try await i in group { out.append(i) }
                return out
            }
            #expect(outcomes.sorted() == Array(0..<8))
            let stored = try await sb.db.read { try await $0.query("SELECT id FROM tenants WHERE id LIKE 'ten_cf%'", []) }
            #expect(stored.count == 8)
        }
    }
}

private final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var n = 0
    func next() -> Int { lock.withLock { defer { n += 1 }; return n } }
}
