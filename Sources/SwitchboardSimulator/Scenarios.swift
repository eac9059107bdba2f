import Foundation
import SwitchboardCore
import SwitchboardPBX

/// One request a simulated PBX sends.
public enum SimStep: Sendable {
    /// ITooLabs CRM API fields (`cmd`, `type`, …); the simulator adds `crm_token`.
    case itoolabs([String: String])
    /// An event of Switchboard's own protocol; the simulator signs it.
    case native(NativeProtocol.Event)
}

/// What a scenario should leave in storage, for checking.
public struct SimExpectation: Sendable, Equatable {
    public var result: CallResult
    public var direction: CallDirection
    public var talkers: [String]
    public var legs: Int
    public var talkSec: Int?
    public var recording: Bool

    public init(result: CallResult, direction: CallDirection, talkers: [String], legs: Int, talkSec: Int?, recording: Bool) {
        self.result = result
        self.direction = direction
        self.talkers = talkers
        self.legs = legs
        self.talkSec = talkSec
        self.recording = recording
    }
}

/// A call scenario: the requests in order, the provider call id to find the call by, and what it should produce.
public struct SimScenario: Sendable {
    public var name: String
    public var callId: String
    public var steps: [SimStep]
    public var expected: SimExpectation

    /// The same requests, each sent twice, the realtime ones shuffled (the final record stays last, as PBXs send it).
    public func duplicatedAndReordered(seed: UInt64 = 7) -> SimScenario {
        var rng = SeededGenerator(seed: seed)
        var realtime = steps.filter { !$0.isFinal }
        realtime = (realtime + realtime).shuffled(using: &rng)
        var copy = self
        copy.name += " (duplicated, reordered)"
        copy.steps = realtime + steps.filter(\.isFinal) + steps.filter(\.isFinal)
        return copy
    }
}

extension SimStep {
    var isFinal: Bool {
        switch self {
        case .itoolabs(let f): return f["cmd"] == "history"
        case .native(let e): return e.type == .finalized
        }
    }
}

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E3779B97F4A7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

/// The scenarios of the ITooLabs protocol (the shapes of `pbx-protocols.md` §1.2 and §1.5).
public enum ITooLabsScenarios {
    static func event(_ type: String, _ callId: String, user: String, phone: String, line: String, direction: String = "in",
                      extra: [String: String] = [:]) -> SimStep {
        var f = ["cmd": "event", "type": type, "callid": callId, "user": user, "ext": ext(user), "phone": phone,
                 "diversion": line, "direction": direction]
        for (k, v) in extra { f[k] = v }
        return .itoolabs(f)
    }

    static func history(_ callId: String, type: String, status: String, user: String?, phone: String, line: String,
                        duration: Int, start: Date, link: String?) -> SimStep {
        var f = ["cmd": "history", "type": type, "status": status, "callid": callId, "phone": phone, "diversion": line,
                 "duration": String(duration), "start": ITooLabsAdapter.formatTime(start)]
        if let user { f["user"] = user; f["ext"] = ext(user) }
        if let link { f["link"] = link }
        return .itoolabs(f)
    }

    static func ext(_ user: String) -> String { String(100 + user.unicodeScalars.reduce(0) { ($0 * 31 + Int($1.value)) % 800 }) }

    static func newId(_ prefix: String) -> String { prefix + "-" + UUID().uuidString.prefix(8).lowercased() }

    /// Rings one employee, who answers and talks.
    public static func answered(client: String = "79101234567", line: String = "74951234567", employee: String = "ivan",
                                talk: Int = 42) -> SimScenario {
        let id = newId("ans")
        return SimScenario(name: "answered", callId: id, steps: [
            event("INCOMING", id, user: employee, phone: client, line: line),
            event("ACCEPTED", id, user: employee, phone: client, line: line),
            event("COMPLETED", id, user: employee, phone: client, line: line),
            history(id, type: "in", status: "Success", user: employee, phone: client, line: line, duration: talk,
                    start: Date().addingTimeInterval(-Double(talk + 5)), link: "https://pbx.example/rec/\(id).mp3"),
        ], expected: SimExpectation(result: .answered, direction: .inbound, talkers: [employee], legs: 1, talkSec: talk,
                                    recording: true))
    }

