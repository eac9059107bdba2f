import Foundation
import SwitchboardCore

extension MoySklad {
    /// Russian for what the MoySklad connector writes in English (the connection test, journal notes, what a request
    /// was for, errors, settings problems, job kinds). MoySklad's own error texts come in Russian already.
    public static let messages: [(String, String)] = [
        ("connection works, account {}, {} employees, {} with extensions in the telephony application",
         "подключение работает: аккаунт {1}, сотрудников: {2}, с добавочными номерами в приложении телефонии: {3}"),
        ("the access key works: {} employees with extensions; no JSON API access, so counterparties, orders and tasks need a login and password",
         "ключ доступа работает: сотрудников с добавочными номерами: {1}; доступа к JSON API нет, поэтому для контрагентов, заказов и задач нужны логин и пароль"),
        ("the MoySklad credentials have no access key", "в учётных данных МойСклад нет ключа доступа"),
        ("the MoySklad credentials have no access key (\"Ключ доступа\")", "в учётных данных МойСклад нет ключа доступа («Ключ доступа»)"),
        ("the MoySklad credentials have no JSON API access: add a login and password (or a token)",
         "в учётных данных МойСклад нет доступа к JSON API: добавьте логин и пароль (или токен)"),
        ("MoySklad refused the login and password ({}): enter them again", "МойСклад не принял логин и пароль ({1}): введите их заново"),
        ("MoySklad refused the login and password: {}", "МойСклад не принял логин и пароль: {1}"),
        ("MoySklad refused the access key ({}): copy \"Ключ доступа\" from the telephony application again",
         "МойСклад не принял ключ доступа ({1}): скопируйте «Ключ доступа» из приложения телефонии заново"),
        ("MoySklad refused the JSON API access ({}): enter the login and password again",
         "МойСклад не принял доступ к JSON API ({1}): введите логин и пароль заново"),
        ("MoySklad answered {} while trying to {}", "МойСклад ответил {1} при попытке {2}"),
        ("MoySklad refused to {}: {}", "МойСклад отказался {1}: {2}"),
        ("the MoySklad account's address is refused: {}", "адрес МойСклад отклонён: {1}"),
        ("MoySklad unreachable: {}", "МойСклад недоступен: {1}"),
        ("MoySklad's answer to POST /call has no id", "в ответе МойСклад на POST /call нет id"),
        ("MoySklad's answer has no {} id", "в ответе МойСклад нет id: {1}"),
        ("the MoySklad account has no organization for the order", "в аккаунте МойСклад нет юрлица для заказа"),
        ("choose the MoySklad employee responsible for missed calls and unmapped employees",
         "выберите сотрудника МойСклад, ответственного за пропущенные звонки и звонки несопоставленных сотрудников"),
        ("a task is due between 1 minute and 30 days after the call", "срок задачи — от 1 минуты до 30 дней после звонка"),
        ("choose the counterparty's field for {}", "выберите поле контрагента для {1}"),
        ("the MoySklad settings are incomplete: {}", "настройки МойСклад не заполнены: {1}"),
        ("no MoySklad employee is responsible for this call: set the default responsible",
         "за звонок не отвечает ни один сотрудник МойСклад: выберите ответственного по умолчанию"),
        ("no card: employee {} is not mapped to a MoySklad employee (CORE-3)",
         "карточка не показана: сотрудник {1} не сопоставлен с сотрудником МойСклад"),
        ("no card was shown for this call", "карточка этого звонка не показывалась"),
        ("the call is over: its end closes the cards", "звонок уже закончился: карточки закроются по его завершении"),
        ("no talker is mapped to a MoySklad employee: the call goes to the default responsible",
         "никто из разговаривавших не сопоставлен с сотрудником МойСклад: звонок получает ответственный по умолчанию"),
        ("MoySklad has no counterparty for {} and the rule makes none", "в МойСклад нет контрагента с номером {1}, и правило его не создаёт"),
        ("MoySklad has no order status \"{}\": the order gets none", "в МойСклад нет статуса заказа «{1}»: заказ создан без статуса"),
        ("no order: the caller has no counterparty in MoySklad", "заказ не создан: у звонившего нет контрагента в МойСклад"),
        ("{} is in the list of numbers without entities (CORE-11): only the call is logged",
         "номер {1} в списке номеров без создания сущностей: записан только звонок"),
        ("the credentials have no JSON API access: counterparties, orders and tasks are not made",
         "в учётных данных нет доступа к JSON API: контрагенты, заказы и задачи не создаются"),
        ("no card: {}", "карточка не показана: {1}"), ("nothing sent to MoySklad: {}", "в МойСклад ничего не отправлено: {1}"),
        ("internal calls are not logged (\"Показывать внутренние звонки\" is off, MS-5)",
         "внутренние звонки не записываются (выключено «Показывать внутренние звонки»)"),
        ("the other party's number is hidden", "номер собеседника скрыт"),
        ("issue an access token", "получить токен доступа"), ("create the call", "создать звонок"), ("find the caller", "найти звонившего"),
        ("create the counterparty", "создать контрагента"), ("update the counterparty's extra fields", "обновить доп. поля контрагента"),
        ("read the organization", "прочитать юрлицо"), ("read the order statuses", "прочитать статусы заказов"),
        ("look for the call's order", "найти заказ звонка"), ("create the order", "создать заказ"),
        ("look for the call's task", "найти задачу звонка"), ("create the task", "создать задачу"),
        ("show the call to {}", "показать звонок {1}"), ("start the call's timer for {}", "запустить таймер звонка для {1}"),
        ("hide the call from {}", "скрыть звонок от {1}"), ("find the extension", "найти добавочный номер"),
        ("test the access key", "проверить ключ доступа"), ("read the account", "прочитать аккаунт"),
        ("count the employees", "посчитать сотрудников"), ("list the extensions", "получить добавочные номера"),
        ("list the employees", "получить список сотрудников"), ("list the webhooks", "получить список вебхуков"),
        ("subscribe to counterparty changes", "подписаться на изменения контрагентов"),
        ("the login works: account {}; its customer orders can be imported",
         "логин работает: аккаунт {1}; его заказы покупателей можно передавать в Switchboard"),
        ("add MoySklad's login and password for the deals import", "добавьте логин и пароль МойСклад для передачи сделок"),
        ("the deals import's MoySklad credentials ({}) are gone: add the login and password again",
         "учётных данных МойСклад для передачи сделок ({1}) больше нет: добавьте логин и пароль заново"),
        ("the deals import is off: no orders are read", "передача сделок выключена: заказы не читаются"),
        ("enter the MoySklad password for the deals import", "введите пароль МойСклад для передачи сделок"),
        ("MoySklad cannot be reached", "МойСклад недоступен"),
        ("read the order", "прочитать заказ"), ("read the orders from {}", "прочитать заказы начиная с {1}"),
        ("subscribe to order changes", "подписаться на изменения заказов"),
        ("the MoySklad credentials have no JSON API access: requests and chats need a login and password (or a token)",
         "в учётных данных МойСклад нет доступа к JSON API: для заявок и чатов нужны логин и пароль (или токен)"),
        ("MoySklad knows the sender: counterparty {}", "МойСклад знает отправителя: контрагент {1}"),
        ("MoySklad has no counterparty with the sender's phone or e-mail", "в МойСклад нет контрагента с телефоном или e-mail отправителя"),
        ("no counterparty: the rules make none for this {}", "контрагент не создан: правила его не создают"),
        ("no order: the sender has no counterparty in MoySklad", "заказ не создан: у отправителя нет контрагента в МойСклад"),
        ("the transcript is not written: MoySklad has no counterparty for this chat",
         "переписка не записана: в МойСклад нет контрагента для этого чата"),
        ("find the sender by e-mail", "найти отправителя по e-mail"), ("write the chat's transcript", "записать переписку чата"),
        ("look for the counterparty an interrupted attempt made", "найти контрагента, созданного прерванной попыткой"),
        ("look for the order an interrupted attempt made", "найти заказ, созданный прерванной попыткой"),
        ("look for the task an interrupted attempt made", "найти задачу, созданную прерванной попыткой"),
        ("look for the transcript an interrupted attempt wrote", "найти переписку, записанную прерванной попыткой"),
        ("choose a MoySklad employee: \"{}\" is not a MoySklad employee id", "выберите сотрудника МойСклад: «{1}» — не id сотрудника МойСклад"),
        ("MoySklad's text options cannot be read: {}", "настройки текстовых коммуникаций МойСклад не читаются: {1}"),
        ("a task is due between 1 minute and 30 days later", "срок задачи — от 1 минуты до 30 дней"),
        ("moysklad.call.ringing", "МойСклад: карточка звонка"), ("moysklad.call.answered", "МойСклад: звонок принят"),
        ("moysklad.call.finished", "МойСклад: звонок завершён"),
    ]

