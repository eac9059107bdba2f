import Foundation
import Testing
import SwitchboardCore

/// Table tests of the amoCRM rules of seed 004 (AMO-2…AMO-8).
@Suite("amoCRM rules")
struct AmoRulesTests {
    static let P = 100, S = 200, DEFAULT = 1, IVAN = 7, PETR = 8, OWNER = 9

    static func settings(_ change: (inout AmoSettings) -> Void = { _ in }) -> AmoSettings {
        var s = AmoSettings(defaultResponsibleUserId: DEFAULT)
        for d in [\AmoSettings.incoming, \AmoSettings.outgoing] {
            s[keyPath: d].answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: P, statusId: S)
            s[keyPath: d].missedUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: P, statusId: S)
            s[keyPath: d].answeredKnown = AmoRule(enabled: true, action: .deal, pipelineId: P, statusId: S)
            s[keyPath: d].missedKnown = AmoRule(enabled: true, action: .deal, pipelineId: P, statusId: S)
        }
        change(&s)
        return s
    }

    static func call(_ direction: CallDirection = .inbound, answered: Bool = true, talkers: [Int] = [IVAN],
                     number: String = "79101234567", dialer: Int? = nil) -> CallFacts {
        CallFacts(callId: "c1", direction: direction, result: answered ? .answered : .missed, client: PhoneNumber.parse(number),
                  talkers: answered ? talkers.map { CallPerson(login: "e\($0)", crmUser: String($0)) } : [],
                  dialler: dialer.map { CallPerson(login: "d\($0)", crmUser: String($0)) },
                  startedAt: Date(timeIntervalSince1970: 1_800_000_000), talkSec: answered ? 30 : 0,
                  recordingURL: answered ? "https://r/1.mp3" : nil)
    }

    static let unknown = AmoCallerInfo()
    static let known = AmoCallerInfo(contactId: 55, contactResponsibleUserId: OWNER)
    static let knownWithDeal = AmoCallerInfo(contactId: 55, contactResponsibleUserId: OWNER, openLeadId: 77)

    struct Case: CustomTestStringConvertible, Sendable {
        let name: String
        let call: CallFacts
        let caller: AmoCallerInfo
        let settings: AmoSettings
        let steps: [PlanStep<AmoStep>]
        var testDescription: String { name }
    }

    static let cases: [Case] = {
        var out: [Case] = []
        for direction in [CallDirection.inbound, .outbound] {
            let d = direction == .inbound ? "incoming" : "outgoing"
            let dir: WritableKeyPath<AmoSettings, AmoDirectionSettings> = direction == .inbound ? \.incoming : \.outgoing
            // An unknown outbound number has no contact to log the call on; inbound tries (and may fall back).
            let unknownLog: [PlanStep<AmoStep>] = direction == .inbound ? [.logCall(responsibleUserId: IVAN, fallbackToUnsorted: true)] : []
            let unknownLogMissed: [PlanStep<AmoStep>] = direction == .inbound ? [.logCall(responsibleUserId: DEFAULT, fallbackToUnsorted: true)] : []
            out += [
                Case(name: "\(d) answered unknown → contact + deal, talker responsible", call: call(direction), caller: unknown,
                     settings: settings(),
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: IVAN, tags: [], withNewContact: true),
                             .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
                Case(name: "\(d) missed unknown → contact + deal, default responsible", call: call(direction, answered: false),
                     caller: unknown, settings: settings(),
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: DEFAULT, tags: [], withNewContact: true),
                             .logCall(responsibleUserId: DEFAULT, fallbackToUnsorted: false)]),
                Case(name: "\(d) answered unknown → unsorted", call: call(direction), caller: unknown,
                     settings: settings { $0[keyPath: dir].answeredUnknown = AmoRule(enabled: true, action: .unsorted, pipelineId: P) },
                     steps: [.createUnsorted(pipelineId: P, responsibleUserId: IVAN)]),
                Case(name: "\(d) missed unknown → contact only", call: call(direction, answered: false), caller: unknown,
                     settings: settings { $0[keyPath: dir].missedUnknown = AmoRule(enabled: true, action: .contactOnly) },
                     steps: [.createContact(responsibleUserId: DEFAULT, tags: []),
                             .logCall(responsibleUserId: DEFAULT, fallbackToUnsorted: false)]),
                Case(name: "\(d) answered existing, no open deal → deal", call: call(direction), caller: known, settings: settings(),
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: IVAN, tags: [], withNewContact: false),
                             .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
                Case(name: "\(d) answered existing with an open deal → reuse it", call: call(direction), caller: knownWithDeal,
                     settings: settings(),
                     steps: [.reuseLead(leadId: 77), .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
                Case(name: "\(d) missed existing → deal for the client's own manager", call: call(direction, answered: false),
                     caller: known, settings: settings(),
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: OWNER, tags: [], withNewContact: false),
                             .logCall(responsibleUserId: OWNER, fallbackToUnsorted: false)]),
                Case(name: "\(d) answered existing, deal always → new deal despite the open one", call: call(direction),
                     caller: knownWithDeal,
                     settings: settings { $0[keyPath: dir].answeredKnown = AmoRule(enabled: true, action: .dealAlways, pipelineId: P, statusId: S) },
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: IVAN, tags: [], withNewContact: false),
                             .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
                Case(name: "\(d) missed existing, unsorted → always an entry, even with an open deal",
                     call: call(direction, answered: false), caller: knownWithDeal,
                     settings: settings { $0[keyPath: dir].missedKnown = AmoRule(enabled: true, action: .unsorted, pipelineId: P) },
                     steps: [.createUnsorted(pipelineId: P, responsibleUserId: OWNER)]),
                Case(name: "\(d) answered unknown, switched off → nothing but the call", call: call(direction), caller: unknown,
                     settings: settings { $0[keyPath: dir].answeredUnknown.enabled = false },
                     steps: unknownLog),
                Case(name: "\(d) missed unknown, everything off → no fallback entry",
                     call: call(direction, answered: false), caller: unknown,
                     settings: settings { $0[keyPath: dir].answeredUnknown.enabled = false; $0[keyPath: dir].missedUnknown.enabled = false },
                     steps: direction == .inbound ? [.logCall(responsibleUserId: DEFAULT, fallbackToUnsorted: false)] : []),
                Case(name: "\(d) answered existing, switched off → the call only", call: call(direction), caller: known,
                     settings: settings { $0[keyPath: dir].answeredKnown.enabled = false },
                     steps: [.logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
                Case(name: "\(d) tags: the number on the deal and the contact", call: call(direction), caller: unknown,
                     settings: settings { $0[keyPath: dir].tags = true },
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: IVAN, tags: ["+79101234567"], withNewContact: true),
                             .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
                Case(name: "\(d) task for the employee who answered", call: call(direction), caller: known,
                     settings: settings { $0[keyPath: dir].taskForAnswerer = true },
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: IVAN, tags: [], withNewContact: false),
                             .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false), .createTask(responsibleUserId: IVAN)]),
                Case(name: "\(d) no task on a missed call", call: call(direction, answered: false), caller: known,
                     settings: settings { $0[keyPath: dir].taskForAnswerer = true },
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: OWNER, tags: [], withNewContact: false),
                             .logCall(responsibleUserId: OWNER, fallbackToUnsorted: false)]),
                Case(name: "\(d) talker not mapped → default responsible, no task", call: call(direction, talkers: []), caller: unknown,
                     settings: settings { $0[keyPath: dir].taskForAnswerer = true },
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: DEFAULT, tags: [], withNewContact: true),
                             .logCall(responsibleUserId: DEFAULT, fallbackToUnsorted: false)]),
                Case(name: "\(d) filtered number → no entities, no task", call: call(direction, number: "8 (910) 123-45-67"),
                     caller: unknown,
                     settings: settings { $0[keyPath: dir].filterNumbers = ["+79101234567"]; $0[keyPath: dir].taskForAnswerer = true },
                     steps: []),
                Case(name: "\(d) filtered existing client → the call is still logged, nothing created", call: call(direction),
                     caller: known, settings: settings { $0[keyPath: dir].filterNumbers = ["9101234567"] },
                     steps: [.logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
                Case(name: "\(d) transfer, first talker responsible", call: call(direction, talkers: [IVAN, PETR]), caller: unknown,
                     settings: settings { $0.responsibleTalker = .first },
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: IVAN, tags: [], withNewContact: true),
                             .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
                Case(name: "\(d) transfer, last talker responsible", call: call(direction, talkers: [IVAN, PETR]), caller: unknown,
                     settings: settings(),
                     steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: PETR, tags: [], withNewContact: true),
                             .logCall(responsibleUserId: PETR, fallbackToUnsorted: false)]),
            ]
            _ = unknownLogMissed
        }
        out.append(Case(name: "the other direction's settings do not apply", call: call(.outbound), caller: unknown,
                        settings: settings { $0.incoming.answeredUnknown = AmoRule(enabled: true, action: .unsorted, pipelineId: P) },
                        steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: IVAN, tags: [], withNewContact: true),
                                .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]))
        out.append(Case(name: "no default responsible → nothing", call: call(), caller: unknown,
                        settings: settings { $0.defaultResponsibleUserId = nil }, steps: []))
        // Issue 8, item 10: nobody talked on an outgoing call, yet the employee who dialled is known.
        out += [
            Case(name: "outgoing not answered, unknown number → the dialler owns the contact, deal and call",
                 call: call(.outbound, answered: false, dialer: PETR), caller: unknown, settings: settings(),
                 steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: PETR, tags: [], withNewContact: true),
                         .logCall(responsibleUserId: PETR, fallbackToUnsorted: false)]),
            Case(name: "outgoing not answered, existing client → the deal stays the manager's, the call is the dialler's",
                 call: call(.outbound, answered: false, dialer: PETR), caller: known, settings: settings(),
                 steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: OWNER, tags: [], withNewContact: false),
                         .logCall(responsibleUserId: PETR, fallbackToUnsorted: false)]),
            Case(name: "outgoing not answered, existing client, rule off → the call only, made by the dialler",
                 call: call(.outbound, answered: false, dialer: PETR), caller: known,
                 settings: settings { $0.outgoing.missedKnown.enabled = false },
                 steps: [.logCall(responsibleUserId: PETR, fallbackToUnsorted: false)]),
            Case(name: "outgoing not answered, unknown number, contact only → the dialler's contact",
                 call: call(.outbound, answered: false, dialer: PETR), caller: unknown,
                 settings: settings { $0.outgoing.missedUnknown = AmoRule(enabled: true, action: .contactOnly) },
                 steps: [.createContact(responsibleUserId: PETR, tags: []), .logCall(responsibleUserId: PETR, fallbackToUnsorted: false)]),
            Case(name: "outgoing answered → whoever talked, not the dialler",
                 call: call(.outbound, talkers: [IVAN], dialer: PETR), caller: known, settings: settings(),
                 steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: IVAN, tags: [], withNewContact: false),
                         .logCall(responsibleUserId: IVAN, fallbackToUnsorted: false)]),
            Case(name: "a dialler on an incoming call means nothing",
                 call: call(.inbound, answered: false, dialer: PETR), caller: unknown, settings: settings(),
                 steps: [.createLead(pipelineId: P, statusId: S, responsibleUserId: DEFAULT, tags: [], withNewContact: true),
                         .logCall(responsibleUserId: DEFAULT, fallbackToUnsorted: false)]),
        ]
        return out
    }()

    @Test("steps for every combination of the guide", arguments: cases)
    func table(_ c: Case) {
        let plan = AmoRules.plan(c.call, c.caller.knowledge, c.settings)
        #expect(plan.steps == c.steps)
        #expect(!plan.reasons.isEmpty)
        // The journal lists the reasons, then one line per step, before the plan runs.
        #expect(plan.journal == plan.reasons + c.steps.map(\.summary))
        #expect(plan.journal.allSatisfy { !$0.ru.isEmpty && $0.ru != $0.en })
    }

    @Test("the journal's lines for a plan: the reasons, then what each step makes")
    func journal() {
        let plan = AmoRules.plan(Self.call(), Self.known.knowledge, Self.settings { $0.incoming.taskForAnswerer = true })
        #expect(plan.journal.map(\.en) == [
            "incoming answered call from an existing client: create a deal (the client has no open deal)",
            "task for the employee who answered",
            "plan: create a deal in pipeline 100, stage 200, responsible 7",
            "plan: log the call, made by 7, with its recording",
            "plan: create the task \"Обработать звонок +79101234567\" for 7",
        ])
    }

    @Test("a filtered number says why nothing was created")
    func filteredReason() {
        let plan = AmoRules.plan(Self.call(), Self.unknown.knowledge, Self.settings { $0.incoming.filterNumbers = ["89101234567"] })
        #expect(plan.reasons.contains { $0.en.contains("filter") })
    }

    @Test("validation names the field and says what to do")
    func validation() {
        var s = AmoSettings()
        s.incoming.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal, pipelineId: 1)
        s.incoming.missedUnknown = AmoRule(enabled: true, action: .unsorted)
        s.outgoing.answeredKnown = AmoRule(enabled: true, action: .contactOnly)
        s.outgoing.filterNumbers = ["hello"]
        let fields = s.validate().map(\.field)
        #expect(fields == ["defaultResponsibleUserId", "incoming.answeredUnknown.statusId", "incoming.missedUnknown.pipelineId",
                           "outgoing.answeredKnown.action", "outgoing.filterNumbers"])
        #expect(Self.settings().validate().isEmpty)
        // A switched-off rule needs no pipeline; contact-only needs none either.
        var ok = Self.settings()
        ok.incoming.missedUnknown = AmoRule(enabled: false, action: .contactAndDeal)
        ok.incoming.answeredUnknown = AmoRule(enabled: true, action: .contactOnly)
        #expect(ok.validate().isEmpty)
    }

    @Test("settings decode with defaults and round-trip")
    func decoding() throws {
        let s = try JSON.decode(AmoSettings.self, from: #"{"defaultResponsibleUserId": 5, "incoming": {"tags": true}}"#)
        #expect(s.defaultResponsibleUserId == 5 && s.incoming.tags && !s.outgoing.tags)
        #expect(s.incoming.answeredUnknown.action == .contactAndDeal && !s.incoming.answeredUnknown.enabled)
        #expect(try JSON.decode(AmoSettings.self, from: JSON.string(Self.settings())) == Self.settings())
    }
}