    /// Rings one employee, nobody answers.
    public static func missed(client: String = "79101234568", line: String = "74951234567", employee: String = "ivan") -> SimScenario {
        let id = newId("mis")
        return SimScenario(name: "missed", callId: id, steps: [
            event("INCOMING", id, user: employee, phone: client, line: line),
            event("CANCELLED", id, user: employee, phone: client, line: line),
            history(id, type: "in", status: "missed", user: nil, phone: client, line: line, duration: 0,
                    start: Date().addingTimeInterval(-20), link: nil),
        ], expected: SimExpectation(result: .missed, direction: .inbound, talkers: [], legs: 1, talkSec: 0, recording: false))
    }

    /// A queue rings three employees; the second answers, the others get CANCELLED (which must not make it missed).
    public static func queue(client: String = "79101234569", line: String = "74951234567",
                             employees: [String] = ["anna", "boris", "vera"], talk: Int = 65) -> SimScenario {
        let id = newId("que")
        let winner = employees[1]
        var steps = employees.map { event("INCOMING", id, user: $0, phone: client, line: line, extra: ["groupRealName": "Продажи"]) }
        steps.append(event("ACCEPTED", id, user: winner, phone: client, line: line, extra: ["groupRealName": "Продажи"]))
        for e in employees where e != winner {
            steps.append(event("CANCELLED", id, user: e, phone: client, line: line, extra: ["groupRealName": "Продажи"]))
        }
        steps.append(event("COMPLETED", id, user: winner, phone: client, line: line))
        steps.append(history(id, type: "in", status: "Success", user: winner, phone: client, line: line, duration: talk,
                             start: Date().addingTimeInterval(-Double(talk + 10)), link: "https://pbx.example/rec/\(id).mp3"))
        return SimScenario(name: "queue ringing three employees", callId: id, steps: steps,
                           expected: SimExpectation(result: .answered, direction: .inbound, talkers: [winner], legs: 3,
                                                    talkSec: talk, recording: true))
    }

    /// The first employee answers and transfers blind to a second, who finishes the conversation.
    public static func blindTransfer(client: String = "79101234570", line: String = "74951234567",
                                     from: String = "ivan", to: String = "petr", talk: Int = 120) -> SimScenario {
        let id = newId("trf"), second = newId("trf2")
        return SimScenario(name: "blind transfer", callId: id, steps: [
            event("INCOMING", id, user: from, phone: client, line: line),
            event("ACCEPTED", id, user: from, phone: client, line: line),
            event("TRANSFERRED", id, user: from, phone: client, line: line, extra: ["second_callid": second]),
            event("INCOMING", second, user: to, phone: client, line: line),
            event("ACCEPTED", second, user: to, phone: client, line: line),
            event("COMPLETED", second, user: to, phone: client, line: line),
            history(id, type: "in", status: "Success", user: to, phone: client, line: line, duration: talk,
                    start: Date().addingTimeInterval(-Double(talk + 5)), link: "https://pbx.example/rec/\(id).mp3"),
        ], expected: SimExpectation(result: .answered, direction: .inbound, talkers: [from, to], legs: 2, talkSec: talk,
                                    recording: true))
    }

    /// Nobody answers; the caller leaves a voicemail, which the final record links.
    public static func voicemail(client: String = "79101234571", line: String = "74951234567", employee: String = "ivan") -> SimScenario {
        let id = newId("vm")
        return SimScenario(name: "voicemail", callId: id, steps: [
            event("INCOMING", id, user: employee, phone: client, line: line),
            event("CANCELLED", id, user: employee, phone: client, line: line),
            history(id, type: "in", status: "missed", user: nil, phone: client, line: line, duration: 0,
                    start: Date().addingTimeInterval(-60), link: "https://pbx.example/voicemail/\(id).mp3"),
        ], expected: SimExpectation(result: .missed, direction: .inbound, talkers: [], legs: 1, talkSec: 0, recording: true))
    }

