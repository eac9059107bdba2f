import SwitchboardCore

extension Bitrix24 {
    /// Bitrix24's name in sentences.
    public static let title = Phrase(code: "crm.bitrix24", en: "Bitrix24", ru: "Битрикс24")

    /// Every sentence the Bitrix24 connector can say, with sample values (the catalogue test reads them).
    public static var phrases: [Phrase] { B24Request.phrases + B24Says.phrases }
}

/// What a request to Bitrix24 was for, as its failures name it.
public enum B24Request: PhraseCatalog, Equatable {
    case bindEvents, testConnection, countUsers, listUsers, findResponsible, readChangedDeals, readDeals(after: String?)
    case nameDealParts, readMode, createLead, createContact, createDeal, createTask, writeTranscript, findSenderContact
    case findRecordMade, findTranscriptMade, addLine(String), registerCall, showCall, finishCall

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .bindEvents: ("bindEvents", "bind the application's events", "подписать приложение на события")
        case .testConnection: ("testConnection", "test the connection", "проверить подключение")
        case .countUsers: ("countUsers", "count the users", "посчитать пользователей")
        case .listUsers: ("listUsers", "list the users", "получить список пользователей")
        case .findResponsible: ("findResponsible", "find the caller's responsible user", "найти ответственного за клиента")
        case .readChangedDeals: ("readChangedDeals", "read the changed deals", "прочитать изменённые сделки")
        case .readDeals(let after?): ("readDeals", "read the deals after \(after)", "прочитать сделки после \(after)")
        case .readDeals(nil): ("readDealsFirst", "read the deals after the first", "прочитать сделки с начала")
        case .nameDealParts:
            ("nameDealParts", "name the deals' stages, pipelines, users and contacts", "прочитать названия этапов, воронок, пользователей и контактов сделок")
        case .readMode: ("readMode", "read the portal's CRM mode", "прочитать режим CRM портала")
        case .createLead: ("createLead", "create the lead", "создать лид")
        case .createContact: ("createContact", "create the contact", "создать контакт")
        case .createDeal: ("createDeal", "create the deal", "создать сделку")
        case .createTask: ("createTask", "create the task", "создать задачу")
        case .writeTranscript: ("writeTranscript", "write the chat's transcript", "записать переписку чата")
        case .findSenderContact: ("findSenderContact", "find the sender's contact", "найти контакт отправителя")
        case .findRecordMade: ("findRecordMade", "look for the record an interrupted attempt made", "найти запись, созданную прерванной попыткой")
        case .findTranscriptMade:
            ("findTranscriptMade", "look for the transcript an interrupted attempt wrote", "найти переписку, записанную прерванной попыткой")
        case .addLine(let number): ("addLine", "add the external line \(number)", "добавить внешнюю линию \(number)")
        case .registerCall: ("registerCall", "register the call", "зарегистрировать звонок")
        case .showCall: ("showCall", "show the call to the employee", "показать звонок сотруднику")
        case .finishCall: ("finishCall", "finish the call", "завершить звонок")
        }
        return Phrase(code: "b24.request." + code, en: en, ru: ru)
    }

    public static var samples: [B24Request] {
        [.bindEvents, .testConnection, .countUsers, .listUsers, .findResponsible, .readChangedDeals, .readDeals(after: "1"), .readDeals(after: nil),
         .nameDealParts, .readMode, .createLead, .createContact, .createDeal, .createTask, .writeTranscript, .findSenderContact,
         .findRecordMade, .findTranscriptMade, .addLine("+7"), .registerCall, .showCall, .finishCall]
    }
}

