import Foundation
import Testing
import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardPBX
@testable import SwitchboardStorage

/// The batched ingest (a group commit's requests in a few multi-row statements) must store exactly what the
/// request-by-request path stores: the same calls, events, aliases and jobs, and the same answers to the PBX.
@Suite("Batched ingest is the one-by-one ingest, faster")
struct BatchIngestTests {
    /// A seeded stream of requests for `calls` calls of one connection: ringing, answers, transfers to a new provider id
    /// (sometimes seen before the transfer, so two stored calls merge), ends, final records with recordings, repeats
    /// of earlier events, several events in one request, calls interleaved.
    static func stream(seed: UInt64, calls: Int) -> [[CallEvent]] {
        var rng = SeededRandom(seed: seed)
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        var perCall: [[CallEvent]] = []
        for i in 0..<calls {
            let ext = "c\(seed)-\(i)"
            var t = base.addingTimeInterval(Double(i))
            var events: [CallEvent] = []
            func add(_ kind: CallEventKind, _ type: String, on id: String = ext, related: String? = nil, who: String? = nil,
                     final: CallFinal? = nil, recording: String? = nil) {
                t = t.addingTimeInterval(1)
                events.append(CallEvent(key: "\(id)-\(events.count)-\(type)", kind: kind, providerType: type, externalCallId: id,
                                        relatedExternalId: related, occurredAt: t, occurredAtIsProviderTime: true,
                                        direction: .inbound, clientNumberRaw: "7916\(1_000_000 + i)", lineNumber: "74951234567",
                                        employeeLogin: who, final: final, recordingURL: recording))
            }
            let employees = ["ivan", "olga", "petr"]
            let first = employees[Int(rng.next() % 3)]
            add(.legRinging, "INCOMING", who: first)
            if rng.next() % 2 == 0 { add(.legRinging, "INCOMING", who: employees[(employees.firstIndex(of: first)! + 1) % 3]) }
            let answered = rng.next() % 4 != 0
            if answered { add(.legAnswered, "ACCEPTED", who: first) }
            switch rng.next() % 25 {
            case 0, 1, 2, 3, 4:
                // A transfer to a new provider id, then the new part rings and ends.
                add(.transferred, "TRANSFERRED", related: ext + "t", who: first)
                add(.legRinging, "INCOMING", on: ext + "t", who: "petr")
                add(.legEnded, "COMPLETE", on: ext + "t", who: "petr")
            case 5:
                // The new part is heard of first: two calls, merged by the transfer event.
                add(.legRinging, "INCOMING", on: ext + "m", who: "olga")
                add(.transferred, "TRANSFERRED", related: ext + "m", who: first)
            default:
                break
            }
            add(.legEnded, answered ? "COMPLETE" : "CANCELLED", who: first)
            add(.callEnded, "HANGUP")
            if rng.next() % 2 == 0 { add(.finalized, "history", final: nil, recording: "https://pbx.example/rec/\(ext).mp3") }
            perCall.append(events)
        }
        // Interleave the calls (each call's events stay in order), group some neighbours into one request, and
        // repeat some events later on.
        var requests: [[CallEvent]] = []
        var cursors = Array(repeating: 0, count: perCall.count)
        var open = Array(perCall.indices)
        var sent: [CallEvent] = []
        while !open.isEmpty {
            let pick = Int(rng.next() % UInt64(open.count))
            let c = open[pick]
            let take = rng.next() % 6 == 0 ? 2 : 1
            let end = min(cursors[c] + take, perCall[c].count)
            let request = Array(perCall[c][cursors[c]..<end])
            cursors[c] = end
            if cursors[c] == perCall[c].count { open.remove(at: pick) }
            requests.append(request)
            sent += request
            if rng.next() % 7 == 0, let again = sent.randomElement(using: &rng) { requests.append([again]) }
        }
        return requests
    }