    /// An employee dials out and the client answers.
    public static func outgoing(client: String = "79101234572", employee: String = "ivan", talk: Int = 30,
                                callId: String? = nil) -> SimScenario {
        let id = callId ?? newId("out")
        return SimScenario(name: "outgoing", callId: id, steps: [
            event("OUTGOING", id, user: employee, phone: client, line: "", direction: "out"),
            event("ACCEPTED", id, user: employee, phone: client, line: "", direction: "out"),
            event("COMPLETED", id, user: employee, phone: client, line: "", direction: "out"),
            history(id, type: "out", status: "Success", user: employee, phone: client, line: "", duration: talk,
                    start: Date().addingTimeInterval(-Double(talk + 3)), link: "https://pbx.example/rec/\(id).mp3"),
        ], expected: SimExpectation(result: .answered, direction: .outbound, talkers: [employee], legs: 1, talkSec: talk,
                                    recording: true))
    }

    /// An employee dials out and the client does not pick up.
    public static func outgoingUnanswered(client: String = "79101234573", employee: String = "ivan") -> SimScenario {
        let id = newId("outn")
        return SimScenario(name: "outgoing, not answered", callId: id, steps: [
            event("OUTGOING", id, user: employee, phone: client, line: "", direction: "out"),
            event("CANCELLED", id, user: employee, phone: client, line: "", direction: "out"),
            history(id, type: "out", status: "NotAvailable", user: employee, phone: client, line: "", duration: 0,
                    start: Date().addingTimeInterval(-25), link: nil),
        ], expected: SimExpectation(result: .noAnswer, direction: .outbound, talkers: [], legs: 1, talkSec: 0, recording: false))
    }

    /// Two calls from one number at once (two lines), interleaved: they must stay two calls.
    public static func overlapping(client: String = "79101234574", line: String = "74951234567") -> (SimScenario, SimScenario, [SimStep]) {
        let a = answered(client: client, line: line, employee: "anna", talk: 50)
        let b = missed(client: client, line: line, employee: "boris")
        var merged: [SimStep] = []
        let n = max(a.steps.count, b.steps.count)
        for i in 0..<n {
            if i < a.steps.count { merged.append(a.steps[i]) }
            if i < b.steps.count { merged.append(b.steps[i]) }
        }
        return (a, b, merged)
    }

    /// Everything the simulator can play, by name.
    public static func named(_ name: String) -> SimScenario? {
        switch name {
        case "answered": return answered()
        case "missed": return missed()
        case "queue": return queue()
        case "transfer": return blindTransfer()
        case "voicemail": return voicemail()
        case "outgoing": return outgoing()
        case "outgoing-unanswered": return outgoingUnanswered()
        case "duplicated": return answered().duplicatedAndReordered()
        default: return nil
        }
    }

    public static let names = ["answered", "missed", "queue", "transfer", "voicemail", "outgoing", "outgoing-unanswered",
                               "duplicated", "overlapping", "native", "click-to-call"]
}

/// Scenarios in Switchboard's own protocol.
public enum NativeScenarios {
    /// An answered inbound call with provider times, a sequence and a final record.
    public static func answered(client: String = "+79101234580", line: String = "+74951234567", employee: String = "ivan",
                                talk: Int = 33) -> SimScenario {
        let id = "nat-" + UUID().uuidString.prefix(8).lowercased()
        let t0 = Date().addingTimeInterval(-Double(talk + 10))
        func e(_ n: Int, _ type: CallEventKind, _ at: TimeInterval, final: NativeProtocol.Final? = nil, rec: String? = nil) -> SimStep {
            .native(NativeProtocol.Event(event_id: "\(id)-\(n)", type: type, call_id: id, occurred_at: t0.addingTimeInterval(at),
                                         sequence: n, direction: .inbound, client_number: client, line_number: line,
                                         employee: type == .callEnded || type == .finalized || type == .recordingReady
                                             ? nil : .init(login: employee, extension: "101"),
                                         final: final, recording_url: rec))
        }
        return SimScenario(name: "answered (Switchboard protocol)", callId: id, steps: [
            e(1, .legRinging, 0), e(2, .legAnswered, 6), e(3, .legEnded, Double(6 + talk)), e(4, .callEnded, Double(6 + talk)),
            e(5, .finalized, Double(7 + talk), final: .init(status: .answered, started_at: t0, duration_sec: talk, wait_sec: 6)),
            e(6, .recordingReady, Double(9 + talk), rec: "https://pbx.example/rec/\(id).wav"),
        ], expected: SimExpectation(result: .answered, direction: .inbound, talkers: [employee], legs: 1, talkSec: talk,
                                    recording: true))
    }
}
