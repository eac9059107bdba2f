import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore

/// Escapes text for HTML content and attribute values.
func esc(_ s: String?) -> String {
    guard let s else { return "" }
    var out = ""
    out.reserveCapacity(s.count)
    for ch in s {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.append(ch)
        }
    }
    return out
}

/// The cabinet's two languages; Russian is the default (the users' language).
enum Lang: String {
    case ru, en

    func t(_ key: String) -> String {
        (self == .ru ? Strings.ru[key] : Strings.en[key]) ?? Strings.en[key] ?? key
    }
}

enum Strings {
    static let ru: [String: String] = [
        "title": "Switchboard — личный кабинет", "signin": "Вход", "email": "Электронная почта", "password": "Пароль",
        "signin.button": "Войти", "signin.failed": "Неверная почта или пароль.",
        "signin.limited": "Слишком много попыток входа. Попробуйте через несколько минут.", "signout": "Выйти",
        "nav.integrations": "Интеграции", "nav.calls": "Журнал звонков", "nav.pbx": "АТС",
        "integrations": "Интеграции", "state.off": "выключена", "state.active": "активна",
        "state.reconnect": "нужно переподключить", "state.errors": "ошибки за последний час",
        "calls": "Журнал звонков", "from": "С", "to": "По", "number": "Номер", "employee": "Сотрудник", "result": "Результат",
        "any": "любой", "filter": "Показать", "when": "Когда", "direction": "Направление", "talkers": "Разговаривали",
        "duration": "Длительность", "crm": "В CRM", "no.calls": "Звонков не найдено.",
        "call": "Звонок", "legs": "Плечи звонка", "events": "События АТС", "jobs": "Что сделано в CRM", "attempt": "Попытка",
        "retry": "Повторить", "reason": "Причина", "request": "Запрос", "answer": "Ответ",
        "pbx": "Подключения АТС", "pbx.url": "Адрес для АТС", "pbx.token": "Токен (crm_token / ключ подписи)",
        "pbx.employees": "Сотрудники", "pbx.lines": "Виртуальные номера", "pbx.last": "Последние события",
        "pbx.none": "Событий ещё не было: позвоните на виртуальный номер, чтобы проверить.",
        "result.answered": "принят", "result.missed": "пропущен", "result.busy": "занято", "result.no_answer": "не ответили",
        "result.pending": "идёт", "result.cancelled": "отменён", "result.failed": "ошибка", "result.not_allowed": "запрещён",
        "result.not_found": "не найден", "dir.inbound": "входящий", "dir.outbound": "исходящий", "dir.internal": "внутренний",
        "dir.unknown": "—", "job.done": "выполнено", "job.queued": "в очереди", "job.running": "выполняется",
        "job.dead": "не удалось", "lang.other": "English",
    ]
    static let en: [String: String] = [
        "title": "Switchboard — cabinet", "signin": "Sign in", "email": "E-mail", "password": "Password",
        "signin.button": "Sign in", "signin.failed": "Wrong e-mail or password.",
        "signin.limited": "Too many sign-in attempts. Try again in a few minutes.", "signout": "Sign out",
        "nav.integrations": "Integrations", "nav.calls": "Call journal", "nav.pbx": "PBX",
        "integrations": "Integrations", "state.off": "off", "state.active": "active", "state.reconnect": "needs re-connect",
        "state.errors": "errors in the last hour",
        "calls": "Call journal", "from": "From", "to": "To", "number": "Number", "employee": "Employee", "result": "Result",
        "any": "any", "filter": "Show", "when": "When", "direction": "Direction", "talkers": "Talked",
        "duration": "Duration", "crm": "In the CRM", "no.calls": "No calls found.",
        "call": "Call", "legs": "Legs", "events": "PBX events", "jobs": "What was done in the CRM", "attempt": "Attempt",
        "retry": "Retry", "reason": "Reason", "request": "Request", "answer": "Answer",
        "pbx": "PBX connections", "pbx.url": "Address for the PBX", "pbx.token": "Token (crm_token / signing key)",
        "pbx.employees": "Employees", "pbx.lines": "Virtual numbers", "pbx.last": "Last events",
        "pbx.none": "No events yet: call a virtual number to test.",
        "result.answered": "answered", "result.missed": "missed", "result.busy": "busy", "result.no_answer": "no answer",
        "result.pending": "in progress", "result.cancelled": "cancelled", "result.failed": "failed",
        "result.not_allowed": "not allowed", "result.not_found": "not found", "dir.inbound": "incoming",
        "dir.outbound": "outgoing", "dir.internal": "internal", "dir.unknown": "—", "job.done": "done", "job.queued": "queued",
        "job.running": "running", "job.dead": "failed", "lang.other": "Русский",
    ]
}

