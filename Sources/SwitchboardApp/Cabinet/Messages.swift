import Foundation

/// Russian for the English messages the lower layers write (rule reasons, journal notes, errors, validation).
///
/// The engine, the connectors and the API keep one language, English, so logs, the API and the tests stay stable;
/// the cabinet shows them in the tenant's language through this catalog. A message is either a fixed phrase or a
/// template whose `{}` parts are captured and themselves translated (a rule's name, what a request was for), so
/// "amoCRM rate limit (429) while trying to create the task" becomes one sentence in Russian. A message the catalog
/// does not know is shown as it is.
enum Messages {
    /// English → Russian. `{}` matches any text; in the Russian side `{1}`, `{2}` place the captures.
    static let ru: [(String, String)] = [
        // The amoCRM rules' names (AmoRules): direction × answered × known.
        ("incoming answered call from an unknown number", "входящий принятый звонок с нового номера"),
        ("incoming missed call from an unknown number", "входящий пропущенный звонок с нового номера"),
        ("incoming answered call from an existing client", "входящий принятый звонок существующего клиента"),
        ("incoming missed call from an existing client", "входящий пропущенный звонок существующего клиента"),
        ("outgoing answered call from an unknown number", "исходящий принятый звонок на новый номер"),
        ("outgoing missed call from an unknown number", "исходящий непринятый звонок на новый номер"),
        ("outgoing answered call from an existing client", "исходящий принятый звонок существующему клиенту"),
        ("outgoing missed call from an existing client", "исходящий непринятый звонок существующему клиенту"),
        // The rules' reasons.
        ("settings incomplete: no default responsible user", "настройки не заполнены: не выбран ответственный по умолчанию"),
        ("the number {} is in the incoming filter: no entities are created",
         "номер {1} в фильтре входящих звонков: сущности не создаются"),
        ("the number {} is in the outgoing filter: no entities are created",
         "номер {1} в фильтре исходящих звонков: сущности не создаются"),
        ("{}: switched off", "{1}: сценарий выключен"),
        ("{}: create a contact and a deal", "{1}: создать контакт и сделку"),
        ("{}: create a contact", "{1}: создать контакт"),
        ("{}: create an Unsorted entry (always, whatever deals are open)",
         "{1}: создать заявку в «Неразобранном» (всегда, даже если у клиента есть открытые сделки)"),
        ("{}: no pipeline or stage chosen", "{1}: не выбраны воронка или этап"),
        ("{}: no pipeline chosen", "{1}: не выбрана воронка"),
        ("{}: the client's open deal {} is used", "{1}: звонок прикреплён к открытой сделке клиента {2}"),
        ("{}: create a deal (the client has no open deal)", "{1}: создать сделку (открытой сделки у клиента нет)"),
        ("{}: create a deal always, at the end of the call", "{1}: создать сделку всегда, по окончании звонка"),
        ("{}: action {} does not apply", "{1}: действие {2} здесь неприменимо"),
        ("the call is recorded with the Unsorted entry", "звонок записан вместе с заявкой в «Неразобранном»"),
        ("the call is not logged: amoCRM has no contact for {}", "звонок не записан: в amoCRM нет контакта с номером {1}"),
        ("task for the employee who answered", "задача сотруднику, принявшему звонок"),
        ("no task: the employee who answered is not mapped to an amoCRM user",
         "задача не ставится: принявший звонок сотрудник не сопоставлен с пользователем amoCRM"),
        // The amoCRM connector's notes.
        ("the integration was deleted; nothing to do", "интеграция удалена; делать нечего"),
        ("the integration is switched off (CORE-2); nothing sent to amoCRM", "интеграция выключена; в amoCRM ничего не отправлено"),
        ("no card: the call ended before it could be shown", "карточка не показана: звонок закончился раньше, чем её можно было показать"),
        ("no card: employee {} is not mapped to an amoCRM user (CORE-3)",
         "карточка не показана: сотрудник {1} не сопоставлен с пользователем amoCRM"),
        ("no card: the caller's number is hidden", "карточка не показана: номер звонящего скрыт"),
        ("nothing to do: the caller's number is hidden or not a phone number",
         "делать нечего: номер звонящего скрыт или это не телефонный номер"),
        ("internal calls are not sent to amoCRM", "внутренние звонки в amoCRM не передаются"),
        ("amoCRM has no contact for {}: the call goes to Unsorted", "в amoCRM нет контакта с номером {1}: звонок попадает в «Неразобранное»"),
        // What a request to amoCRM was for (captured inside the errors below).
        ("find the contact by phone", "найти контакт по номеру"), ("read the contact's deals", "прочитать сделки контакта"),
        ("list users", "получить список пользователей"), ("list pipelines", "получить список воронок"),
        ("read the account", "прочитать данные аккаунта"), ("refresh the access token", "обновить токен доступа"),
        ("subscribe to contact changes", "подписаться на изменения контактов"),
        ("show the incoming call to the employee", "показать сотруднику входящий звонок"),
        ("create the contact", "создать контакт"), ("create the contact and the deal", "создать контакт и сделку"),
        ("create the deal", "создать сделку"), ("log the call", "записать звонок"), ("create the task", "создать задачу"),
        ("create the Unsorted entry", "создать заявку в «Неразобранном»"),
        // Errors, retryable and permanent.
        ("amoCRM rate limit (429) while trying to {}", "amoCRM ограничила частоту запросов (429) при попытке {1}"),
        ("amoCRM unreachable while trying to {}: {}", "amoCRM недоступна при попытке {1}: {2}"),
        ("amoCRM answered {} while trying to {}", "amoCRM ответила {1} при попытке {2}"),
        ("amoCRM refused the token (401): connect the account again", "amoCRM не принимает токен (401): подключите аккаунт заново"),
        ("amoCRM answered 403: the account or the integration is blocked", "amoCRM ответила 403: аккаунт или интеграция заблокированы"),
        ("amoCRM revoked access: connect the account again", "amoCRM отозвала доступ: подключите аккаунт заново"),
        ("amoCRM access expired and cannot be refreshed: connect the account again",
         "доступ к amoCRM истёк и не может быть обновлён: подключите аккаунт заново"),
        ("amoCRM credentials \"{}\" have no token: connect the account again",
         "в учётных данных amoCRM «{1}» нет токена: подключите аккаунт заново"),
        ("no long-lived token stored", "долгосрочный токен не сохранён"),
        ("another worker is still refreshing the amoCRM token", "токен amoCRM сейчас обновляет другой обработчик"),
        ("amoCRM token endpoint answered {}", "amoCRM ответила {1} на обновление токена"),
        ("amoCRM refused the authorization code (HTTP {})", "amoCRM не приняла код авторизации (HTTP {1})"),
        ("amoCRM refused to log the call: {}", "amoCRM отказалась записать звонок: {1}"),
        ("the integration has no amoCRM credentials", "у интеграции не выбраны учётные данные amoCRM"),
        ("the amoCRM settings cannot be read: {}", "настройки amoCRM не читаются: {1}"),
        ("the settings cannot be read: {}", "настройки не читаются: {1}"),
        ("the amoCRM settings are incomplete: {}", "настройки amoCRM не заполнены: {1}"),
        ("call {} not found", "звонок {1} не найден"),
        ("connection works, account {}, {} users", "подключение работает: аккаунт {1}, пользователей: {2}"),
        // Settings validation (AmoSettings.validate), shown next to the field.
        ("choose the default responsible user in amoCRM", "выберите ответственного по умолчанию"),
        ("choose a pipeline", "выберите воронку"), ("choose a stage", "выберите этап"),
        ("for an existing client choose one of {}", "для существующего клиента выберите одно из действий: {1}"),
        ("for an unknown number choose one of {}", "для нового номера выберите одно из действий: {1}"),
        ("\"{}\" is not a phone number", "«{1}» — не телефонный номер"),
        // Bitrix24: the connection test, its requests and errors, and settings validation (B24Settings.validate).
        ("connection works, portal {}, {} users, CRM mode: {}", "подключение работает: портал {1}, пользователей: {2}, режим CRM: {3}"),
        ("leads (classic CRM)", "лиды (классический режим)"), ("deals (simple CRM)", "сделки (простой режим)"),
        ("test the connection", "проверить подключение"), ("count the users", "посчитать пользователей"),
        ("list the users", "получить список пользователей"),
        ("the Switchboard application is not installed on the Bitrix24 portal yet: install it and try again",
         "приложение Switchboard ещё не установлено на портале Битрикс24: установите его и попробуйте снова"),
        ("Bitrix24 access cannot be renewed: the application's code and key are missing; install it again",
         "доступ к Битрикс24 не обновить: нет кода и ключа приложения; установите его заново"),
        ("Bitrix24 refused to renew access ({}): install the application again",
         "Битрикс24 отказался обновить доступ ({1}): установите приложение заново"),
        ("Bitrix24 refused the application's access ({}): install the application again",
         "Битрикс24 не принимает доступ приложения ({1}): установите приложение заново"),
        ("Bitrix24's request limit (QUERY_LIMIT_EXCEEDED) while trying to {}",
         "Битрикс24 ограничил частоту запросов (QUERY_LIMIT_EXCEEDED) при попытке {1}"),
        ("Bitrix24 refused to {}: {}", "Битрикс24 отказался {1}: {2}"),
        ("Bitrix24 answered {} while trying to {}: {}", "Битрикс24 ответил {1} при попытке {2}: {3}"),
        ("Bitrix24 unreachable while trying to {}: {}", "Битрикс24 недоступен при попытке {1}: {2}"),
        ("choose the Bitrix24 user responsible for missed incoming calls",
         "выберите пользователя Битрикс24, ответственного за пропущенные входящие звонки"),
        ("choose whether the first or the last talker becomes responsible after a transfer",
         "выберите, кто становится ответственным после перевода: первый или последний разговаривавший"),
        ("choose the Bitrix24 user responsible for outgoing calls of unmapped employees",
         "выберите пользователя Битрикс24, ответственного за исходящие звонки несопоставленных сотрудников"),
        ("{} is not one of {}", "{1} — не одна из меток {2}"),
        // Account addresses (AccountURL).
        ("the account address is required", "укажите адрес аккаунта"),
        ("\"{}\" is not an account address such as https://account.example.com",
         "«{1}» — не адрес аккаунта (пример: https://account.example.com)"),
        ("{} must use https (http is accepted only on this machine's loopback addresses)",
         "{1}: нужен https (http допускается только для адресов этой машины)"),
        // Outbound addresses (OutboundPolicy, SecretPinning) and amoCRM's OAuth domains.
        ("\"{}\" is not an http(s) address with a host", "«{1}» — не адрес http(s) с именем хоста"),
        ("the {} scheme is not allowed: use https", "схема {1} не допускается: используйте https"),
        ("{} must not carry a user name or password", "{1}: в адресе не должно быть имени пользователя и пароля"),
        ("{} is a {} address, where Switchboard does not send requests", "{1} — адрес {2}, туда Switchboard запросы не отправляет"),
        ("{} leads to {}, a {} address, where Switchboard does not send requests",
         "{1} ведёт на {2} — адрес {3}, туда Switchboard запросы не отправляет"),
        ("{} does not resolve to any address", "у имени {1} нет ни одного адреса"),
        ("loopback", "этой машины (loopback)"), ("private network", "частной сети"), ("link-local", "локального сегмента (link-local)"),
        ("unspecified", "неопределённый"), ("multicast", "групповой рассылки"), ("reserved", "зарезервированный"),
        ("changing the address requires the {} again: a stored secret is sent only to the address it was entered for",
         "при смене адреса нужно заново ввести {1}: сохранённый секрет отправляется только на адрес, для которого его ввели"),
        ("token", "токен"), ("apiKey", "ключ API"), ("password", "пароль"), ("login", "логин"),
        ("amoCRM OAuth works only with accounts on {}: {} is not one",
         "OAuth amoCRM работает только с аккаунтами на {1}: {2} к ним не относится"),
        ("amoCRM account address refused: {}", "адрес аккаунта amoCRM отклонён: {1}"),
        ("PBX API address refused: {}", "адрес API АТС отклонён: {1}"),
        // Job kinds in the journal.
        ("amocrm.call.ringing", "amoCRM: карточка входящего звонка"), ("amocrm.call.finished", "amoCRM: звонок завершён"),
        // Credential states.
        ("ok", "работает"), ("unchecked", "не проверено"), ("reconnect", "нужно переподключить"), ("failed", "ошибка"),
    ]

