import Foundation
import Testing
import SwitchboardCore
@testable import SwitchboardPBX

@Suite("Phone numbers")
struct PhoneNumberTests {
    @Test("numbers as PBXs send them become E.164, keeping the raw form", arguments: [
        ("79101234567", "+79101234567"), ("89101234567", "+79101234567"), ("9101234567", "+79101234567"),
        ("+7 (910) 123-45-67", "+79101234567"), ("8 910 123 45 67", "+79101234567"), ("0079101234567", "+79101234567"),
        ("+375291234567", "+375291234567"), ("74951234567", "+74951234567"),
    ])
    func normalise(_ raw: String, _ e164: String) {
        let n = PhoneNumber.parse(raw, region: "RU")
        #expect(n.e164 == e164)
        #expect(n.raw == raw)
        #expect(n.last10 == String(e164.suffix(10)))
    }

    @Test("extensions and hidden numbers are not made into E.164", arguments: ["101", "anonymous", ""])
    func notPublic(_ raw: String) {
        #expect(PhoneNumber.parse(raw).e164 == nil)
    }

    @Test("national forms follow the tenant's region")
    func regions() {
        #expect(PhoneNumber.parse("0291234567", region: "UA").e164 == "+380291234567")
        #expect(PhoneNumber.parse("901234567", region: "UZ").e164 == "+998901234567")
    }
}

