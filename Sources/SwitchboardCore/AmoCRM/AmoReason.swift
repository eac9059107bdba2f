/// What the amoCRM rules and settings say to a tenant: the rules' names and reasons, the settings' problems.
public enum AmoReason: PhraseCatalog, Equatable {
    /// A rule's name: direction × answered × known.
    case rule(outgoing: Bool, answered: Bool, known: Bool)
    case noDefaultResponsible
    case filtered(number: String, outgoing: Bool)
    case switchedOff(rule: Phrase)
    case contactAndDeal(rule: Phrase)
    case contactOnly(rule: Phrase)
    case unsortedAlways(rule: Phrase)
    case noPipelineOrStage(rule: Phrase)
    case noPipeline(rule: Phrase)
    case openDealUsed(rule: Phrase, deal: Int)
    case dealNoOpen(rule: Phrase)
    case dealAlways(rule: Phrase)
    case actionDoesNotApply(rule: Phrase, action: String)
    case recordedWithUnsorted
    case notLoggedNoContact(number: String)
    case taskForAnswerer
    case noTaskUnmapped
    // Settings problems (AmoSettings.validate).
    case chooseDefaultResponsible
    case choosePipeline
    case chooseStage
    case chooseAction(known: Bool, allowed: [String])

    public var phrase: Phrase {
        switch self {
        case .rule(let outgoing, let answered, let known):
            let en = "\(outgoing ? "outgoing" : "incoming") \(answered ? "answered" : "missed") call from "
                + (known ? "an existing client" : "an unknown number")
            let ru = switch (outgoing, answered, known) {
            case (false, true, false): "входящий принятый звонок с нового номера"
            case (false, false, false): "входящий пропущенный звонок с нового номера"
            case (false, true, true): "входящий принятый звонок существующего клиента"
            case (false, false, true): "входящий пропущенный звонок существующего клиента"
            case (true, true, false): "исходящий принятый звонок на новый номер"
            case (true, false, false): "исходящий непринятый звонок на новый номер"
            case (true, true, true): "исходящий принятый звонок существующему клиенту"
            case (true, false, true): "исходящий непринятый звонок существующему клиенту"
            }
            return Phrase(code: "amo.rule.\(outgoing ? "out" : "in").\(answered ? "answered" : "missed").\(known ? "known" : "unknown")",
                          en: en, ru: ru)
        case .noDefaultResponsible:
            return Phrase(code: "amo.noDefaultResponsible", en: "settings incomplete: no default responsible user",
                          ru: "настройки не заполнены: не выбран ответственный по умолчанию")
        case .filtered(let number, let outgoing):
            return Phrase(code: "amo.filtered",
                          en: "the number \(number) is in the \(outgoing ? "outgoing" : "incoming") filter: no entities are created",
                          ru: "номер \(number) в фильтре \(outgoing ? "исходящих" : "входящих") звонков: сущности не создаются")
        case .switchedOff(let rule):
            return Phrase(code: "amo.ruleOff", en: "\(rule.en): switched off", ru: "\(rule.ru): сценарий выключен")
        case .contactAndDeal(let rule):
            return Phrase(code: "amo.contactAndDeal", en: "\(rule.en): create a contact and a deal", ru: "\(rule.ru): создать контакт и сделку")
        case .contactOnly(let rule):
            return Phrase(code: "amo.contactOnly", en: "\(rule.en): create a contact", ru: "\(rule.ru): создать контакт")
        case .unsortedAlways(let rule):
            return Phrase(code: "amo.unsortedAlways", en: "\(rule.en): create an Unsorted entry (always, whatever deals are open)",
                          ru: "\(rule.ru): создать заявку в «Неразобранном» (всегда, даже если у клиента есть открытые сделки)")
        case .noPipelineOrStage(let rule):
            return Phrase(code: "amo.noPipelineOrStage", en: "\(rule.en): no pipeline or stage chosen", ru: "\(rule.ru): не выбраны воронка или этап")
        case .noPipeline(let rule):
            return Phrase(code: "amo.noPipeline", en: "\(rule.en): no pipeline chosen", ru: "\(rule.ru): не выбрана воронка")
        case .openDealUsed(let rule, let deal):
            return Phrase(code: "amo.openDealUsed", en: "\(rule.en): the client's open deal \(deal) is used",
                          ru: "\(rule.ru): звонок прикреплён к открытой сделке клиента \(deal)")
        case .dealNoOpen(let rule):
            return Phrase(code: "amo.dealNoOpen", en: "\(rule.en): create a deal (the client has no open deal)",
                          ru: "\(rule.ru): создать сделку (открытой сделки у клиента нет)")
        case .dealAlways(let rule):
            return Phrase(code: "amo.dealAlways", en: "\(rule.en): create a deal always, at the end of the call",
                          ru: "\(rule.ru): создать сделку всегда, по окончании звонка")
        case .actionDoesNotApply(let rule, let action):
            return Phrase(code: "amo.actionDoesNotApply", en: "\(rule.en): action \(action) does not apply",
                          ru: "\(rule.ru): действие \(action) здесь неприменимо")
        case .recordedWithUnsorted:
            return Phrase(code: "amo.recordedWithUnsorted", en: "the call is recorded with the Unsorted entry",
                          ru: "звонок записан вместе с заявкой в «Неразобранном»")
        case .notLoggedNoContact(let number):
            return Phrase(code: "amo.notLoggedNoContact", en: "the call is not logged: amoCRM has no contact for \(number)",
                          ru: "звонок не записан: в amoCRM нет контакта с номером \(number)")
        case .taskForAnswerer:
            return Phrase(code: "amo.taskForAnswerer", en: "task for the employee who answered", ru: "задача сотруднику, принявшему звонок")
        case .noTaskUnmapped:
            return Phrase(code: "amo.noTaskUnmapped", en: "no task: the employee who answered is not mapped to an amoCRM user",
                          ru: "задача не ставится: принявший звонок сотрудник не сопоставлен с пользователем amoCRM")
        case .chooseDefaultResponsible:
            return Phrase(code: "amo.chooseDefaultResponsible", en: "choose the default responsible user in amoCRM",
                          ru: "выберите ответственного по умолчанию")
        case .choosePipeline:
            return Phrase(code: "amo.choosePipeline", en: "choose a pipeline", ru: "выберите воронку")
        case .chooseStage:
            return Phrase(code: "amo.chooseStage", en: "choose a stage", ru: "выберите этап")
        case .chooseAction(let known, let allowed):
            return Phrase(code: "amo.chooseAction.\(known ? "known" : "unknown")",
                          en: "for \(known ? "an existing client" : "an unknown number") choose one of " + allowed.joined(separator: ", "),
                          ru: "для \(known ? "существующего клиента" : "нового номера") выберите одно из действий: " + allowed.joined(separator: ", "))
        }
    }

    public static var samples: [AmoReason] {
        let rule = AmoReason.rule(outgoing: false, answered: true, known: false).phrase
        let rules = [false, true].flatMap { o in [false, true].flatMap { a in [false, true].map { k in AmoReason.rule(outgoing: o, answered: a, known: k) } } }
        return rules + [
            .noDefaultResponsible, .filtered(number: "+7", outgoing: false), .switchedOff(rule: rule), .contactAndDeal(rule: rule),
            .contactOnly(rule: rule), .unsortedAlways(rule: rule), .noPipelineOrStage(rule: rule), .noPipeline(rule: rule),
            .openDealUsed(rule: rule, deal: 1), .dealNoOpen(rule: rule), .dealAlways(rule: rule),
            .actionDoesNotApply(rule: rule, action: "x"), .recordedWithUnsorted, .notLoggedNoContact(number: "+7"),
            .taskForAnswerer, .noTaskUnmapped, .chooseDefaultResponsible, .choosePipeline, .chooseStage,
            .chooseAction(known: true, allowed: ["a"]), .chooseAction(known: false, allowed: ["a"]),
        ]
    }
}
