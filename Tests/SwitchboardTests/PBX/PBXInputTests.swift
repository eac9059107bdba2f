import Foundation
import Logging
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardPBX
import SwitchboardSimulator
import SwitchboardStorage

/// Times and lengths a PBX cannot mean, the refusal log lines a stranger can provoke, and the routing deadline's margin.
@Suite("PBX input: plausible times, refusal logs, routing margin")
struct PBXInputTests {
    static let now = Date(timeIntervalSince1970: 1_750_000_000)

    func history(_ extra: [String: String]) -> [String: String] {
        var f = ["cmd": "history", "callid": "c-1", "status": "Success", "type": "in", "phone": "79101112233",
                 "start": CompactUTC.format(Self.now.addingTimeInterval(-120)), "duration": "60"]
        for (k, v) in extra { f[k] = v }
        return f
    }

    func refusal(_ f: [String: String]) -> ITooLabsError? {
        do throws(ITooLabsError) {
            _ = try ITooLabsAdapter.message(f, receivedAt: Self.now)
            return nil
        } catch {
            return error
        }
    }

    @Test("ITooLabs history: a negative or absurd duration or wait, or a start in the future, is refused with the reason")
    func itoolabsBounds() throws {
        #expect(refusal(history([:])) == nil)
        #expect(refusal(history(["duration": "0", "wait": "0"])) == nil)
        #expect(refusal(history(["duration": "86400", "start": CompactUTC.format(Self.now.addingTimeInterval(-86_400))])) == nil)
        // A PBX clock a little ahead is tolerated.
        #expect(refusal(history(["start": CompactUTC.format(Self.now.addingTimeInterval(60)), "duration": "30"])) == nil)

        let negative = try #require(refusal(history(["duration": "-5"])))
        #expect(negative.status == 400 && negative.message.contains("duration -5 is not between 0 and 86400"))
        let huge = try #require(refusal(history(["duration": "9223372036854775807"])))
        #expect(huge.status == 400 && huge.message.contains("duration 9223372036854775807"))
        let longWait = try #require(refusal(history(["wait": "100000"])))
        #expect(longWait.message.contains("wait 100000"))
        #expect(refusal(history(["wait": "soon"]))?.message.contains("wait is not a number") == true)
        let future = try #require(refusal(history(["start": "99991231T235959Z"])))
        #expect(future.status == 400 && future.message.contains("start 99991231T235959Z is in the future"))
        let endsLater = try #require(refusal(history(["start": CompactUTC.format(Self.now.addingTimeInterval(-60)),
                                                      "duration": "7200"])))
        #expect(endsLater.message.contains("ends in the future"))
    }

    func nativeEvent(occurredAt: Date = now, final: NativeProtocol.Final?) -> [UInt8] {
        let event = NativeProtocol.Event(event_id: "e-1", type: .finalized, call_id: "c-1", occurred_at: occurredAt, final: final)
        return Array(try! JSON.encoder.encode(event))
    }

    func nativeProblem(_ body: [UInt8]) -> NativeProtocol.Problem? {
        do throws(NativeProtocol.Problem) {
            _ = try NativeProtocol.events(body: body, now: Self.now)
            return nil
        } catch {
            return error
        }
    }

    @Test("native protocol: the same bounds for final and occurred_at")
    func nativeBounds() throws {
        let start = Self.now.addingTimeInterval(-300)
        #expect(nativeProblem(nativeEvent(final: .init(status: .answered, started_at: start, duration_sec: 60, wait_sec: 5))) == nil)
        let negative = try #require(nativeProblem(nativeEvent(final: .init(status: .answered, started_at: start, duration_sec: -5))))
        #expect(negative.status == 400 && negative.message.contains("duration -5"))
        let huge = try #require(nativeProblem(nativeEvent(final: .init(status: .answered, duration_sec: Int.max))))
        #expect(huge.message.contains("duration \(Int.max)"))
        let later = try #require(nativeProblem(nativeEvent(final: .init(status: .answered,
                                                                        started_at: Date(timeIntervalSince1970: 253_402_300_799)))))
        #expect(later.message.contains("is in the future"))
        let futureEvent = try #require(nativeProblem(nativeEvent(occurredAt: Self.now.addingTimeInterval(3600), final: nil)))
        #expect(futureEvent.message.contains("occurred_at"))
        // In a batch, too.
        let batch = "{\"events\": [\(String(decoding: nativeEvent(final: .init(status: .missed, wait_sec: -1)), as: UTF8.self))]}"
        #expect(nativeProblem(Array(batch.utf8))?.message.contains("wait -1") == true)
    }

    @Test("an absurd history is refused over HTTP, on both protocols, and nothing is stored", arguments: Backend.available)
    func refusedOverHTTP(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let itoolabs = try await PBXFixture.make(sb, protocol: .itoolabs)
            let native = try await PBXFixture.make(sb, protocol: .switchboard)
            try await withLiveSwitchboard(sb, workers: false) { base in
                var f = history(["callid": "absurd-1", "duration": "9223372036854775807"])
                f["start"] = CompactUTC.format(Date().addingTimeInterval(-60))
                var reply = try await itoolabs.player(base).send(.itoolabs(f))
                #expect(reply.status == 400)
                #expect(reply.body.contains("duration 9223372036854775807 is not between 0 and 86400 seconds"))
                reply = try await itoolabs.player(base).send(.itoolabs(history(["callid": "absurd-2", "start": "99991231T235959Z"])))
                #expect(reply.status == 400 && reply.body.contains("in the future"))

                let event = NativeProtocol.Event(event_id: "e-absurd", type: .finalized, call_id: "absurd-3", occurred_at: Date(),
                                                 final: .init(status: .answered, started_at: Date().addingTimeInterval(-60),
                                                              duration_sec: -5))
                reply = try await native.player(base).send(.native(event))
                #expect(reply.status == 400 && reply.body.contains("duration -5"))
            }
            #expect(try await sb.calls.find(connectionId: itoolabs.connection.id, externalId: "absurd-1") == nil)
            #expect(try await sb.calls.find(connectionId: itoolabs.connection.id, externalId: "absurd-2") == nil)
            #expect(try await sb.calls.find(connectionId: native.connection.id, externalId: "absurd-3") == nil)
        }
    }

    @Test("refusal log lines escape the sender's text, cut it short, and are limited per sender")
    func refusalLogs() async throws {
        let log = CapturedLog()
        let storage = try await TestStorage.make(.sqlite)
        let sb = try await Switchboard.open(config: storage.config, logger: log.logger(level: .warning))
        let fx = try await PBXFixture.make(sb, protocol: .itoolabs)
        try await withLiveSwitchboard(sb, workers: false) { base in
            // A forged second line and terminal escapes inside a field that is echoed in the reason.
            let reply = try await fx.player(base).send(.itoolabs(["cmd": "evil\n2030-01-01 critical: forged line \u{1B}[31m"]))
            #expect(reply.status == 400)
            // A made-up connection id, far too long, sent again and again.
            let longId = String(repeating: "x", count: 5000)
            for _ in 0..<12 {
                let r = try await ScenarioPlayer(baseURL: base, connectionId: longId, secret: "nope").askContact(phone: "79101112233")
                #expect(r.status == 404)
            }
        }
        let lines = log.lines("PBX request refused")
        let first = try #require(lines.first)
        #expect(first.metadata["reason"]?.contains("evil\\n2030-01-01 critical: forged line \\u{1b}[31m") == true)
        #expect(lines.allSatisfy { line in line.metadata.values.allSatisfy { !$0.contains("\n") && !$0.contains("\u{1B}") } })
        let unknown = lines.filter { $0.metadata["status"] == "404" }
        // One address logs five a minute for unknown connections; the other seven are left out.
        #expect(unknown.count == 5)
        #expect(unknown.allSatisfy { ($0.metadata["connection"]?.count ?? .max) < 100 })
        await sb.shutdown()
        await storage.cleanUp()
    }

    @Test("the log throttle lets a burst through per key, then reports what it left out")
    func throttle() {
        let throttle = LogThrottle(burst: 2, window: .seconds(60), maxKeys: 2)
        let t0 = ContinuousClock.now
        #expect(throttle.admit("a", now: t0) == .log(suppressed: 0))
        #expect(throttle.admit("a", now: t0) == .log(suppressed: 0))
        #expect(throttle.admit("a", now: t0) == .skip)
        #expect(throttle.admit("a", now: t0 + .seconds(1)) == .skip)
        #expect(throttle.admit("b", now: t0) == .log(suppressed: 0))
        #expect(throttle.admit("a", now: t0 + .seconds(61)) == .log(suppressed: 2))
        #expect(throttle.admit("a", now: t0 + .seconds(61)) == .log(suppressed: 0))
        // Past `maxKeys`, memory stays bounded.
        #expect(throttle.admit("c", now: t0 + .seconds(200)) == .log(suppressed: 0))
        #expect(UntrustedText.loggable("a\u{0}b\r\n\u{7F}ы\\", limit: 50) == "a\\u{0}b\\r\\n\\u{7f}\\u{44b}\\\\")
        #expect(UntrustedText.loggable(String(repeating: "z", count: 10), limit: 4) == "zzzz…(10 characters)")
    }

    @Test("routing keeps one margin before the PBX's deadline on every protocol")
    func budgetRule() {
        #expect(RoutingBudget.answerWithin(connectionDeadlineMs: 1500) == .milliseconds(1350))
        #expect(RoutingBudget.answerWithin(connectionDeadlineMs: 100) == .milliseconds(50))
        #expect(RoutingBudget.answerWithin(connectionDeadlineMs: 200, askedMs: 1000) == .milliseconds(150))
        #expect(RoutingBudget.answerWithin(connectionDeadlineMs: 1500, askedMs: 20) == .zero)
    }

    @Test("ITooLabs cmd=contact with a slow CRM: the fallback within the deadline less the margin; the late answer fills the cache",
          arguments: Backend.available)
    func itoolabsMargin(_ backend: Backend) async throws {
        let log = CapturedLog()
        let gate = Gate()
        let lookup = FakeManagerLookup(mode: .blocked(gate), owners: RoutingAndCommandTests.owners)
        let storage = try await TestStorage.make(backend)
        let sb = try await Switchboard.open(config: storage.config, logger: log.logger(level: .debug), lookups: [.amocrm: lookup])
        let fx = try await routingFixture(sb, protocol: .itoolabs, deadlineMs: 300)
        try await withLiveSwitchboard(sb, workers: false) { base in
            let p = fx.player(base)
            let r = try await p.askContact(phone: "89101112233")
            #expect(r.status == 200 && r.body == "{}")
            // The CRM could not answer (the gate is shut), and routing gave up at 300 ms less the margin.
            let reason = log.lines("routing answered").last?.metadata["reason"] ?? ""
            #expect(reason.contains("did not answer within 250 ms"), "\(reason)")
            #expect(lookup.finished == 0)
            await gate.open()
            try await eventually("the late CRM answer to reach the cache") {
                let body = try await p.askContact(phone: "89101112233").body
                return (try? JSON.decode([String: String].self, from: body))?["responsible"] == "ivan"
            }
            #expect(lookup.calls == 1)
        }
        await sb.shutdown()
        await storage.cleanUp()
    }
}
