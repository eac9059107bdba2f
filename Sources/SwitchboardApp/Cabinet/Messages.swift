import Foundation
import SwitchboardCRM

/// Russian for the English messages the lower layers write (rule reasons, journal notes, errors, validation).
///
/// The engine, the connectors and the API keep one language, English, so logs, the API and the tests stay stable;
/// the cabinet shows them in the tenant's language through this catalog. A message is either a fixed phrase or a
/// template whose `{}` parts are captured and themselves translated (a rule's name, what a request was for), so
/// "amoCRM rate limit (429) while trying to create the task" becomes one sentence in Russian. A message the catalog
/// does not know is shown as it is.
enum Messages {
    /// English → Russian. `{}` matches any text; in the Russian side `{1}`, `{2}` place the captures. Each CRM's own
    /// phrases come from its connector's folder (`Connectors.messages`), before the generic ones here.
    static let ru: [(String, String)] = Connectors.messages + generic

    static let generic: [(String, String)] = [
        // Every connector's job notes (IntegrationContext and the call jobs).
        ("the integration was deleted; nothing to do", "интеграция удалена; делать нечего"),
        ("the integration is switched off (CORE-2); nothing sent to {}", "интеграция выключена; в {1} ничего не отправлено"),
        ("no card: the call ended before it could be shown", "карточка не показана: звонок закончился раньше, чем её можно было показать"),
        ("no card: the caller's number is hidden", "карточка не показана: номер звонящего скрыт"),
        ("nothing to do: the caller's number is hidden or not a phone number",
         "делать нечего: номер звонящего скрыт или это не телефонный номер"),
        ("internal calls are not sent to {}", "внутренние звонки в {1} не передаются"),
        ("another worker is still renewing the {} token", "токен {1} сейчас обновляет другой обработчик"),
        ("the integration has no {} credentials", "у интеграции не выбраны учётные данные {1}"),
        ("the {} settings cannot be read: {}", "настройки {1} не читаются: {2}"),
        ("the settings cannot be read: {}", "настройки не читаются: {1}"),
        ("the {} settings are incomplete: {}", "настройки {1} не заполнены: {2}"),
        ("call {} not found", "звонок {1} не найден"),
        ("\"{}\" is not a phone number", "«{1}» — не телефонный номер"),
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
        ("PBX API address refused: {}", "адрес API АТС отклонён: {1}"),
        // Sites (SiteService) and the text rules every CRM shares (TextRules, TextSpec).
        ("name is 1 to 200 characters", "название — от 1 до 200 символов"), ("at most 50 origins", "не больше 50 адресов сайта"),
        ("\"{}\" is not an origin such as https://shop.example", "«{1}» — не адрес сайта вида https://shop.example"),
        ("at most 50 request types of 1 to 100 characters", "не больше 50 типов заявок, каждый от 1 до 100 символов"),
        ("choose the CRM user responsible for what requests create", "выберите сотрудника CRM, ответственного за то, что создают заявки"),
        ("choose the CRM user responsible for what chats create", "выберите сотрудника CRM, ответственного за то, что создают чаты"),
        ("a {} user id is a number", "ID сотрудника {1} — число"),
        ("the text rules cannot be read: {}", "правила заявок и чатов не читаются: {1}"),
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
