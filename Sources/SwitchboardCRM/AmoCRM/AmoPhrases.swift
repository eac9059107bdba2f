import SwitchboardCore

extension AmoCRM {
    /// amoCRM's name in sentences.
    public static let title = Phrase(code: "crm.amocrm", en: "amoCRM", ru: "amoCRM")

    /// Every sentence the amoCRM connector can say, with sample values (the catalogue test reads them).
    public static var phrases: [Phrase] { AmoRequest.phrases + AmoSays.phrases + AmoReason.phrases }
}

/// What a request to amoCRM was for, as its failures name it.
public enum AmoRequest: PhraseCatalog, Equatable {
    case findContact, readContactDeals, listUsers, listPipelines, readAccount, refreshToken, showCall
    case createContact, createContactAndDeal, createDeal, logCall, createTask, createUnsorted
    case findDealMade, findUnsortedMade, findCallMade, findTaskMade, findNoteMade, readContact
    case addRequestNote, writeTranscript, readChangedDeals, readDeals(page: Int), readCurrency, readDealContacts
    case subscribeContacts, subscribeContactsAndDeals

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .findContact: ("findContact", "find the contact by phone", "найти контакт по номеру")
        case .readContactDeals: ("readContactDeals", "read the contact's deals", "прочитать сделки контакта")
        case .listUsers: ("listUsers", "list users", "получить список пользователей")
        case .listPipelines: ("listPipelines", "list pipelines", "получить список воронок")
        case .readAccount: ("readAccount", "read the account", "прочитать данные аккаунта")
        case .refreshToken: ("refreshToken", "refresh the access token", "обновить токен доступа")
        case .showCall: ("showCall", "show the incoming call to the employee", "показать сотруднику входящий звонок")
        case .createContact: ("createContact", "create the contact", "создать контакт")
        case .createContactAndDeal: ("createContactAndDeal", "create the contact and the deal", "создать контакт и сделку")
        case .createDeal: ("createDeal", "create the deal", "создать сделку")
        case .logCall: ("logCall", "log the call", "записать звонок")
        case .createTask: ("createTask", "create the task", "создать задачу")
        case .createUnsorted: ("createUnsorted", "create the Unsorted entry", "создать заявку в «Неразобранном»")
        case .findDealMade: ("findDealMade", "look for the deal an interrupted attempt made", "найти сделку, созданную прерванной попыткой")
        case .findUnsortedMade:
            ("findUnsortedMade", "look for the Unsorted entry an interrupted attempt made", "найти заявку в «Неразобранном», созданную прерванной попыткой")
        case .findCallMade: ("findCallMade", "look for the call an interrupted attempt logged", "найти звонок, записанный прерванной попыткой")
        case .findTaskMade: ("findTaskMade", "look for the task an interrupted attempt set", "найти задачу, поставленную прерванной попыткой")
        case .findNoteMade: ("findNoteMade", "look for the note an interrupted attempt wrote", "найти примечание, записанное прерванной попыткой")
        case .readContact: ("readContact", "read the contact", "прочитать контакт")
        case .addRequestNote: ("addRequestNote", "add the request's note", "добавить примечание с заявкой")
        case .writeTranscript: ("writeTranscript", "write the chat's transcript", "записать переписку чата")
        case .readChangedDeals: ("readChangedDeals", "read the changed deals", "прочитать изменённые сделки")
        case .readDeals(let page): ("readDeals", "read the deals (page \(page))", "прочитать сделки (страница \(page))")
        case .readCurrency: ("readCurrency", "read the account's currency", "прочитать валюту аккаунта")
        case .readDealContacts: ("readDealContacts", "read the deals' contacts", "прочитать контакты сделок")
        case .subscribeContacts: ("subscribeContacts", "subscribe to contact changes", "подписаться на изменения контактов")
        case .subscribeContactsAndDeals:
            ("subscribeContactsAndDeals", "subscribe to contact and deal changes", "подписаться на изменения контактов и сделок")
        }
        return Phrase(code: "amo.request." + code, en: en, ru: ru)
    }

    public static var samples: [AmoRequest] {
        [.findContact, .readContactDeals, .listUsers, .listPipelines, .readAccount, .refreshToken, .showCall, .createContact,
         .createContactAndDeal, .createDeal, .logCall, .createTask, .createUnsorted, .findDealMade, .findUnsortedMade, .findCallMade,
         .findTaskMade, .findNoteMade, .readContact, .addRequestNote, .writeTranscript, .readChangedDeals, .readDeals(page: 1),
         .readCurrency, .readDealContacts, .subscribeContacts, .subscribeContactsAndDeals]
    }
}