    /// What one connection's storage holds, with Switchboard's own ids replaced by the provider's.
    static func snapshot(_ sb: Switchboard, connectionId: String) async throws -> [String] {
        try await sb.db.read { r in
            var names: [String: String] = [:]
            for row in try await r.query("SELECT id, name FROM integrations WHERE pbx_connection_id = ?", [.text(connectionId)]) {
                names[row.string("id")!] = row.string("name")!
            }
            for row in try await r.query("SELECT external_id, call_id FROM call_aliases WHERE pbx_connection_id = ? ORDER BY external_id",
                                         [.text(connectionId)]) {
                let id = row.string("call_id")!
                names[id] = names[id].map { $0 + "+" + row.string("external_id")! } ?? row.string("external_id")!
            }
            func name(_ id: String?) -> String { id.flatMap { names[$0] } ?? "?\(id ?? "nil")" }
            var lines: [String] = []
            for row in try await r.query("SELECT id, model FROM calls WHERE pbx_connection_id = ?", [.text(connectionId)]) {
                var call = try JSON.decode(Call.self, from: row.string("model")!)
                let callName = name(row.string("id"))
                call.id = callName
                call.tenantId = ""
                call.pbxConnectionId = ""
                lines.append("call \(callName): \(JSON.string(call))")
            }
            for row in try await r.query("""
                SELECT call_id, event_key, type FROM call_events WHERE pbx_connection_id = ?
                """, [.text(connectionId)]) {
                lines.append("event \(row.string("event_key")!) \(row.string("type")!) of \(name(row.string("call_id")))")
            }
            for row in try await r.query("""
                SELECT j.kind, j.dedupe_key, j.call_id, j.state, j.payload FROM jobs j JOIN calls c ON c.id = j.call_id
                WHERE c.pbx_connection_id = ?
                """, [.text(connectionId)]) {
                var dedupe = row.string("dedupe_key") ?? ""
                var payload = row.string("payload") ?? ""
                for (id, n) in names {
                    dedupe = dedupe.replacingOccurrences(of: id, with: n)
                    payload = payload.replacingOccurrences(of: id, with: n)
                }
                // A job made before its call merged into another names the call merged away, on both paths.
                let gone = /call_[0-9a-f]{27}/
                dedupe = dedupe.replacing(gone, with: "merged")
                payload = payload.replacing(gone, with: "merged")
                lines.append("job \(row.string("kind")!) \(dedupe) \(row.string("state")!) \(payload) of \(name(row.string("call_id")))")
            }
            return lines.sorted()
        }
    }

    static func fixture(_ sb: Switchboard, name: String) async throws -> (PBXConnection, Set<String>) {
        let tenant = try await sb.tenants.create(name: name)
        let (connection, _) = try await sb.pbx.create(tenantId: tenant.id, name: "PBX", protocol: .itoolabs, apiURL: nil, apiKey: nil)
        let crm = CRMKind.amocrm
        for n in 0..<2 {
            _ = try await sb.integrations.create(tenantId: tenant.id, crm: crm, name: "crm \(n)", credentialId: nil,
                                                 pbxConnectionId: connection.id, active: true, settings: .object([:]))
        }
        return (connection, [CallJobKind.ringing(crm), CallJobKind.answered(crm), CallJobKind.finished(crm)])
    }

