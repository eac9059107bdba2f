import SwitchboardCore

extension MoySklad {
    /// MoySklad's name in sentences.
    public static let title = Phrase(code: "crm.moysklad", en: "MoySklad", ru: "МойСклад")

    /// Every sentence the MoySklad connector can say, with sample values (the catalogue test reads them).
    public static var phrases: [Phrase] { MSRequest.phrases + MSSays.phrases }
}

/// What a request to MoySklad was for, as its failures name it.
public enum MSRequest: PhraseCatalog, Equatable {
    case subscribeCounterparties, listWebhooks, findExtension, readAccount, testAccessKey, countEmployees, listExtensions, listEmployees
    case createCall, findCaller, readOrganization, readOrderStatuses, createCounterparty, updateExtraFields, findCallOrder, createOrder
    case findCallTask, createTask, show(ext: String), startTimer(ext: String), hide(ext: String), finishCall, readOrder
    case readOrders(from: Int), subscribeOrders, issueToken, findCounterpartyMade, findOrderMade, findTaskMade, findTranscriptMade
    case writeTranscript, findSenderByEmail

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .subscribeCounterparties: ("subscribeCounterparties", "subscribe to counterparty changes", "подписаться на изменения контрагентов")
        case .listWebhooks: ("listWebhooks", "list the webhooks", "получить список вебхуков")
        case .findExtension: ("findExtension", "find the extension", "найти добавочный номер")
        case .readAccount: ("readAccount", "read the account", "прочитать аккаунт")
        case .testAccessKey: ("testAccessKey", "test the access key", "проверить ключ доступа")
        case .countEmployees: ("countEmployees", "count the employees", "посчитать сотрудников")
        case .listExtensions: ("listExtensions", "list the extensions", "получить добавочные номера")
        case .listEmployees: ("listEmployees", "list the employees", "получить список сотрудников")
        case .createCall: ("createCall", "create the call", "создать звонок")
        case .findCaller: ("findCaller", "find the caller", "найти звонившего")
        case .readOrganization: ("readOrganization", "read the organization", "прочитать юрлицо")
        case .readOrderStatuses: ("readOrderStatuses", "read the order statuses", "прочитать статусы заказов")
        case .createCounterparty: ("createCounterparty", "create the counterparty", "создать контрагента")
        case .updateExtraFields: ("updateExtraFields", "update the counterparty's extra fields", "обновить доп. поля контрагента")
        case .findCallOrder: ("findCallOrder", "look for the call's order", "найти заказ звонка")
        case .createOrder: ("createOrder", "create the order", "создать заказ")
        case .findCallTask: ("findCallTask", "look for the call's task", "найти задачу звонка")
        case .createTask: ("createTask", "create the task", "создать задачу")
        case .show(let ext): ("show", "show the call to \(ext)", "показать звонок \(ext)")
        case .startTimer(let ext): ("startTimer", "start the call's timer for \(ext)", "запустить таймер звонка для \(ext)")
        case .hide(let ext): ("hide", "hide the call from \(ext)", "скрыть звонок от \(ext)")
        case .finishCall: ("finishCall", "finish the call", "завершить звонок")
        case .readOrder: ("readOrder", "read the order", "прочитать заказ")
        case .readOrders(let from): ("readOrders", "read the orders from \(from)", "прочитать заказы начиная с \(from)")
        case .subscribeOrders: ("subscribeOrders", "subscribe to order changes", "подписаться на изменения заказов")
        case .issueToken: ("issueToken", "issue an access token", "получить токен доступа")
        case .findCounterpartyMade:
            ("findCounterpartyMade", "look for the counterparty an interrupted attempt made", "найти контрагента, созданного прерванной попыткой")
        case .findOrderMade: ("findOrderMade", "look for the order an interrupted attempt made", "найти заказ, созданный прерванной попыткой")
        case .findTaskMade: ("findTaskMade", "look for the task an interrupted attempt made", "найти задачу, созданную прерванной попыткой")
        case .findTranscriptMade:
            ("findTranscriptMade", "look for the transcript an interrupted attempt wrote", "найти переписку, записанную прерванной попыткой")
        case .writeTranscript: ("writeTranscript", "write the chat's transcript", "записать переписку чата")
        case .findSenderByEmail: ("findSenderByEmail", "find the sender by e-mail", "найти отправителя по e-mail")
        }
        return Phrase(code: "ms.request." + code, en: en, ru: ru)
    }

    public static var samples: [MSRequest] {
        [.subscribeCounterparties, .listWebhooks, .findExtension, .readAccount, .testAccessKey, .countEmployees, .listExtensions,
         .listEmployees, .createCall, .findCaller, .readOrganization, .readOrderStatuses, .createCounterparty, .updateExtraFields,
         .findCallOrder, .createOrder, .findCallTask, .createTask, .show(ext: "1"), .startTimer(ext: "1"), .hide(ext: "1"), .finishCall,
         .readOrder, .readOrders(from: 0), .subscribeOrders, .issueToken, .findCounterpartyMade, .findOrderMade, .findTaskMade,
         .findTranscriptMade, .writeTranscript, .findSenderByEmail]
    }
}