/// A whole page: light, readable on a laptop and a phone, usable from the keyboard, no build step.
func page(_ lang: Lang, title: String, nav: Bool = true, body: String, status: HTTPResponse.Status = .ok,
          csrf: String? = nil, email: String? = nil) -> Response {
    let other: Lang = lang == .ru ? .en : .ru
    var header = ""
    if nav {
        header = """
        <header><nav aria-label="main">
          <a href="/cabinet">\(lang.t("nav.integrations"))</a>
          <a href="/cabinet/calls">\(lang.t("nav.calls"))</a>
          <a href="/cabinet/dashboard">\(lang.jt("dashboard"))</a>
          <a href="/cabinet/credentials">\(lang == .ru ? "Учетные данные" : "Credentials")</a>
          <a href="/cabinet/pbx">\(lang.t("nav.pbx"))</a>
          <a href="/cabinet/deals">\(lang == .ru ? "Сделки" : "Deals")</a>
          <a href="/cabinet/analytics">\(lang == .ru ? "Аналитика" : "Analytics")</a>
          <a href="/cabinet/sites">\(lang == .ru ? "Сайты" : "Sites")</a>
          <a href="/cabinet/workspace" target="_blank" rel="noopener">\(lang == .ru ? "Чаты" : "Chats")</a>
          <span class="grow"></span>
          <a href="?lang=\(other.rawValue)" hreflang="\(other.rawValue)">\(lang.t("lang.other"))</a>
          <span class="who">\(esc(email))</span>
          <form method="post" action="/cabinet/logout" class="inline"><input type="hidden" name="csrf" value="\(esc(csrf))">
            <button type="submit">\(lang.t("signout"))</button></form>
        </nav></header>
        """
    }
    let html = """
    <!doctype html>
    <html lang="\(lang.rawValue)"><head><meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>\(esc(title)) · Switchboard</title>
    <style>
    body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;background:#f6f7fb}
    header{background:#1f3a5f;color:#fff}nav{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;flex-wrap:wrap}
    nav a{color:#fff;text-decoration:none;font-weight:600}nav a:focus,nav a:hover{text-decoration:underline}.grow{flex:1}
    .who{opacity:.8}main{max-width:1100px;margin:1rem auto;padding:0 1rem}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.5rem}
    .cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:1rem}
    .card{background:#fff;border:1px solid #dde2ec;border-radius:8px;padding:1rem}
    .badge{display:inline-block;padding:.1rem .5rem;border-radius:99px;font-size:.85rem;background:#e7ebf3}
    .ok{background:#dff5e3;color:#155b26}.bad{background:#fde2e1;color:#8a1c17}.warn{background:#fff1cc;color:#6b4d00}
    table{width:100%;border-collapse:collapse;background:#fff}th,td{text-align:left;padding:.45rem .5rem;border-bottom:1px solid #e6e9f0;vertical-align:top}
    .scroll{overflow-x:auto}form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:end;margin:.5rem 0 1rem}
    label{display:flex;flex-direction:column;font-size:.85rem;gap:.2rem}input,select,button{font:inherit;padding:.35rem .5rem}
    button{background:#1f3a5f;color:#fff;border:0;border-radius:5px;cursor:pointer}button:focus{outline:3px solid #f0b429}
    form.inline{display:inline}nav button{background:#fff;color:#1f3a5f}pre{white-space:pre-wrap;word-break:break-all;font-size:.8rem;margin:0}
    .error{color:#8a1c17;font-weight:600}.login{max-width:360px;margin:4rem auto;background:#fff;padding:1.5rem;border-radius:8px;border:1px solid #dde2ec}
    fieldset{border:1px solid #dde2ec;border-radius:8px;margin:.8rem 0;padding:.6rem .8rem;background:#fff;display:grid;gap:.5rem}
    legend{font-weight:600}.hint{cursor:help;display:inline-block;width:1.1rem;height:1.1rem;line-height:1.1rem;text-align:center;border-radius:50%;background:#1f3a5f;color:#fff;font-size:.75rem;font-weight:700}small{color:#5a6272}
    form.settings>label,form.settings>.check{margin:.6rem 0;max-width:640px}.check span{display:flex;gap:.4rem;align-items:center}
    textarea{font:inherit}details{margin-top:.6rem}details label{margin:.4rem 0}summary{cursor:pointer}button.danger{background:#8a1c17}.login form{display:flex;flex-direction:column;gap:.8rem}code{background:#eef1f7;padding:.1rem .3rem;border-radius:4px;word-break:break-all}
    </style></head>
    <body>\(header)<main>\(body)</main></body></html>
    """
    return Response(status: status, headers: [.contentType: "text/html; charset=utf-8",
                                              .init("Content-Security-Policy")!: "default-src 'self'; style-src 'unsafe-inline'",
                                              .init("X-Frame-Options")!: "DENY"],
                    body: .init(byteBuffer: ByteBuffer(string: html)))
}

/// A posted `application/x-www-form-urlencoded` form's fields; a form over 1 MB, or with a NUL character (no stored text can hold one), is refused with
/// the reason.
func formFields(_ request: Request) async throws -> [String: String] {
    let fields = FormURLEncoding.decode(String(decoding: try await request.bodyBytes(), as: UTF8.self))
    if NULText.inFields(fields) { throw APIError(.badRequest, "the form's \(NULText.message)") }
    return fields
}

extension Request {
    func cookie(_ name: String) -> String? {
        guard let header = headers[.cookie] else { return nil }
        for part in header.split(separator: ";") {
            let kv = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if kv.count == 2, kv[0] == name { return String(kv[1]) }
        }
        return nil
    }
}