    @Test("a seeded stream stored in batches equals the same stream stored request by request", arguments: Backend.available)
    func batchesEqualOneByOne(backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let (reference, kinds) = try await Self.fixture(sb, name: "one by one")
            let (batched, _) = try await Self.fixture(sb, name: "batched")
            let ingestor = CallIngestor(db: sb.db, queue: sb.queue, handledKinds: kinds, logger: testLogger())
            for seed in [UInt64(1), 2, 3] {
                let requests = Self.stream(seed: seed, calls: 60)
                @Sendable func unit(_ events: [CallEvent], _ connection: PBXConnection) -> CallIngestor.Unit {
                    CallIngestor.Unit(request: IngestRequest(events: events, raw: "raw", tenantId: connection.tenantId,
                                                             connectionId: connection.id, region: "RU"), proto: .itoolabs)
                }
                var expected: [[IngestOutcome]] = []
                for events in requests {
                    expected.append(try await sb.db.transaction { tx in try await ingestor.storeOne(unit(events, reference), in: tx) })
                }
                var got: [[IngestOutcome]] = []
                var rng = SeededRandom(seed: seed &+ 100)
                var start = 0, whole = 0, fallbacks = 0
                while start < requests.count {
                    let size = min(1 + Int(rng.next() % 24), requests.count - start)
                    let units = requests[start..<start + size].map { unit($0, batched) }
                    do {
                        got += try await sb.db.transaction { tx in try await ingestor.storeBatch(units, in: tx) }
                        whole += 1
                    } catch is NeedsSingleIngest {
                        // What the group commit does: the same requests again, one by one, in one transaction.
                        got += try await sb.db.transaction { tx in
                            var out: [[IngestOutcome]] = []
                            for u in units { out.append(try await ingestor.storeOne(u, in: tx)) }
                            return out
                        }
                        fallbacks += 1
                    }
                    start += size
                }
                #expect(whole > fallbacks, "most batches are stored whole (\(whole) whole, \(fallbacks) one by one)")
                #expect(fallbacks > 0, "the stream has merges, which only the one-by-one path does")
                #expect(got.map { $0.map(\.duplicate) } == expected.map { $0.map(\.duplicate) }, "seed \(seed): repeats")
                #expect(got.map { $0.map(\.transitions) } == expected.map { $0.map(\.transitions) }, "seed \(seed): transitions")
            }
            let want = try await Self.snapshot(sb, connectionId: reference.id)
            let have = try await Self.snapshot(sb, connectionId: batched.id)
            #expect(want.count > 1000)
            #expect(have.count == want.count)
            for (a, b) in zip(want, have) where a != b {
                Issue.record("one by one: \(a)\nbatched:    \(b)")
                break
            }
        }
    }

    @Test("a repeat of a stored event in a batch changes nothing and makes no job", arguments: Backend.available)
    func repeatsInBatches(backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let (connection, kinds) = try await Self.fixture(sb, name: "repeats")
            let ingestor = CallIngestor(db: sb.db, queue: sb.queue, handledKinds: kinds, logger: testLogger())
            let ring = CallEvent(key: "k1", kind: .legRinging, providerType: "INCOMING", externalCallId: "x1", occurredAt: Date(),
                                 direction: .inbound, clientNumberRaw: "79161234567", employeeLogin: "ivan")
            @Sendable func unit(_ events: [CallEvent]) -> CallIngestor.Unit {
                CallIngestor.Unit(request: IngestRequest(events: events, raw: "raw", tenantId: connection.tenantId,
                                                         connectionId: connection.id, region: "RU"), proto: .itoolabs)
            }
            let first = try await sb.db.transaction { tx in try await ingestor.storeBatch([unit([ring]), unit([ring])], in: tx) }
            #expect(first.map { $0.map(\.duplicate) } == [[false], [true]])
            let again = try await sb.db.transaction { tx in try await ingestor.storeBatch([unit([ring]), unit([ring])], in: tx) }
            #expect(again.map { $0.map(\.duplicate) } == [[true], [true]])
            let jobs = try await sb.db.read { try await $0.query("SELECT kind FROM jobs WHERE tenant_id = ?", [.text(connection.tenantId)]) }
            #expect(jobs.count == 2, "one ringing job per integration")
        }
    }

    @Test("when two stored calls merge, their jobs name the kept call and none is made twice", arguments: Backend.available)
    func mergedCallsJobs(backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let (connection, kinds) = try await Self.fixture(sb, name: "merge")
            let ingestor = CallIngestor(db: sb.db, queue: sb.queue, handledKinds: kinds, logger: testLogger())
            let t0 = Date()
            func event(_ key: String, _ kind: CallEventKind, on ext: String, related: String? = nil, who: String) -> CallEvent {
                CallEvent(key: key, kind: kind, providerType: "x", externalCallId: ext, relatedExternalId: related,
                          occurredAt: t0, direction: .inbound, clientNumberRaw: "79161234567", employeeLogin: who)
            }
            // The transferred part is heard of first: Olga's and Ivan's phones ring on it; then the origin rings Ivan,
            // then the transfer names both parts.
            for e in [event("1", .legRinging, on: "part", who: "olga"), event("2", .legRinging, on: "part", who: "ivan"),
                      event("3", .legRinging, on: "origin", who: "ivan"),
                      event("4", .transferred, on: "origin", related: "part", who: "ivan")] {
                _ = try await sb.db.transaction { tx in
                    try await ingestor.storeOne(CallIngestor.Unit(request: IngestRequest(events: [e], raw: "raw", tenantId: connection.tenantId,
                                                                                          connectionId: connection.id, region: "RU"),
                                                                  proto: .itoolabs), in: tx)
                }
            }
            let calls = try await sb.calls.list(tenantId: connection.tenantId)
            #expect(calls.count == 1)
            let kept = try #require(calls.first).id
            let jobs = try await sb.db.read {
                try await $0.query("SELECT call_id, payload, dedupe_key FROM jobs WHERE tenant_id = ? AND kind LIKE '%ringing'",
                                   [.text(connection.tenantId)])
            }
            for job in jobs {
                let payload = try JSON.decode(CallJobPayload.self, from: job.string("payload")!)
                #expect(payload.callId == kept, "a job's payload names the kept call")
                #expect(job.string("call_id") == kept)
                #expect(job.string("dedupe_key")!.hasPrefix(kept + ":"))
            }
            // Two integrations: Olga's card once and Ivan's once for each, though Ivan rang on both parts.
            let logins = jobs.compactMap { try? JSON.decode(CallJobPayload.self, from: $0.string("payload")!).employeeLogin }
            #expect(logins.sorted() == ["ivan", "ivan", "olga", "olga"])
        }
    }
}
