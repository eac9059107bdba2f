/// Why a call job did nothing: the guards every connector's call jobs share (`IntegrationContext`, the call jobs).
/// `crm` is the CRM's title in both languages.
public enum CallSkip: PhraseCatalog, Equatable {
    case integrationDeleted
    case switchedOff(crm: Phrase)
    case cardTooLate
    case cardNumberHidden
    case numberHidden
    case internalCall(crm: Phrase)

    public var phrase: Phrase {
        switch self {
        case .integrationDeleted:
            Phrase(code: "call.integrationDeleted", en: "the integration was deleted; nothing to do", ru: "интеграция удалена; делать нечего")
        case .switchedOff(let crm):
            Phrase(code: "call.switchedOff", en: "the integration is switched off (CORE-2); nothing sent to \(crm.en)",
                   ru: "интеграция выключена; в \(crm.ru) ничего не отправлено")
        case .cardTooLate:
            Phrase(code: "call.cardTooLate", en: "no card: the call ended before it could be shown",
                   ru: "карточка не показана: звонок закончился раньше, чем её можно было показать")
        case .cardNumberHidden:
            Phrase(code: "call.cardNumberHidden", en: "no card: the caller's number is hidden", ru: "карточка не показана: номер звонящего скрыт")
        case .numberHidden:
            Phrase(code: "call.numberHidden", en: "nothing to do: the caller's number is hidden or not a phone number",
                   ru: "делать нечего: номер звонящего скрыт или это не телефонный номер")
        case .internalCall(let crm):
            Phrase(code: "call.internal", en: "internal calls are not sent to \(crm.en)", ru: "внутренние звонки в \(crm.ru) не передаются")
        }
    }

    public static var samples: [CallSkip] {
        let crm = Phrase(code: "crm", en: "CRM", ru: "CRM")
        return [.integrationDeleted, .switchedOff(crm: crm), .cardTooLate, .cardNumberHidden, .numberHidden, .internalCall(crm: crm)]
    }
}

/// Why a job cannot load what it works with (the integration's credentials and settings, the call).
public enum ContextProblem: PhraseCatalog, Equatable {
    case refreshBusy(crm: Phrase)
    case noCredentials(crm: Phrase)
    case settingsUnreadable(crm: Phrase, error: String)
    case settingsIncomplete(crm: Phrase, problems: [SettingsProblem])
    case callNotFound(id: String)

    public var phrase: Phrase {
        switch self {
        case .refreshBusy(let crm):
            Phrase(code: "context.refreshBusy", en: "another worker is still renewing the \(crm.en) token",
                   ru: "токен \(crm.ru) сейчас обновляет другой обработчик")
        case .noCredentials(let crm):
            Phrase(code: "context.noCredentials", en: "the integration has no \(crm.en) credentials",
                   ru: "у интеграции не выбраны учётные данные \(crm.ru)")
        case .settingsUnreadable(let crm, let error):
            Phrase(code: "context.settingsUnreadable", en: "the \(crm.en) settings cannot be read: \(error)",
                   ru: "настройки \(crm.ru) не читаются: \(error)")
        case .settingsIncomplete(let crm, let problems):
            Phrase(code: "context.settingsIncomplete",
                   en: "the \(crm.en) settings are incomplete: " + problems.map { "\($0.field): \($0.phrase.en)" }.joined(separator: "; "),
                   ru: "настройки \(crm.ru) не заполнены: " + problems.map { "\($0.field): \($0.phrase.ru)" }.joined(separator: "; "))
        case .callNotFound(let id):
            Phrase(code: "context.callNotFound", en: "call \(id) not found", ru: "звонок \(id) не найден")
        }
    }

    public static var samples: [ContextProblem] {
        let crm = Phrase(code: "crm", en: "CRM", ru: "CRM")
        return [.refreshBusy(crm: crm), .noCredentials(crm: crm), .settingsUnreadable(crm: crm, error: "e"),
                .settingsIncomplete(crm: crm, problems: [SettingsProblem(field: "f", InputProblem.notAPhoneNumber("x"))]),
                .callNotFound(id: "c")]
    }
}

/// A value a tenant typed that Switchboard cannot take (settings of every CRM, sites, text rules).
public enum InputProblem: PhraseCatalog, Equatable {
    case notAPhoneNumber(String)
    case notOneOf(String, [String])
    case settingsUnreadable(error: String)
    case textRulesUnreadable(error: String)
    case userIdNotNumber(crm: Phrase)
    case requestsResponsible
    case chatsResponsible
    case siteName
    case tooManyOrigins
    case notAnOrigin(String)
    case requestTypes
    case nameRequired
    case loginRequired
    case routingDeadline
    case apiFlavor