/// Table tests of the call state machine for the cases of pbx-protocols.md §7 and §8.2.
@Suite("Call state machine")
struct CallModelTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func ev(_ kind: CallEventKind, _ who: String? = nil, at: TimeInterval = 0, call: String = "X", related: String? = nil,
                   type: String? = nil, direction: CallDirection? = .inbound, final: CallFinal? = nil) -> CallEvent {
        CallEvent(key: UUID().uuidString, kind: kind, providerType: type ?? kind.rawValue, externalCallId: call,
                  relatedExternalId: related, occurredAt: t0.addingTimeInterval(at), direction: direction,
                  clientNumberRaw: "89101234567", lineNumber: "74950000000", employeeLogin: who, final: final)
    }

    static func run(_ events: [CallEvent]) -> (Call, [CallTransition]) {
        var call = Call(id: "c", tenantId: "t", pbxConnectionId: "p", externalIds: [], createdAt: t0)
        var all: [CallTransition] = []
        for e in events {
            let (next, transitions) = CallReducer.apply(e, to: call, region: "RU")
            call = next
            all += transitions
        }
        return (call, all)
    }

    static func final(_ result: CallResult, duration: Int, who: String? = nil) -> CallFinal {
        CallFinal(status: result.rawValue, result: result, startedAt: t0, durationSec: duration, employeeLogin: who)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let events: [CallEvent]
        let state: CallState
        let result: CallResult
        let talkers: [String]
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "ringing only", events: [ev(.legRinging, "a")], state: .ringing, result: .pending, talkers: []),
        Case(name: "answered and hung up", events: [ev(.legRinging, "a"), ev(.legAnswered, "a", at: 5), ev(.legEnded, "a", at: 30)],
             state: .ended, result: .answered, talkers: ["a"]),
        Case(name: "missed: the only leg cancelled", events: [ev(.legRinging, "a"), ev(.legEnded, "a", at: 20, type: "CANCELLED")],
             state: .ended, result: .missed, talkers: []),
        Case(name: "group: a colleague's CANCELLED while another talks keeps the call going",
             events: [ev(.legRinging, "a"), ev(.legRinging, "b"), ev(.legAnswered, "b", at: 3), ev(.legEnded, "a", at: 3, type: "CANCELLED")],
             state: .connected, result: .answered, talkers: ["b"]),
        Case(name: "group: late CANCELLED after the talker hung up does not make it missed",
             events: [ev(.legRinging, "a"), ev(.legRinging, "b"), ev(.legAnswered, "b", at: 3), ev(.legEnded, "b", at: 40),
                      ev(.legEnded, "a", at: 41, type: "CANCELLED")],
             state: .ended, result: .answered, talkers: ["b"]),
        Case(name: "late history 'missed' after ACCEPTED does not downgrade",
             events: [ev(.legRinging, "a"), ev(.legAnswered, "a", at: 2), ev(.legEnded, "a", at: 9),
                      ev(.finalized, at: 10, final: final(.missed, duration: 0))],
             state: .finalized, result: .answered, talkers: ["a"]),
        Case(name: "history before any realtime event (out of order) names the talker",
             events: [ev(.finalized, at: 60, final: final(.answered, duration: 50, who: "a")), ev(.legRinging, "a"),
                      ev(.legAnswered, "a", at: 5)],
             state: .finalized, result: .answered, talkers: ["a"]),
        Case(name: "event for a leg never seen ringing (reordered) still counts",
             events: [ev(.legAnswered, "a", at: 2), ev(.legRinging, "a")], state: .connected, result: .answered, talkers: ["a"]),
        Case(name: "blind transfer keeps one call and both talkers in order",
             events: [ev(.legRinging, "a"), ev(.legAnswered, "a", at: 2), ev(.transferred, "a", at: 30, related: "Y"),
                      ev(.legRinging, "b", at: 31, call: "Y"), ev(.legAnswered, "b", at: 35, call: "Y"), ev(.legEnded, "b", at: 90, call: "Y")],
             state: .ended, result: .answered, talkers: ["a", "b"]),
        Case(name: "a transfer in progress does not end the call",
             events: [ev(.legRinging, "a"), ev(.legAnswered, "a", at: 2), ev(.transferred, "a", at: 30, related: "Y")],
             state: .connected, result: .answered, talkers: ["a"]),
        Case(name: "the PBX's busy status is kept", events: [ev(.legRinging, "a"), ev(.finalized, at: 3, final: final(.busy, duration: 0))],
             state: .finalized, result: .busy, talkers: []),
        Case(name: "outgoing unanswered is no_answer", events: [ev(.legRinging, "a", direction: .outbound),
                                                              ev(.legEnded, "a", at: 20, type: "CANCELLED", direction: .outbound)],
             state: .ended, result: .noAnswer, talkers: []),
        Case(name: "explicit call end closes ringing legs", events: [ev(.legRinging, "a"), ev(.legRinging, "b"), ev(.callEnded, at: 15)],
             state: .ended, result: .missed, talkers: []),
        Case(name: "events after finalization do not move the state back",
             events: [ev(.legRinging, "a"), ev(.finalized, at: 10, final: final(.missed, duration: 0)), ev(.legRinging, "b", at: 11)],
             state: .finalized, result: .missed, talkers: []),
    ]

    @Test("state, result and talkers", arguments: cases)
    func table(_ c: Case) {
        let (call, _) = Self.run(c.events)
        #expect(call.state == c.state)
        #expect(call.result == c.result)
        #expect(call.talkers == c.talkers)
    }

    @Test("repeating every event changes nothing (idempotent)")
    func repeatsAreHarmless() {
        let events = [Self.ev(.legRinging, "a"), Self.ev(.legAnswered, "a", at: 2), Self.ev(.legEnded, "a", at: 9)]
        let (once, _) = Self.run(events)
        let (twice, _) = Self.run(events.flatMap { [$0, $0] })
        #expect(once == twice)
    }

    @Test("transitions: ringing once per employee, ended once, finalized once")
    func transitions() {
        let (_, t) = Self.run([Self.ev(.legRinging, "a"), Self.ev(.legRinging, "a"), Self.ev(.legRinging, "b"),
                               Self.ev(.legAnswered, "a", at: 1), Self.ev(.legEnded, "b", at: 1), Self.ev(.legEnded, "a", at: 9),
                               Self.ev(.finalized, at: 10, final: Self.final(.answered, duration: 8)),
                               Self.ev(.finalized, at: 11, final: Self.final(.answered, duration: 8))])
        #expect(t == [.employeeRinging, .employeeRinging, .employeeAnswered, .ended, .finalized])
    }

    @Test("numbers, line, durations and first/last talker")
    func details() {
        let (call, _) = Self.run([Self.ev(.legRinging, "a"), Self.ev(.legAnswered, "a", at: 4), Self.ev(.transferred, "a", at: 20, related: "Y"),
                                  Self.ev(.legRinging, "b", at: 21, call: "Y"), Self.ev(.legAnswered, "b", at: 24, call: "Y"),
                                  Self.ev(.legEnded, "b", at: 64, call: "Y")])
        #expect(call.client?.e164 == "+79101234567")
        #expect(call.client?.raw == "89101234567")
        #expect(call.lineNumber == "74950000000")
        #expect(call.firstTalker == "a" && call.lastTalker == "b")
        #expect(call.waitSec == 4)
        #expect(call.talkSec == 60)
        #expect(Set(call.externalIds) == ["X", "Y"])
        #expect(call.legs.count == 2)
    }
}