/// What the Bitrix24 connector says: its failures, its journal notes, its settings' problems, its credentials' states.
public enum B24Says: PhraseCatalog, Equatable {
    case notInstalled
    case noApplicationKey
    case cannotRenew
    case oauthSilent(String)
    case oauthAnswered(Int)
    case renewRefusedState(String)
    case renewRefused(String)
    case rateLimited(B24Request)
    case timeLimited(B24Request)
    case accessRefused(String)
    case refusedTo(B24Request, String)
    case answered(Int, B24Request, String)
    case bindRefused(key: String, failure: String)
    case works(portal: String, users: Int, dealsMode: Bool)
    case chooseMissedResponsible
    case chooseTransferResponsible
    case chooseOutgoingResponsible
    case knowsSender(contact: String)
    case noSenderContact
    case transcriptNoRecord
    case clickedCallReused(String)
    case noCallId
    case noCallRegistered
    case cardUnmapped(login: String)
    case webRTC
    case noResponsible
    case noTalkerMapped
    case finishRefused(String)
    case finishedAlready
    case refusedCommand(String, String)
    case textEntity(allowed: [String])

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .notInstalled:
            ("notInstalled", "the Switchboard application is not installed on the Bitrix24 portal yet: install it and try again",
             "приложение Switchboard ещё не установлено на портале Битрикс24: установите его и попробуйте снова")
        case .noApplicationKey:
            ("noApplicationKey", "no application key or refresh token: install the application again",
             "нет ключа приложения или токена обновления: установите приложение заново")
        case .cannotRenew:
            ("cannotRenew", "Bitrix24 access cannot be renewed: the application's code and key are missing; install it again",
             "доступ к Битрикс24 не обновить: нет кода и ключа приложения; установите его заново")
        case .oauthSilent(let error):
            ("oauthSilent", "the Bitrix24 OAuth server did not answer: \(error)", "OAuth-сервер Битрикс24 не ответил: \(error)")
        case .oauthAnswered(let status):
            ("oauthAnswered", "the Bitrix24 OAuth server answered \(status)", "OAuth-сервер Битрикс24 ответил \(status)")
        case .renewRefusedState(let why):
            ("renewRefusedState", "Bitrix24 refused to renew access (\(why)); install the application again",
             "Битрикс24 отказался обновить доступ (\(why)); установите приложение заново")
        case .renewRefused(let why):
            ("renewRefused", "Bitrix24 refused to renew access (\(why)): install the application again",
             "Битрикс24 отказался обновить доступ (\(why)): установите приложение заново")
        case .rateLimited(let what):
            ("rateLimited", "Bitrix24's request limit (QUERY_LIMIT_EXCEEDED) while trying to \(what.phrase.en)",
             "Битрикс24 ограничил частоту запросов (QUERY_LIMIT_EXCEEDED) при попытке \(what.phrase.ru)")
        case .timeLimited(let what):
            ("timeLimited", "Bitrix24's method time limit (OPERATION_TIME_LIMIT) while trying to \(what.phrase.en)",
             "Битрикс24 ограничил время работы методов (OPERATION_TIME_LIMIT) при попытке \(what.phrase.ru)")
        case .accessRefused(let failure):
            ("accessRefused", "Bitrix24 refused the application's access (\(failure)): install the application again",
             "Битрикс24 не принимает доступ приложения (\(failure)): установите приложение заново")
        case .refusedTo(let what, let failure):
            ("refusedTo", "Bitrix24 refused to \(what.phrase.en): \(failure)", "Битрикс24 отказался \(what.phrase.ru): \(failure)")
        case .answered(let status, let what, let failure):
            ("answered", "Bitrix24 answered \(status) while trying to \(what.phrase.en): \(failure)",
             "Битрикс24 ответил \(status) при попытке \(what.phrase.ru): \(failure)")
        case .bindRefused(let key, let failure):
            ("bindRefused", "Bitrix24 refused to bind \(key): \(failure)", "Битрикс24 отказался подписать \(key): \(failure)")
        case .works(let portal, let users, let dealsMode):
            ("works", "connection works, portal \(portal), \(users) users, CRM mode: \(dealsMode ? "deals (simple CRM)" : "leads (classic CRM)")",
             "подключение работает: портал \(portal), пользователей: \(users), режим CRM: \(dealsMode ? "сделки (простой режим)" : "лиды (классический режим)")")
        case .chooseMissedResponsible:
            ("chooseMissedResponsible", "choose the Bitrix24 user responsible for missed incoming calls",
             "выберите пользователя Битрикс24, ответственного за пропущенные входящие звонки")
        case .chooseTransferResponsible:
            ("chooseTransferResponsible", "choose whether the first or the last talker becomes responsible after a transfer",
             "выберите, кто становится ответственным после перевода: первый или последний разговаривавший")
        case .chooseOutgoingResponsible:
            ("chooseOutgoingResponsible", "choose the Bitrix24 user responsible for outgoing calls of unmapped employees",
             "выберите пользователя Битрикс24, ответственного за исходящие звонки несопоставленных сотрудников")
        case .knowsSender(let contact):
            ("knowsSender", "Bitrix24 knows the sender: contact \(contact)", "Битрикс24 знает отправителя: контакт \(contact)")
        case .noSenderContact:
            ("noSenderContact", "Bitrix24 has no contact with the sender's phone or e-mail", "в Битрикс24 нет контакта с телефоном или e-mail отправителя")
        case .transcriptNoRecord:
            ("transcriptNoRecord", "the transcript is not written: Bitrix24 has no record for this chat",
             "переписка не записана: в Битрикс24 нет записи для этого чата")
        case .clickedCallReused(let id):
            ("clickedCallReused", "the call was started from Bitrix24: its CALL_ID \(id) is reused", "звонок начат из Битрикс24: используется его CALL_ID \(id)")
        case .noCallId:
            ("noCallId", "Bitrix24's answer to externalCall.register has no CALL_ID", "в ответе Битрикс24 на externalCall.register нет CALL_ID")
        case .noCallRegistered: ("noCallRegistered", "Bitrix24 registered no call", "Битрикс24 не зарегистрировал звонок")
        case .cardUnmapped(let login):
            ("cardUnmapped", "no card: employee \(login) is not mapped to a Bitrix24 user (CORE-3)",
             "карточка не показана: сотрудник \(login) не сопоставлен с пользователем Битрикс24")
        case .webRTC:
            ("webRTC", "WebRTC mode: the PBX's widget shows the call in Bitrix24, so no card of its own",
             "режим WebRTC: звонок показывает виджет АТС в Битрикс24, отдельная карточка не нужна")
        case .noResponsible:
            ("noResponsible", "no Bitrix24 user is responsible for this call: set the default responsible",
             "за звонок не отвечает ни один пользователь Битрикс24: выберите ответственного по умолчанию")
        case .noTalkerMapped:
            ("noTalkerMapped", "no talker is mapped to a Bitrix24 user: the call goes to the default responsible",
             "никто из разговаривавших не сопоставлен с пользователем Битрикс24: звонок получает ответственный по умолчанию")
        case .finishRefused(let failure):
            ("finishRefused", "Bitrix24 refused to finish the call: \(failure)", "Битрикс24 отказался завершить звонок: \(failure)")
        case .finishedAlready: ("finishedAlready", "Bitrix24 had finished the call already", "Битрикс24 уже завершил этот звонок")
        case .refusedCommand(let command, let failure):
            ("refusedCommand", "Bitrix24 refused \(command): \(failure)", "Битрикс24 отклонил \(command): \(failure)")
        case .textEntity(let allowed):
            ("textEntity", "entity (one of \(allowed.joined(separator: ", ")))", "сущность (одна из \(allowed.joined(separator: ", ")))")
        }
        return Phrase(code: "b24." + code, en: en, ru: ru)
    }

    public static var samples: [B24Says] {
        [.notInstalled, .noApplicationKey, .cannotRenew, .oauthSilent("e"), .oauthAnswered(500), .renewRefusedState("w"), .renewRefused("w"),
         .rateLimited(.finishCall), .timeLimited(.finishCall), .accessRefused("f"), .refusedTo(.finishCall, "f"), .answered(500, .finishCall, "f"),
         .bindRefused(key: "k", failure: "f"), .works(portal: "p", users: 1, dealsMode: true), .chooseMissedResponsible,
         .chooseTransferResponsible, .chooseOutgoingResponsible, .knowsSender(contact: "1"), .noSenderContact, .transcriptNoRecord,
         .clickedCallReused("c"), .noCallId, .noCallRegistered, .cardUnmapped(login: "l"), .webRTC, .noResponsible, .noTalkerMapped,
         .finishRefused("f"), .finishedAlready, .refusedCommand("c", "f"), .textEntity(allowed: ["a"])]
    }
}
