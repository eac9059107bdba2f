import SwitchboardCore

extension Megaplan {
    /// Megaplan's name in sentences.
    public static let title = Phrase(code: "crm.megaplan", en: "Megaplan", ru: "Мегаплан")

    /// Every sentence the Megaplan connector can say, with sample values (the catalogue test reads them).
    public static var phrases: [Phrase] { MPRequest.phrases + MPSays.phrases }
}

/// What a request to Megaplan was for, as its failures name it.
public enum MPRequest: PhraseCatalog, Equatable {
    /// A call todo's kind: `communication` or `todo`.
    public enum TodoKind: String, Sendable, Equatable { case communication, todo }

    case readCallCard, countEmployees, listEmployees, readTelephony, findResponsible, findCallCard, showCallCard, findClientByPhone
    case findProcess(ofCall: Bool), createProcess, listTodoCategories, moveCardToTalking, createClient, updateClientFields
    case logHistory, finishCallCard, bindClient, findCallTodo(TodoKind), createCallTodo(TodoKind)
    case readChangedDeal, readDeals(after: String?), readDealClient, findCommunicationTodo, createTodo, findClientByEmail
    case writeRequest, writeTranscript, findCommentMade

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .readCallCard: ("readCallCard", "read the call card", "прочитать карточку звонка")
        case .countEmployees: ("countEmployees", "count the employees", "посчитать сотрудников")
        case .listEmployees: ("listEmployees", "list the employees", "получить список сотрудников")
        case .readTelephony: ("readTelephony", "read the telephony settings", "прочитать настройки телефонии")
        case .findResponsible: ("findResponsible", "find the caller's responsible", "найти ответственного за клиента")
        case .findCallCard: ("findCallCard", "find the call card", "найти карточку звонка")
        case .showCallCard: ("showCallCard", "show the call card", "показать карточку звонка")
        case .findClientByPhone: ("findClientByPhone", "find the client by phone", "найти клиента по номеру")
        case .findProcess(let ofCall):
            ("findProcess", "find the process of \(ofCall ? "the call" : "the communication")",
             "найти процесс \(ofCall ? "звонка" : "обращения")")
        case .createProcess: ("createProcess", "create the process", "создать процесс")
        case .listTodoCategories: ("listTodoCategories", "list the todo categories", "получить категории дел")
        case .moveCardToTalking: ("moveCardToTalking", "move the card to talking", "перевести карточку в разговор")
        case .createClient: ("createClient", "create the client", "создать клиента")
        case .updateClientFields: ("updateClientFields", "update the client's fields", "обновить поля клиента")
        case .logHistory: ("logHistory", "log the call in the history", "записать звонок в историю")
        case .finishCallCard: ("finishCallCard", "finish the call card", "завершить карточку звонка")
        case .bindClient: ("bindClient", "bind the client to the call", "привязать клиента к звонку")
        case .findCallTodo(let kind):
            ("findCallTodo", "find the call's \(kind.rawValue)", "найти \(kind == .todo ? "дело" : "коммуникацию") звонка")
        case .createCallTodo(let kind):
            ("createCallTodo", "create the \(kind.rawValue)", "создать \(kind == .todo ? "дело" : "коммуникацию")")
        case .readChangedDeal: ("readChangedDeal", "read the changed deal", "прочитать изменённую сделку")
        case .readDeals(let after?): ("readDeals", "read the deals after \(after)", "прочитать сделки после \(after)")
        case .readDeals(nil): ("readDealsFirst", "read the deals after the first", "прочитать сделки с начала")
        case .readDealClient: ("readDealClient", "read the deal's client", "прочитать клиента сделки")
        case .findCommunicationTodo: ("findCommunicationTodo", "find the todo of the communication", "найти дело обращения")
        case .createTodo: ("createTodo", "create the todo", "создать дело")
        case .findClientByEmail: ("findClientByEmail", "find the client by e-mail", "найти клиента по e-mail")
        case .writeRequest: ("writeRequest", "write the request on the client", "записать заявку в клиента")
        case .writeTranscript: ("writeTranscript", "write the chat's transcript", "записать переписку чата")
        case .findCommentMade:
            ("findCommentMade", "look for the comment an interrupted attempt wrote", "найти комментарий, записанный прерванной попыткой")
        }
        return Phrase(code: "mp.request." + code, en: en, ru: ru)
    }

    public static var samples: [MPRequest] {
        [.readCallCard, .countEmployees, .listEmployees, .readTelephony, .findResponsible, .findCallCard, .showCallCard, .findClientByPhone,
         .findProcess(ofCall: true), .createProcess, .listTodoCategories, .moveCardToTalking, .createClient, .updateClientFields,
         .logHistory, .finishCallCard, .bindClient, .findCallTodo(.todo), .createCallTodo(.communication),
         .readChangedDeal, .readDeals(after: "1"), .readDeals(after: nil), .readDealClient, .findCommunicationTodo, .createTodo,
         .findClientByEmail, .writeRequest, .writeTranscript, .findCommentMade]
    }
}

