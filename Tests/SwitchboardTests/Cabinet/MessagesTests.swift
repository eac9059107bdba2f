import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore

@Suite("Cabinet: the engine's messages in Russian")
struct MessagesTests {
    static func facts(_ direction: CallDirection, answered: Bool, talkers: [Int]) -> AmoCallFacts {
        AmoCallFacts(callId: "c", direction: direction, answered: answered, client: PhoneNumber.parse("+79101234567"),
                     talkerUserIds: talkers, startedAt: Date(), talkSec: answered ? 30 : 0, recordingURL: nil,
                     result: answered ? .answered : .missed)
    }

    /// Every plan the rules can make, over every action, switch, caller and direction.
    static func everyPlan() -> [AmoPlan] {
        var plans: [AmoPlan] = []
        let known = AmoCallerInfo(contactId: 1, contactResponsibleUserId: 2, openLeadId: 3)
        let knownNoDeal = AmoCallerInfo(contactId: 1, contactResponsibleUserId: 2, openLeadId: nil)
        for direction in [CallDirection.inbound, .outbound] {
            for answered in [true, false] {
                for caller in [AmoCallerInfo(), known, knownNoDeal] {
                    for action in AmoAction.allCases {
                        for (pipeline, stage) in [(Int?(1), Int?(2)), (nil, nil)] {
                            for enabled in [true, false] {
                                for filtered in [true, false] {
                                    for mapped in [true, false] {
                                        var s = AmoSettings(defaultResponsibleUserId: 9)
                                        let rule = AmoRule(enabled: enabled, action: action, pipelineId: pipeline, statusId: stage)
                                        for kp in [\AmoDirectionSettings.answeredUnknown, \.missedUnknown, \.answeredKnown, \.missedKnown] {
                                            s.incoming[keyPath: kp] = rule
                                            s.outgoing[keyPath: kp] = rule
                                        }
                                        s.incoming.taskForAnswerer = true
                                        s.outgoing.taskForAnswerer = true
                                        if filtered { s.incoming.filterNumbers = ["+79101234567"]; s.outgoing.filterNumbers = ["+79101234567"] }
                                        let call = facts(direction, answered: answered, talkers: mapped && answered ? [5] : [])
                                        plans.append(AmoRules.plan(call: call, caller: caller, settings: s))
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        plans.append(AmoRules.plan(call: facts(.inbound, answered: true, talkers: [5]), caller: AmoCallerInfo(), settings: AmoSettings()))
        return plans
    }

    @Test("every reason the amoCRM rules give has its Russian")
    func ruleReasons() {
        let reasons = Set(Self.everyPlan().flatMap(\.reasons))
        #expect(reasons.count > 20)
        for reason in reasons {
            let ru = Messages.russian(reason)
            #expect(ru != nil, "no Russian for: \(reason)")
            // A translated rule name leaves no English behind.
            #expect(ru?.range(of: "(call from|answered|missed|unknown|existing)", options: .regularExpression) == nil,
                    "English left in: \(ru ?? reason)")
        }
    }

    @Test("settings problems, account-address problems and credential states read in Russian")
    func validation() {
        var s = AmoSettings()
        s.incoming.answeredUnknown = AmoRule(enabled: true, action: .contactAndDeal)
        s.incoming.missedUnknown = AmoRule(enabled: true, action: .unsorted)
        s.incoming.answeredKnown = AmoRule(enabled: true, action: .contactOnly)
        s.outgoing.answeredUnknown = AmoRule(enabled: true, action: .deal)
        s.outgoing.filterNumbers = ["hello"]
        let problems = s.validate()
        #expect(problems.count >= 6)
        for p in problems { #expect(Messages.russian(p.message) != nil, "no Russian for: \(p.message)") }
        #expect(Messages.russian("\"hello\" is not a phone number") == "«hello» — не телефонный номер")
        // The whole list, as the connector reports incomplete settings.
        let joined = "the amoCRM settings are incomplete: " + problems.map(\.description).joined(separator: "; ")
        let ru = Messages.russian(joined)
        #expect(ru?.contains("выберите воронку") == true && ru?.contains("incoming.missedUnknown.pipelineId") == true)
        for bad in ["", "not a url", "http://example.amocrm.ru", "http://127.0.0.1:9000", "https://10.0.0.5",
                    "https://169.254.169.254", "https://u:p@example.amocrm.ru"] {
            do {
                _ = try AccountURL.normalize(bad, policy: .init())
                Issue.record("\(bad) was accepted")
            } catch {
                #expect(Messages.russian(error.description) != nil, "no Russian for: \(error.description)")
            }
        }
        for state in ["ok", "unchecked", "reconnect", "failed"] { #expect(Messages.russian(state) != nil) }
    }

    @Test("errors carry what the request was for into one Russian sentence")
    func nested() {
        #expect(Messages.say("amoCRM rate limit (429) while trying to create the task", .ru)
            == "amoCRM ограничила частоту запросов (429) при попытке создать задачу")
        #expect(Messages.say("amoCRM answered 502 while trying to log the call", .ru) == "amoCRM ответила 502 при попытке записать звонок")
        #expect(Messages.say("incoming missed call from an existing client: the client's open deal 77 is used", .ru)
            == "входящий пропущенный звонок существующего клиента: звонок прикреплён к открытой сделке клиента 77")
        // English stays English; an unknown message is shown as it is.
        #expect(Messages.say("task for the employee who answered", .en) == "task for the employee who answered")
        #expect(Messages.say("amoCRM refused: pipeline 42", .ru) == "amoCRM refused: pipeline 42")
    }
}
