import Foundation
import SwitchboardCore
import SwitchboardPBX

extension SimStep {
    /// A request of the ITooLabs CRM API (`cmd`, `type`, …); the simulator adds the connection's `crm_token`.
    public static func itoolabs(_ fields: [String: String]) -> SimStep {
        SimStep(isFinal: fields["cmd"] == "history", payload: fields) { connectionId, secret in
            var f = fields
            f["crm_token"] = secret
            return SimRequest(path: "/pbx/itoolabs/\(connectionId)", body: Array(FormURLEncoding.encode(f).utf8),
                              headers: ["Content-Type": "application/x-www-form-urlencoded"])
        }
    }
}

extension ScenarioPlayer {
    /// ITooLabs `cmd=contact`: who is this caller's manager.
    public func askContact(phone: String, callId: String = UUID().uuidString) async throws -> Reply {
        try await post("/pbx/itoolabs/\(connectionId)",
                       body: Array(FormURLEncoding.encode(["cmd": "contact", "phone": phone, "callid": callId, "crm_token": secret]).utf8),
                       headers: ["Content-Type": "application/x-www-form-urlencoded"])
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