/// What the Megaplan connector says: its failures, its journal notes, its settings' problems, its credentials' states.
public enum MPSays: PhraseCatalog, Equatable {
    case works(account: String, employees: Int)
    case loginMissingState
    case noLogin
    case tokenEndpointAnswered(Int)
    case loginRefusedState(String)
    case loginRefused(String)
    case rateLimited(MPRequest)
    case freshTokenRefusedState(String)
    case freshTokenRefused(MPRequest, String)
    case answered(Int, MPRequest, String)
    case refusedTo(MPRequest, Int, String)
    case noId(String)
    case cardUnmapped(login: String)
    case cardTooLate
    case cardNotOnLines(String)
    case noCardToTalk
    case notOnLines(String)
    case numberFiltered(String)
    case noCardYet
    case addLines
    case chooseEmployee
    case chooseField(String)
    case chooseCommunicationCalls
    case duration
    case chooseTodoCalls
    case chooseProcessCalls
    case chooseScheme
    case employeeIdNumber
    case schemeIdNumber
    case responsible
    case addAlsoAt(String)
    case textOptions
    case knowsVisitor(kind: String, id: String)
    case noVisitorClient
    case transcriptNoPlace

    public var phrase: Phrase {
        let (code, en, ru): (String, String, String) = switch self {
        case .works(let account, let employees):
            ("works", "connection works, account \(account), \(employees) employees", "подключение работает: аккаунт \(account), сотрудников: \(employees)")
        case .loginMissingState: ("loginMissingState", "the Megaplan login and password are missing", "логин и пароль Мегаплан не указаны")
        case .noLogin: ("noLogin", "the Megaplan credentials have no login and password", "в учётных данных Мегаплан нет логина и пароля")
        case .tokenEndpointAnswered(let status):
            ("tokenEndpointAnswered", "Megaplan's token endpoint answered \(status)", "Мегаплан ответил \(status) на запрос токена")
        case .loginRefusedState(let why):
            ("loginRefusedState", "Megaplan refused the login and password (\(why)); correct them", "Мегаплан не принял логин и пароль (\(why)); исправьте их")
        case .loginRefused(let why): ("loginRefused", "Megaplan refused the login and password (\(why))", "Мегаплан не принял логин и пароль (\(why))")
        case .rateLimited(let what):
            ("rateLimited", "Megaplan's request limit (429) while trying to \(what.phrase.en)",
             "Мегаплан ограничил частоту запросов (429) при попытке \(what.phrase.ru)")
        case .freshTokenRefusedState(let reason):
            ("freshTokenRefusedState", "Megaplan refused a fresh token: \(reason)", "Мегаплан не принял новый токен: \(reason)")
        case .freshTokenRefused(let what, let reason):
            ("freshTokenRefused", "Megaplan refused a fresh access token while trying to \(what.phrase.en): \(reason)",
             "Мегаплан не принял новый токен доступа при попытке \(what.phrase.ru): \(reason)")
        case .answered(let status, let what, let reason):
            ("answered", "Megaplan answered \(status) while trying to \(what.phrase.en): \(reason)",
             "Мегаплан ответил \(status) при попытке \(what.phrase.ru): \(reason)")
        case .refusedTo(let what, let status, let reason):
            ("refusedTo", "Megaplan refused to \(what.phrase.en) (\(status)): \(reason)", "Мегаплан отказался \(what.phrase.ru) (\(status)): \(reason)")
        case .noId(let path): ("noId", "Megaplan's answer to \(path) has no id", "в ответе Мегаплан на \(path) нет id")
        case .cardUnmapped(let login):
            ("cardUnmapped", "no card: employee \(login) is not mapped to a Megaplan employee (MP-2)",
             "карточка не показана: сотрудник \(login) не сопоставлен с сотрудником Мегаплан")
        case .cardTooLate:
            ("cardTooLate", "no card: the call ended before it could be shown (it goes to Megaplan as history)",
             "карточка не показана: звонок закончился раньше (он попадёт в Мегаплан как история)")
        case .cardNotOnLines(let line):
            ("cardNotOnLines", "no card: virtual number \(line) is not among the integration's numbers (MP-4)",
             "карточка не показана: виртуальный номер \(line) не входит в номера интеграции")
        case .noCardToTalk: ("noCardToTalk", "no card to move to talking", "нет карточки, которую перевести в разговор")
        case .notOnLines(let line):
            ("notOnLines", "virtual number \(line) is not among the integration's numbers (MP-4): nothing sent",
             "виртуальный номер \(line) не входит в номера интеграции: ничего не отправлено")
        case .numberFiltered(let number):
            ("numberFiltered", "\(number) is in the number filter (CORE-11): no client, communication, todo or process",
             "номер \(number) в фильтре номеров: клиент, коммуникация, дело и процесс не создаются")
        case .noCardYet: ("noCardYet", "the call has no card in Megaplan yet", "у звонка ещё нет карточки в Мегаплан")
        case .addLines:
            ("addLines", "add the virtual numbers whose calls go to Megaplan", "добавьте виртуальные номера, звонки на которые передаются в Мегаплан")
        case .chooseEmployee: ("chooseEmployee", "choose a Megaplan employee or none", "выберите сотрудника Мегаплан или оставьте поле пустым")
        case .chooseField(let source): ("chooseField", "choose the Megaplan field for \(source)", "укажите поле Мегаплан для \(source)")
        case .chooseCommunicationCalls:
            ("chooseCommunicationCalls", "choose the calls that create a communication", "выберите звонки, по которым создаётся коммуникация")
        case .duration: ("duration", "the duration is 1 to 10080 minutes", "длительность — от 1 до 10080 минут")
        case .chooseTodoCalls: ("chooseTodoCalls", "choose the calls that create a todo", "выберите звонки, по которым создаётся дело")
        case .chooseProcessCalls: ("chooseProcessCalls", "choose the calls that create a process", "выберите звонки, по которым создаётся процесс")
        case .chooseScheme: ("chooseScheme", "choose the Megaplan scheme for the processes", "выберите схему процессов Мегаплан")
        case .employeeIdNumber: ("employeeIdNumber", "a Megaplan employee id is a number", "ID сотрудника Мегаплан — число")
        case .schemeIdNumber: ("schemeIdNumber", "a Megaplan scheme id is a number", "ID схемы Мегаплан — число")
        case .responsible:
            ("responsible", "the responsible is a Megaplan employee id, client, or empty for the default responsible",
             "ответственный — ID сотрудника Мегаплан, ответственный за клиента или пусто (ответственный по умолчанию)")
        case .addAlsoAt(let moment):
            ("addAlsoAt", "add \(moment) to texts.chats.alsoAt, or chats never reach Megaplan at that moment",
             "добавьте \(moment) в texts.chats.alsoAt, иначе чаты не попадут в Мегаплан в этот момент")
        case .textOptions: ("textOptions", "Megaplan's text options", "настройки текстовых коммуникаций Мегаплан")
        case .knowsVisitor(let kind, let id):
            ("knowsVisitor", "Megaplan knows the visitor: \(kind) \(id)", "Мегаплан знает посетителя: \(kind) \(id)")
        case .noVisitorClient:
            ("noVisitorClient", "Megaplan has no client with the visitor's phone or e-mail", "в Мегаплан нет клиента с телефоном или e-mail посетителя")
        case .transcriptNoPlace:
            ("transcriptNoPlace", "the transcript is not written: Megaplan has no client or process for this chat",
             "переписка не записана: в Мегаплан нет клиента или процесса для этого чата")
        }
        return Phrase(code: "mp." + code, en: en, ru: ru)
    }

    public static var samples: [MPSays] {
        [.works(account: "a", employees: 1), .loginMissingState, .noLogin, .tokenEndpointAnswered(500), .loginRefusedState("w"),
         .loginRefused("w"), .rateLimited(.createTodo), .freshTokenRefusedState("r"), .freshTokenRefused(.createTodo, "r"),
         .answered(500, .createTodo, "r"), .refusedTo(.createTodo, 400, "r"), .noId("p"), .cardUnmapped(login: "l"), .cardTooLate,
         .cardNotOnLines("n"), .noCardToTalk, .notOnLines("n"), .numberFiltered("n"), .noCardYet, .addLines, .chooseEmployee,
         .chooseField("s"), .chooseCommunicationCalls, .duration, .chooseTodoCalls, .chooseProcessCalls, .chooseScheme,
         .employeeIdNumber, .schemeIdNumber, .responsible, .addAlsoAt("m"), .textOptions, .knowsVisitor(kind: "k", id: "1"),
         .noVisitorClient, .transcriptNoPlace]
    }
}