/// Why a MoySklad integration leaves a call alone (CORE-11 lines, MS-5 internal calls).
public enum MSSkip: PhraseCatalog, Equatable {
    case notOnLine(String)
    case internalOff
    case unknownDirection
    case numberHidden

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .notOnLine(let line):
            ("notOnLine", "the call came on \(line), not on a line of this integration (CORE-11)",
             "звонок пришёл на \(line), а не на линию этой интеграции")
        case .internalOff:
            ("internalOff", "internal calls are not logged (\"Показывать внутренние звонки\" is off, MS-5)",
             "внутренние звонки не записываются (выключено «Показывать внутренние звонки»)")
        case .unknownDirection: ("unknownDirection", "the call's direction is unknown", "направление звонка неизвестно")
        case .numberHidden: ("numberHidden", "the other party's number is hidden", "номер собеседника скрыт")
        }
        return Phrase(code: "ms.skip." + code, en: en, ru: ru)
    }

    public static var samples: [MSSkip] { [.notOnLine("1"), .internalOff, .unknownDirection, .numberHidden] }
}

/// What the MoySklad connector says: its failures, its journal notes, its settings' problems, its credentials' states.
public enum MSSays: PhraseCatalog, Equatable {
    case loginWorks(account: String)
    case works(account: String, employees: Int, withExtensions: Int)
    case keyWorks(withExtensions: Int)
    case noAccessKey
    case noJSONAccess
    case loginRefusedState(String)
    case loginRefused(String)
    case noAccessKeyNamed
    case answered(String, MSRequest)
    case keyRefused(String)
    case jsonRefused(String)
    case refusedTo(MSRequest, String)
    case noCallId
    case noId(String)
    case noOrganization
    case noCounterpartyRuleMakesNone(String)
    case noOrderStatus(String)
    case noOrderNoCounterparty
    case noCard(MSSkip)
    case cardUnmapped(login: String)
    case callOver
    case noCardShown
    case nothingSent(MSSkip)
    case noResponsible
    case noTalkerMapped
    case numberWithoutEntities(String)
    case noJSONForEntities
    case dealsCredentialsGone(String)
    case dealsOff
    case addDealsLogin
    case chooseResponsible
    case taskDue
    case chooseField(String)
    case textsNoJSON
    case knowsSender(String)
    case noSenderCounterparty
    case noCounterpartyForText(TextKind)
    case noOrderNoSender
    case transcriptNoCounterparty
    case notEmployeeId(String)
    case textOptions
    case textTaskDue
    case unreachable
    case enterDealsPassword

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .loginWorks(let account):
            ("loginWorks", "the login works: account \(account); its customer orders can be imported",
             "логин работает: аккаунт \(account); его заказы покупателей можно передавать в Switchboard")
        case .works(let account, let employees, let withExtensions):
            ("works", "connection works, account \(account), \(employees) employees, \(withExtensions) with extensions in the telephony application",
             "подключение работает: аккаунт \(account), сотрудников: \(employees), с добавочными номерами в приложении телефонии: \(withExtensions)")
        case .keyWorks(let withExtensions):
            ("keyWorks", "the access key works: \(withExtensions) employees with extensions; no JSON API access, so counterparties, orders and tasks need a login and password",
             "ключ доступа работает: сотрудников с добавочными номерами: \(withExtensions); доступа к JSON API нет, поэтому для контрагентов, заказов и задач нужны логин и пароль")
        case .noAccessKey: ("noAccessKey", "the MoySklad credentials have no access key", "в учётных данных МойСклад нет ключа доступа")
        case .noJSONAccess:
            ("noJSONAccess", "the MoySklad credentials have no JSON API access: add a login and password (or a token)",
             "в учётных данных МойСклад нет доступа к JSON API: добавьте логин и пароль (или токен)")
        case .loginRefusedState(let failure):
            ("loginRefusedState", "MoySklad refused the login and password (\(failure)): enter them again",
             "МойСклад не принял логин и пароль (\(failure)): введите их заново")
        case .loginRefused(let failure):
            ("loginRefused", "MoySklad refused the login and password: \(failure)", "МойСклад не принял логин и пароль: \(failure)")
        case .noAccessKeyNamed:
            ("noAccessKeyNamed", "the MoySklad credentials have no access key (\"Ключ доступа\")", "в учётных данных МойСклад нет ключа доступа («Ключ доступа»)")
        case .answered(let failure, let what):
            ("answered", "MoySklad answered \(failure) while trying to \(what.phrase.en)", "МойСклад ответил \(failure) при попытке \(what.phrase.ru)")
        case .keyRefused(let failure):
            ("keyRefused", "MoySklad refused the access key (\(failure)): copy \"Ключ доступа\" from the telephony application again",
             "МойСклад не принял ключ доступа (\(failure)): скопируйте «Ключ доступа» из приложения телефонии заново")
        case .jsonRefused(let failure):
            ("jsonRefused", "MoySklad refused the JSON API access (\(failure)): enter the login and password again",
             "МойСклад не принял доступ к JSON API (\(failure)): введите логин и пароль заново")
        case .refusedTo(let what, let failure):
            ("refusedTo", "MoySklad refused to \(what.phrase.en): \(failure)", "МойСклад отказался \(what.phrase.ru): \(failure)")
        case .noCallId: ("noCallId", "MoySklad's answer to POST /call has no id", "в ответе МойСклад на POST /call нет id")
        case .noId(let kind): ("noId", "MoySklad's answer has no \(kind) id", "в ответе МойСклад нет id: \(kind)")
        case .noOrganization:
            ("noOrganization", "the MoySklad account has no organization for the order", "в аккаунте МойСклад нет юрлица для заказа")
        case .noCounterpartyRuleMakesNone(let number):
            ("noCounterpartyRuleMakesNone", "MoySklad has no counterparty for \(number) and the rule makes none",
             "в МойСклад нет контрагента с номером \(number), и правило его не создаёт")
        case .noOrderStatus(let state):
            ("noOrderStatus", "MoySklad has no order status \"\(state)\": the order gets none", "в МойСклад нет статуса заказа «\(state)»: заказ создан без статуса")
        case .noOrderNoCounterparty:
            ("noOrderNoCounterparty", "no order: the caller has no counterparty in MoySklad", "заказ не создан: у звонившего нет контрагента в МойСклад")
        case .noCard(let why): ("noCard", "no card: " + why.phrase.en, "карточка не показана: " + why.phrase.ru)
        case .cardUnmapped(let login):
            ("cardUnmapped", "no card: employee \(login) is not mapped to a MoySklad employee (CORE-3)",
             "карточка не показана: сотрудник \(login) не сопоставлен с сотрудником МойСклад")
        case .callOver:
            ("callOver", "the call is over: its end closes the cards", "звонок уже закончился: карточки закроются по его завершении")
        case .noCardShown: ("noCardShown", "no card was shown for this call", "карточка этого звонка не показывалась")
        case .nothingSent(let why): ("nothingSent", "nothing sent to MoySklad: " + why.phrase.en, "в МойСклад ничего не отправлено: " + why.phrase.ru)
        case .noResponsible:
            ("noResponsible", "no MoySklad employee is responsible for this call: set the default responsible",
             "за звонок не отвечает ни один сотрудник МойСклад: выберите ответственного по умолчанию")
        case .noTalkerMapped:
            ("noTalkerMapped", "no talker is mapped to a MoySklad employee: the call goes to the default responsible",
             "никто из разговаривавших не сопоставлен с сотрудником МойСклад: звонок получает ответственный по умолчанию")
        case .numberWithoutEntities(let number):
            ("numberWithoutEntities", "\(number) is in the list of numbers without entities (CORE-11): only the call is logged",
             "номер \(number) в списке номеров без создания сущностей: записан только звонок")
        case .noJSONForEntities:
            ("noJSONForEntities", "the credentials have no JSON API access: counterparties, orders and tasks are not made",
             "в учётных данных нет доступа к JSON API: контрагенты, заказы и задачи не создаются")
        case .dealsCredentialsGone(let id):
            ("dealsCredentialsGone", "the deals import's MoySklad credentials (\(id)) are gone: add the login and password again",
             "учётных данных МойСклад для передачи сделок (\(id)) больше нет: добавьте логин и пароль заново")
        case .dealsOff: ("dealsOff", "the deals import is off: no orders are read", "передача сделок выключена: заказы не читаются")
        case .addDealsLogin:
            ("addDealsLogin", "add MoySklad's login and password for the deals import", "добавьте логин и пароль МойСклад для передачи сделок")
        case .chooseResponsible:
            ("chooseResponsible", "choose the MoySklad employee responsible for missed calls and unmapped employees",
             "выберите сотрудника МойСклад, ответственного за пропущенные звонки и звонки несопоставленных сотрудников")
        case .taskDue:
            ("taskDue", "a task is due between 1 minute and 30 days after the call", "срок задачи — от 1 минуты до 30 дней после звонка")
        case .chooseField(let source): ("chooseField", "choose the counterparty's field for \(source)", "выберите поле контрагента для \(source)")
        case .textsNoJSON:
            ("textsNoJSON", "the MoySklad credentials have no JSON API access: requests and chats need a login and password (or a token)",
             "в учётных данных МойСклад нет доступа к JSON API: для заявок и чатов нужны логин и пароль (или токен)")
        case .knowsSender(let id): ("knowsSender", "MoySklad knows the sender: counterparty \(id)", "МойСклад знает отправителя: контрагент \(id)")
        case .noSenderCounterparty:
            ("noSenderCounterparty", "MoySklad has no counterparty with the sender's phone or e-mail",
             "в МойСклад нет контрагента с телефоном или e-mail отправителя")
        case .noCounterpartyForText(let kind):
            ("noCounterpartyForText", "no counterparty: the rules make none for this \(kind.rawValue)", "контрагент не создан: правила его не создают")
        case .noOrderNoSender:
            ("noOrderNoSender", "no order: the sender has no counterparty in MoySklad", "заказ не создан: у отправителя нет контрагента в МойСклад")
        case .transcriptNoCounterparty:
            ("transcriptNoCounterparty", "the transcript is not written: MoySklad has no counterparty for this chat",
             "переписка не записана: в МойСклад нет контрагента для этого чата")
        case .notEmployeeId(let user):
            ("notEmployeeId", "choose a MoySklad employee: \"\(user)\" is not a MoySklad employee id",
             "выберите сотрудника МойСклад: «\(user)» — не id сотрудника МойСклад")
        case .textOptions: ("textOptions", "MoySklad's text options", "настройки текстовых коммуникаций МойСклад")
        case .textTaskDue: ("textTaskDue", "a task is due between 1 minute and 30 days later", "срок задачи — от 1 минуты до 30 дней")
        case .unreachable: ("unreachable", "MoySklad cannot be reached", "МойСклад недоступен")
        case .enterDealsPassword:
            ("enterDealsPassword", "enter the MoySklad password for the deals import", "введите пароль МойСклад для передачи сделок")
        }
        return Phrase(code: "ms." + code, en: en, ru: ru)
    }

    public static var samples: [MSSays] {
        [.loginWorks(account: "a"), .works(account: "a", employees: 1, withExtensions: 1), .keyWorks(withExtensions: 1), .noAccessKey,
         .noJSONAccess, .loginRefusedState("f"), .loginRefused("f"), .noAccessKeyNamed, .answered("f", .createTask), .keyRefused("f"),
         .jsonRefused("f"), .refusedTo(.createTask, "f"), .noCallId, .noId("task"), .noOrganization, .noCounterpartyRuleMakesNone("n"),
         .noOrderStatus("s"), .noOrderNoCounterparty, .noCard(.numberHidden), .cardUnmapped(login: "l"), .callOver,
         .noCardShown, .nothingSent(.numberHidden), .noResponsible, .noTalkerMapped, .numberWithoutEntities("n"), .noJSONForEntities,
         .dealsCredentialsGone("c"), .dealsOff, .addDealsLogin, .chooseResponsible, .taskDue, .chooseField("s"), .textsNoJSON,
         .knowsSender("1"), .noSenderCounterparty, .noCounterpartyForText(.chat), .noOrderNoSender, .transcriptNoCounterparty,
         .notEmployeeId("u"), .textOptions, .textTaskDue, .unreachable, .enterDealsPassword]
    }
}