/// What the amoCRM connector says: its failures, its journal notes, its credentials' states.
public enum AmoSays: PhraseCatalog, Equatable {
    case noToken(credential: String)
    case noLongLivedToken
    case wrongAuthKind(String)
    case noRefreshToken
    case cannotRefresh
    case oauthDomains(listed: String, account: String)
    case tokenEndpointAnswered(Int)
    case revokedStatus(Int)
    case revoked
    case addressRefused(OutboundPolicy.Problem)
    case codeRefused(Int)
    case tokenRefusedState
    case tokenRefused
    case blocked
    case refusedTo(AmoRequest, status: Int, explanation: String)
    case refusedToLogCall(String)
    case rateLimited(AmoRequest)
    case answered(Int, AmoRequest)
    case noId(String)
    case noLead(String)
    case noPipelineForDeal
    case cardUnmapped(login: String)
    case noContactUnsorted(number: String)
    case knowsSender(contact: Int)
    case noSenderContact
    case transcriptNoContact
    case works(account: String, users: Int)
    case textOptions
    case noOAuthApp
    case connected

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .noToken(let name):
            ("noToken", "amoCRM credentials \"\(name)\" have no token: connect the account again",
             "в учётных данных amoCRM «\(name)» нет токена: подключите аккаунт заново")
        case .noLongLivedToken: ("noLongLivedToken", "no long-lived token stored", "долгосрочный токен не сохранён")
        case .wrongAuthKind(let kind):
            ("wrongAuthKind", "amoCRM needs OAuth or a long-lived token, not \(kind)", "amoCRM нужен OAuth или долгосрочный токен, а не \(kind)")
        case .noRefreshToken:
            ("noRefreshToken", "no refresh token; connect the account again", "нет токена обновления; подключите аккаунт заново")
        case .cannotRefresh:
            ("cannotRefresh", "amoCRM access expired and cannot be refreshed: connect the account again",
             "доступ к amoCRM истёк и не может быть обновлён: подключите аккаунт заново")
        case .oauthDomains(let listed, let account):
            ("oauthDomains", "amoCRM OAuth works only with accounts on \(listed): \(account) is not one",
             "OAuth amoCRM работает только с аккаунтами на \(listed): \(account) к ним не относится")
        case .tokenEndpointAnswered(let status):
            ("tokenEndpointAnswered", "amoCRM token endpoint answered \(status)", "amoCRM ответила \(status) на обновление токена")
        case .revokedStatus(let status):
            ("revokedStatus", "amoCRM revoked access (\(status)); connect the account again",
             "amoCRM отозвала доступ (\(status)); подключите аккаунт заново")
        case .revoked: ("revoked", "amoCRM revoked access: connect the account again", "amoCRM отозвала доступ: подключите аккаунт заново")
        case .addressRefused(let reason):
            ("addressRefused", "amoCRM account address refused: \(reason.phrase.en)", "адрес аккаунта amoCRM отклонён: \(reason.phrase.ru)")
        case .codeRefused(let status):
            ("codeRefused", "amoCRM refused the authorization code (HTTP \(status))", "amoCRM не приняла код авторизации (HTTP \(status))")
        case .tokenRefusedState: ("tokenRefusedState", "amoCRM refused the token (401)", "amoCRM не принимает токен (401)")
        case .tokenRefused:
            ("tokenRefused", "amoCRM refused the token (401): connect the account again", "amoCRM не принимает токен (401): подключите аккаунт заново")
        case .blocked:
            ("blocked", "amoCRM answered 403: the account or the integration is blocked", "amoCRM ответила 403: аккаунт или интеграция заблокированы")
        case .refusedTo(let what, let status, let explanation):
            ("refusedTo", "amoCRM refused to \(what.phrase.en): HTTP \(status) \(explanation)",
             "amoCRM отказалась \(what.phrase.ru): HTTP \(status) \(explanation)")
        case .refusedToLogCall(let explanation):
            ("refusedToLogCall", "amoCRM refused to log the call: \(explanation)", "amoCRM отказалась записать звонок: \(explanation)")
        case .rateLimited(let what):
            ("rateLimited", "amoCRM rate limit (429) while trying to \(what.phrase.en)",
             "amoCRM ограничила частоту запросов (429) при попытке \(what.phrase.ru)")
        case .answered(let status, let what):
            ("answered", "amoCRM answered \(status) while trying to \(what.phrase.en)", "amoCRM ответила \(status) при попытке \(what.phrase.ru)")
        case .noId(let key): ("noId", "amoCRM's answer has no \(key) id", "в ответе amoCRM нет id: \(key)")
        case .noLead(let path): ("noLead", "amoCRM's answer to \(path) has no lead", "в ответе amoCRM на \(path) нет сделки")
        case .noPipelineForDeal: ("noPipelineForDeal", "amoCRM has no pipeline for the deal", "в amoCRM нет воронки для сделки")
        case .cardUnmapped(let login):
            ("cardUnmapped", "no card: employee \(login) is not mapped to an amoCRM user (CORE-3)",
             "карточка не показана: сотрудник \(login) не сопоставлен с пользователем amoCRM")
        case .noContactUnsorted(let number):
            ("noContactUnsorted", "amoCRM has no contact for \(number): the call goes to Unsorted",
             "в amoCRM нет контакта с номером \(number): звонок попадает в «Неразобранное»")
        case .knowsSender(let contact):
            ("knowsSender", "amoCRM knows the sender: contact \(contact)", "amoCRM знает отправителя: контакт \(contact)")
        case .noSenderContact: ("noSenderContact", "amoCRM has no contact with the sender's phone", "в amoCRM нет контакта с телефоном отправителя")
        case .transcriptNoContact:
            ("transcriptNoContact", "the transcript is not written: amoCRM has no contact for this chat",
             "переписка не записана: в amoCRM нет контакта для этого чата")
        case .works(let account, let users):
            ("works", "connection works, account \(account), \(users) users", "подключение работает: аккаунт \(account), пользователей: \(users)")
        case .textOptions: ("textOptions", "the pipeline and stage", "воронка и этап")
        case .noOAuthApp: ("noOAuthApp", "this installation has no amoCRM OAuth application", "OAuth-приложение amoCRM не настроено в этой установке")
        case .connected: ("connected", "amoCRM is connected. You may close this window.", "amoCRM подключена. Можно закрыть это окно.")
        }
        return Phrase(code: "amo." + code, en: en, ru: ru)
    }

    public static var samples: [AmoSays] {
        [.noOAuthApp, .connected, .noToken(credential: "c"), .noLongLivedToken, .wrongAuthKind("k"), .noRefreshToken, .cannotRefresh,
         .oauthDomains(listed: "l", account: "a"), .tokenEndpointAnswered(500), .revokedStatus(400), .revoked,
         .addressRefused(.unresolved("h")), .codeRefused(400), .tokenRefusedState, .tokenRefused, .blocked,
         .refusedTo(.logCall, status: 400, explanation: "e"), .refusedToLogCall("e"), .rateLimited(.logCall), .answered(500, .logCall),
         .noId("lead"), .noLead("p"), .noPipelineForDeal, .cardUnmapped(login: "l"), .noContactUnsorted(number: "n"),
         .knowsSender(contact: 1), .noSenderContact, .transcriptNoContact, .works(account: "a", users: 1), .textOptions]
    }
}