    /// What the MoySklad call jobs keep per call, as the call journal names it.
    static let madeKinds = [
        MadeKind("counterparty", en: "counterparty", ru: "контрагент"), MadeKind("order", en: "customer order", ru: "заказ покупателя"),
        MadeKind("task", en: "task", ru: "задача"), MadeKind("extra", en: "extra fields updated", ru: "доп. поля обновлены"),
        MadeKind("call", en: "call logged", ru: "звонок записан"), MadeKind("end", en: "call closed", ru: "звонок завершён"),
        MadeKind("show.", en: "card shown", ru: "карточка показана"), MadeKind("start.", en: "timer started", ru: "таймер запущен"),
        MadeKind("hide.", en: "card hidden", ru: "карточка скрыта"),
        MadeKind("transcript", en: "chat transcript on the counterparty", ru: "переписка записана в контрагента"),
    ]

    /// A record's page in MoySklad's web interface (online.moysklad.ru, for accounts on api.moysklad.ru; the page
    /// addresses are UNCONFIRMED beyond their common use).
    @Sendable static func recordURL(_ kind: String, _ id: String, _ credential: CRMCredential) -> String? {
        guard URLComponents(string: credential.baseURL)?.host == "api.moysklad.ru", UUID(uuidString: id) != nil else { return nil }
        switch kind {
        case "counterparty": return "https://online.moysklad.ru/app/#company/edit?id=\(id)"
        case "order": return "https://online.moysklad.ru/app/#customerorder/edit?id=\(id)"
        default: return nil
        }
    }
}