    public var phrase: Phrase {
        switch self {
        case .notAPhoneNumber(let s):
            Phrase(code: "input.notAPhoneNumber", en: "\"\(s)\" is not a phone number", ru: "«\(s)» — не телефонный номер")
        case .notOneOf(let s, let allowed):
            Phrase(code: "input.notOneOf", en: "\(s) is not one of \(allowed.joined(separator: ", "))",
                   ru: "\(s) — не одна из меток \(allowed.joined(separator: ", "))")
        case .settingsUnreadable(let error):
            Phrase(code: "input.settingsUnreadable", en: "the settings cannot be read: \(error)", ru: "настройки не читаются: \(error)")
        case .textRulesUnreadable(let error):
            Phrase(code: "input.textRulesUnreadable", en: "the text rules cannot be read: \(error)",
                   ru: "правила заявок и чатов не читаются: \(error)")
        case .userIdNotNumber(let crm):
            Phrase(code: "input.userIdNotNumber", en: "a \(crm.en) user id is a number", ru: "ID сотрудника \(crm.ru) — число")
        case .requestsResponsible:
            Phrase(code: "input.requestsResponsible", en: "choose the CRM user responsible for what requests create",
                   ru: "выберите сотрудника CRM, ответственного за то, что создают заявки")
        case .chatsResponsible:
            Phrase(code: "input.chatsResponsible", en: "choose the CRM user responsible for what chats create",
                   ru: "выберите сотрудника CRM, ответственного за то, что создают чаты")
        case .siteName:
            Phrase(code: "input.siteName", en: "name is 1 to 200 characters", ru: "название — от 1 до 200 символов")
        case .tooManyOrigins:
            Phrase(code: "input.tooManyOrigins", en: "at most 50 origins", ru: "не больше 50 адресов сайта")
        case .notAnOrigin(let s):
            Phrase(code: "input.notAnOrigin", en: "\"\(s)\" is not an origin such as https://shop.example",
                   ru: "«\(s)» — не адрес сайта вида https://shop.example")
        case .requestTypes:
            Phrase(code: "input.requestTypes", en: "at most 50 request types of 1 to 100 characters",
                   ru: "не больше 50 типов заявок, каждый от 1 до 100 символов")
        case .nameRequired: Phrase(code: "input.nameRequired", en: "name is required", ru: "укажите название")
        case .loginRequired: Phrase(code: "input.loginRequired", en: "login is required", ru: "укажите логин")
        case .routingDeadline:
            Phrase(code: "input.routingDeadline", en: "routing deadline must be between 100 and 10000 ms",
                   ru: "срок ответа на маршрутизацию — от 100 до 10000 мс")
        case .apiFlavor: Phrase(code: "input.apiFlavor", en: "apiFlavor is legacy or v1", ru: "apiFlavor — legacy или v1")
        }
    }

    public static var samples: [InputProblem] {
        [.notAPhoneNumber("x"), .notOneOf("a", ["b"]), .settingsUnreadable(error: "e"), .textRulesUnreadable(error: "e"),
         .userIdNotNumber(crm: Phrase(code: "crm", en: "CRM", ru: "CRM")), .requestsResponsible, .chatsResponsible, .siteName,
         .tooManyOrigins, .notAnOrigin("x"), .requestTypes, .nameRequired, .loginRequired, .routingDeadline, .apiFlavor]
    }
}

/// What the text jobs every CRM shares say (`TextJobRunner`, the `texts` block's checks).
public enum TextJobNote: PhraseCatalog, Equatable {
    case textNotFound(id: String)
    case rulesUnreadable(error: String)
    case skipped(TextSkip, crm: Phrase)
    case rulesIncomplete(crm: Phrase, problems: [SettingsProblem])
    case rulesApply(kind: TextKind, site: String, event: String)
    /// A CRM's own options in the `texts` block (`what`, e.g. "Megaplan's text options") cannot be read.
    case ownOptionsUnreadable(what: Phrase, error: String)

    public var phrase: Phrase {
        switch self {
        case .textNotFound(let id):
            Phrase(code: "texts.notFound", en: "text communication \(id) not found", ru: "заявка или чат \(id) не найдены")
        case .rulesUnreadable(let error):
            Phrase(code: "texts.rulesUnreadable", en: "the text rules (settings.texts) cannot be read: \(error)",
                   ru: "правила заявок и чатов (settings.texts) не читаются: \(error)")
        case .skipped(let skip, let crm):
            Phrase(code: "texts.skipped", en: skip.phrase.en + "; nothing sent to \(crm.en)", ru: skip.phrase.ru + "; в \(crm.ru) ничего не отправлено")
        case .rulesIncomplete(let crm, let problems):
            Phrase(code: "texts.rulesIncomplete",
                   en: "the \(crm.en) text rules are incomplete: " + problems.map { "\($0.field): \($0.phrase.en)" }.joined(separator: "; "),
                   ru: "правила заявок и чатов \(crm.ru) не заполнены: " + problems.map { "\($0.field): \($0.phrase.ru)" }.joined(separator: "; "))
        case .rulesApply(let kind, let site, let event):
            Phrase(code: "texts.rulesApply", en: "\(kind == .request ? "request" : "chat") from \(site) at \(event): rules apply",
                   ru: "\(kind == .request ? "заявка" : "чат") с сайта \(site), событие \(event): правила применяются")
        case .ownOptionsUnreadable(let what, let error):
            Phrase(code: "texts.ownOptionsUnreadable", en: "\(what.en) cannot be read: \(error)", ru: "\(what.ru) не читаются: \(error)")
        }
    }