/// The steps as the table names them: amoCRM's own, and the common ones the amoCRM rules make.
extension PlanStep where Own == AmoStep {
    static func createLead(pipelineId: Int, statusId: Int, responsibleUserId: Int, tags: [String], withNewContact: Bool) -> Self {
        .own(.createLead(pipelineId: pipelineId, statusId: statusId, responsibleUserId: responsibleUserId, tags: tags,
                         withNewContact: withNewContact))
    }
    static func createUnsorted(pipelineId: Int, responsibleUserId: Int) -> Self {
        .own(.createUnsorted(pipelineId: pipelineId, responsibleUserId: responsibleUserId))
    }
    static func reuseLead(leadId: Int) -> Self { .own(.reuseLead(leadId: leadId)) }
    static func createContact(responsibleUserId: Int, tags: [String]) -> Self {
        .common(.createContact(responsible: String(responsibleUserId), fields: [:], tags: tags))
    }
    static func logCall(responsibleUserId: Int, fallbackToUnsorted: Bool) -> Self {
        fallbackToUnsorted ? .own(.logCallOrUnsorted(responsibleUserId: responsibleUserId))
            : .common(.logCall(responsible: String(responsibleUserId), withRecording: true))
    }
    static func createTask(responsibleUserId: Int) -> Self {
        .common(.createTask(responsible: String(responsibleUserId), text: "Обработать звонок +79101234567", dueMinutes: 24 * 60))
    }
}