@Suite("ITooLabs CRM API messages")
struct ITooLabsMessageTests {
    @Test("form and JSON bodies read the same; key order does not change the event key")
    func formAndJSON() throws {
        let form = try ITooLabsAdapter.fields(body: Array("cmd=event&type=INCOMING&callid=abc&phone=79101234567&user=ivan&crm_token=t".utf8),
                                              contentType: "application/x-www-form-urlencoded")
        let json = try ITooLabsAdapter.fields(body: Array(#"{"user":"ivan","phone":79101234567,"callid":"abc","type":"INCOMING","cmd":"event","crm_token":"t"}"#.utf8),
                                              contentType: "application/json")
        #expect(form == json)
        #expect(ITooLabsAdapter.key(form) == ITooLabsAdapter.key(json))
        var otherToken = form
        otherToken["crm_token"] = "different"
        #expect(ITooLabsAdapter.key(form) == ITooLabsAdapter.key(otherToken))
    }

    @Test("event types map to the call model", arguments: [
        ("INCOMING", CallEventKind.legRinging), ("OUTGOING", .legRinging), ("ACCEPTED", .legAnswered),
        ("COMPLETED", .legEnded), ("CANCELLED", .legEnded), ("TRANSFERRED", .transferred),
    ])
    func types(_ type: String, _ kind: CallEventKind) throws {
        let m = try ITooLabsAdapter.message(["cmd": "event", "type": type, "callid": "c1", "user": "ivan", "second_callid": "c2"],
                                            receivedAt: Date())
        guard case .event(let e) = m else { Issue.record("not an event"); return }
        #expect(e.kind == kind)
        #expect(e.providerType == type)
        #expect(e.occurredAtIsProviderTime == false)
    }

    @Test("history becomes the final record", arguments: [
        ("Success", CallResult.answered), ("missed", .missed), ("Busy", .busy), ("NotAvailable", .noAnswer),
        ("NotAllowed", .notAllowed), ("Cancel", .cancelled), ("NotFound", .notFound),
    ])
    func history(_ status: String, _ result: CallResult) throws {
        let m = try ITooLabsAdapter.message(["cmd": "history", "callid": "c1", "type": "out", "status": status,
                                             "start": "20261122T101500Z", "duration": "42", "link": "https://r/1.mp3"],
                                            receivedAt: Date())
        guard case .event(let e) = m else { Issue.record("not an event"); return }
        #expect(e.final?.result == result)
        #expect(e.final?.durationSec == 42)
        #expect(e.final?.startedAt == ITooLabsAdapter.parseTime("20261122T101500Z"))
        #expect(e.direction == .outbound)
        #expect(e.recordingURL == "https://r/1.mp3")
    }

    @Test("malformed requests are refused with a reason", arguments: [
        ([:], "cmd is missing"),
        (["cmd": "event", "type": "INCOMING"], "callid is missing"),
        (["cmd": "event", "callid": "x", "type": "RINGING"], "unknown event type RINGING"),
        (["cmd": "history", "callid": "x"], "status is missing"),
        (["cmd": "history", "callid": "x", "status": "Success", "start": "yesterday"], "start is not YYYYmmddTHHMMSSZ"),
        (["cmd": "contact"], "phone is missing"),
        (["cmd": "dance"], "unknown cmd dance"),
    ] as [([String: String], String)])
    func malformed(_ fields: [String: String], _ reason: String) {
        #expect(throws: ITooLabsError(status: 400, message: "Invalid parameters: \(reason)")) {
            _ = try ITooLabsAdapter.message(fields, receivedAt: Date())
        }
    }
}