    public static var samples: [TextJobNote] {
        let crm = Phrase(code: "crm", en: "CRM", ru: "CRM")
        return [.textNotFound(id: "t"), .rulesUnreadable(error: "e"), .skipped(.filtered(kind: .chat, site: "s", event: "e"), crm: crm),
                .rulesIncomplete(crm: crm, problems: []), .rulesApply(kind: .request, site: "s", event: "e"),
                .ownOptionsUnreadable(what: crm, error: "e")]
    }
}

/// A CRM request that got no usable answer, the same for every CRM (`crm` is its title, `what` what the request was for).
public enum CRMFailure: PhraseCatalog, Equatable {
    case unreachable(crm: Phrase, what: Phrase?, error: String)
    case addressRefused(crm: Phrase, reason: OutboundPolicy.Problem)
    /// An error with no words of its own for a tenant (a local failure): its English, introduced in Russian.
    case other(String)

    /// An error's phrase: its own when it has one, else `other`.
    public static func phrase(of error: any Error) -> Phrase {
        (error as? any TenantReadable)?.phrase ?? CRMFailure.other("\(error)").phrase
    }

    public var phrase: Phrase {
        switch self {
        case .other(let error):
            Phrase(code: "crm.other", en: error, ru: "ошибка: \(error)")
        case .unreachable(let crm, let what?, let error):
            Phrase(code: "crm.unreachableWhile", en: "\(crm.en) unreachable while trying to \(what.en): \(error)",
                   ru: "\(crm.ru) недоступен при попытке \(what.ru): \(error)")
        case .unreachable(let crm, nil, let error):
            Phrase(code: "crm.unreachable", en: "\(crm.en) unreachable: \(error)", ru: "\(crm.ru) недоступен: \(error)")
        case .addressRefused(let crm, let reason):
            Phrase(code: "crm.addressRefused", en: "the \(crm.en) account's address is refused: \(reason.phrase.en)",
                   ru: "адрес аккаунта \(crm.ru) отклонён: \(reason.phrase.ru)")
        }
    }

    public static var samples: [CRMFailure] {
        let crm = Phrase(code: "crm", en: "CRM", ru: "CRM")
        return [.unreachable(crm: crm, what: crm, error: "e"), .unreachable(crm: crm, what: nil, error: "e"),
                .addressRefused(crm: crm, reason: .unresolved("h")), .other("e")]
    }
}

/// What the deal-import jobs every CRM shares say. `counts` is per outcome (created, moved, updated, stale).
public enum DealNote: PhraseCatalog, Equatable {
    case integrationDeleted
    case switchedOff
    case synced(ids: [String], counts: [String: Int], missing: [String])
    case backfilled(read: Int, counts: [String: Int])

    static let outcomes: [(en: String, ru: String)] = [("created", "создано"), ("moved", "перенесено"), ("updated", "обновлено"), ("stale", "устарело")]

    static func summary(_ counts: [String: Int], _ language: Language) -> String {
        outcomes.compactMap { o in counts[o.en].map { language == .ru ? "\(o.ru): \($0)" : "\($0) \(o.en)" } }.joined(separator: ", ")
    }

    public var phrase: Phrase {
        switch self {
        case .integrationDeleted:
            Phrase(code: "deals.integrationDeleted", en: "the integration was deleted; no deals are imported",
                   ru: "интеграция удалена; сделки не передаются")
        case .switchedOff:
            Phrase(code: "deals.switchedOff", en: "the integration is switched off (CORE-2); no deals are imported",
                   ru: "интеграция выключена; сделки не передаются")
        case .synced(let ids, let counts, let missing):
            Phrase(code: "deals.synced",
                   en: "deals \(ids.joined(separator: ", ")): \(Self.summary(counts, .en))"
                       + (missing.isEmpty ? "" : "; not found in the CRM: \(missing.joined(separator: ", "))"),
                   ru: "сделки \(ids.joined(separator: ", ")): \(Self.summary(counts, .ru))"
                       + (missing.isEmpty ? "" : "; в CRM не найдены: \(missing.joined(separator: ", "))"))
        case .backfilled(let read, let counts):
            Phrase(code: "deals.backfilled", en: "backfill: \(read) deals read (\(Self.summary(counts, .en)))",
                   ru: "загрузка: прочитано сделок: \(read) (\(Self.summary(counts, .ru)))")
        }
    }

    public static var samples: [DealNote] {
        [.integrationDeleted, .switchedOff, .synced(ids: ["1"], counts: ["created": 1], missing: ["2"]), .backfilled(read: 1, counts: ["updated": 1])]
    }
}