    private struct Entry {
        let regex: NSRegularExpression
        let russian: String
        let captures: Int
    }

    private static let entries: [Entry] = ru.map { english, russian in
        let parts = english.components(separatedBy: "{}")
        let pattern = "^" + parts.map(NSRegularExpression.escapedPattern(for:)).joined(separator: "(.+?)") + "$"
        // The catalog is code: a pattern that does not compile is a programming error caught by the tests.
        return Entry(regex: try! NSRegularExpression(pattern: pattern, options: [.dotMatchesLineSeparators]),
                     russian: russian, captures: parts.count - 1)
    }

    /// The message in `lang`; English text comes back unchanged, and so does a message the catalog does not know.
    static func say(_ text: String, _ lang: Lang) -> String {
        lang == .ru ? (russian(text) ?? text) : text
    }

    /// The Russian for `text`, or nil when the catalog has no entry for it.
    static func russian(_ text: String) -> String? {
        let range = NSRange(text.startIndex..., in: text)
        for entry in entries {
            guard let m = entry.regex.firstMatch(in: text, range: range) else { continue }
            var out = entry.russian
            for i in stride(from: entry.captures, through: 1, by: -1) {
                let captured = Range(m.range(at: i), in: text).map { String(text[$0]) } ?? ""
                out = out.replacingOccurrences(of: "{\(i)}", with: captureText(captured))
            }
            return out
        }
        return nil
    }

    /// A captured part: a phrase or template of its own, or a "; "-joined list of them, else left as it is.
    private static func captureText(_ s: String) -> String {
        if let whole = russian(s) { return whole }
        if s.contains("; ") {
            return s.components(separatedBy: "; ").map { part in
                // "field: message" as AmoSettings.Problem describes itself.
                if let colon = part.range(of: ": ") {
                    let message = String(part[colon.upperBound...])
                    return String(part[..<colon.upperBound]) + (russian(message) ?? message)
                }
                return russian(part) ?? part
            }.joined(separator: "; ")
        }
        return s
    }
}

extension Lang {
    /// A lower layer's English message in this language.
    func say(_ text: String?) -> String { text.map { Messages.say($0, self) } ?? "" }
}
