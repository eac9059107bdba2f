import Foundation
import SwitchboardCore
import SwitchboardCRM

/// Guide 001's "Подключение текстовых коммуникаций" (MP-10) and "Подключение передачи сделок" (MP-11) on the Megaplan
/// settings page: requests and chats with their filters, default responsible, client (extra fields, "Обновлять
/// всегда", the chat's moment and "клиент для чатов без контактных данных"), todo and process (request types or the
/// chat's moment, responsible, scheme), the transcript; then the deals address to give the Megaplan application.
/// Everything is kept in the integration's `texts` block.
extension Cabinet {
    static let mpTextHints: [String: (ru: String, en: String)] = [
        "texts.requests.enabled": ("Выберите настройку, если требуется передавать данные по заявкам в Мегаплан.",
                                   "Choose it to send the sites' requests to Megaplan."),
        "texts.requests.defaultResponsible": ("Данный сотрудник будет назначен ответственным на создаваемые сущности, если выбрана соответствующая настройка.",
                                              "This employee becomes responsible for what requests create when the setting says so."),
        "texts.requests.createContact": ("Создаёт контакт в разделе «Клиенты» по заявке; клиент, которого Мегаплан знает по телефону или e-mail, не дублируется.",
                                         "Makes a contact under «Клиенты» for a request; a client Megaplan knows by phone or e-mail is kept."),
        "texts.requests.createTask": ("Создаёт дело в разделе «Календарь» → «Список дел» по заявке выбранных типов (пусто — любых).",
                                      "Makes a todo under «Календарь» → «Список дел» for requests of the chosen types (empty: every type)."),
        "texts.requests.createDeal": ("Создаёт процесс в разделе «Процессы» по заявке выбранных типов, в выбранной схеме Мегаплан.",
                                      "Makes a process under «Процессы» for requests of the chosen types, in the chosen Megaplan scheme."),
        "texts.chats.enabled": ("Выберите настройку, если требуется передавать данные по чатам в Мегаплан.", "Choose it to send the sites' chats to Megaplan."),
        "texts.chats.contactWithoutDetails": ("При каждом новом чате с посетителем без контактных данных будет создаваться новый контакт, что может привести к дублям в Мегаплан.",
                                              "Every chat whose visitor left no phone or e-mail makes a new contact, which may duplicate clients in Megaplan."),
        "texts.chats.transcript": ("Важно! Текст переписки чата будет передан в журнал клиента только при завершении чата.",
                                   "The chat's transcript reaches the client's history only when the chat finishes."),
        "workspace": ("В Мегаплан под пользователем из группы «Директора» или «Админы»: «Настройки» → «Приложения» → «Создать приложение» (приложение своего аккаунта), добавьте страницу или виджет типа iframe с адресом рабочего места из POST /api/v1/workspace/tokens (адрес с токеном на срок до 24 часов: выпускайте новый до истечения) и включите приложение для группы операторов. Операторы отвечают на чаты сайта прямо в Мегаплан, а созданное по чатам попадает в Мегаплан по этим правилам.",
                      MegaplanTexts.workspaceInstructions),
        "deals": ("Нажмите «Активен», создайте в Мегаплан приложение с потоком событий «Сделки» на этот адрес («URL принимающий события») и нажмите «Сохранить». Сделки будут попадать в «Сырые данные» → «Сделки»; для проверки создайте тестовую сделку в Мегаплан.",
                  "Switch «Активен» on, make a Megaplan application whose «Сделки» event stream posts to this address («URL принимающий события»), and press Save. Deals then reach Raw data → Deals; make a test deal in Megaplan to check."),
    ]

    static let mpTextSources: [(key: String, ru: String, en: String)] = [
        ("site", "Сайт", "Site"), ("requestType", "Тип заявки", "Request type"), ("channel", "Канал", "Channel"), ("page", "Страница", "Page"),
        ("utm_source", "utm_source", "utm_source"), ("utm_medium", "utm_medium", "utm_medium"), ("utm_campaign", "utm_campaign", "utm_campaign"),
        ("utm_content", "utm_content", "utm_content"), ("utm_term", "utm_term", "utm_term"),
    ]

    /// The texts and deals blocks of the page.
    func mpTextsSection(_ w: SettingsForm, texts: JSONValue?, users: [CRMUserSummary]?, idPlaceholder: String, dealsURL: String?) -> String {
        let block = texts ?? .object([:])
        let rules = (try? TextRules.of(settings: .object(["texts": block]))) ?? TextRules()
        let own = (try? JSON.decode(MegaplanTextOptions.self, from: JSON.string(block))) ?? MegaplanTextOptions()
        let moments: [(value: String, label: String)] = [("started", w.say("Начало чата", "Chat started")),
                                                         ("finished", w.say("Завершение чата", "Chat finished")),
                                                         ("tagged", w.say("Простановка тега", "Tag set"))]
        func list(_ name: String, _ values: [String], _ label: String) -> String {
            w.field(name, values.joined(separator: ", "), label, placeholder: w.say("через запятую; пусто — все", "comma-separated; empty: all"))
        }
        func responsible(_ name: String, _ value: String?) -> String {
            w.user(name, value ?? "", users, w.say("Ответственный", "Responsible"),
                   fixed: [("", w.say("Ответственный по умолчанию", "The default responsible")), ("client", w.say("Ответственный за клиента", "The client's responsible"))],
                   idPlaceholder: idPlaceholder)
        }
        func fields(_ kind: String, _ part: MegaplanTextOptions.Part) -> String {
            let rows = Self.mpTextSources.map { src in
                let name = "texts.\(kind).extraFields.\(src.key)"
                return "<tr><td><label for=\"\(name)\">\(w.ru ? src.ru : src.en)</label></td><td><input id=\"\(name)\" name=\"\(name)\" value=\"\(esc(part.extraFields[src.key]))\" placeholder=\"Category…CustomField…\"></td></tr>"
            }.joined()
            return """
                <fieldset><legend>\(w.say("Передавать дополнительные поля в клиента", "Send extra fields to the client"))</legend>
                <div class="scroll"><table><thead><tr><th>\(w.say("Значение обращения", "Communication value"))</th><th>\(w.say("Поле клиента в Мегаплан", "Client field in Megaplan"))</th></tr></thead>
                <tbody>\(rows)</tbody></table></div>\(w.problem("texts.\(kind).extraFields"))
                \(w.toggle("texts.\(kind).updateAlways", part.updateAlways, w.say("Обновлять всегда", "Update always")))</fieldset>
                """
        }
        let r = rules.requests, c = rules.chats, rq = own.requests, ch = own.chats
        let requests = list("texts.requests.sites", r.sites, w.say("Сайты", "Sites")) + list("texts.requests.types", r.types, w.say("Типы заявок", "Request types"))
            + w.user("texts.requests.defaultResponsible", r.defaultResponsible, users, w.say("Ответственный по умолчанию", "Default responsible"), idPlaceholder: idPlaceholder)
            + w.toggle("texts.requests.createContact", r.createContact, w.say("Создавать контакт", "Create a contact"), more: fields("requests", rq))
            + w.toggle("texts.requests.createTask", r.createTask, w.say("Создавать дело", "Create a todo"),
                       more: list("texts.requests.todo.types", rq.todo.types, w.say("Типы заявок", "Request types")) + responsible("texts.requests.todo.responsible", rq.todo.responsible))
            + w.toggle("texts.requests.createDeal", r.createDeal, w.say("Создавать процесс", "Create a process"),
                       more: list("texts.requests.process.types", rq.process.types, w.say("Типы заявок", "Request types"))
                           + responsible("texts.requests.process.responsible", rq.process.responsible)
                           + w.field("texts.requests.process.programId", rq.process.programId, w.say("Схема процесса", "Process scheme"), mode: "numeric"))
        let chats = list("texts.chats.sites", c.sites, w.say("Сайты", "Sites")) + list("texts.chats.channels", c.channels, w.say("Каналы", "Channels"))
            + list("texts.chats.tags", c.tags, w.say("Теги", "Tags"))
            + w.user("texts.chats.defaultResponsible", c.defaultResponsible, users, w.say("Ответственный по умолчанию", "Default responsible"), idPlaceholder: idPlaceholder)
            + w.toggle("texts.chats.createContact", c.createContact, w.say("Создавать контакт", "Create a contact"),
                       more: w.toggle("texts.chats.contactWithoutDetails", c.contactWithoutDetails, w.say("Создавать клиента для чатов без контактных данных", "A client for chats with no contact details"))
                           + w.select("texts.chats.clientEvent", moments, (ch.clientEvent ?? c.trigger).rawValue, w.say("На какое событие создавать клиента", "The moment the client is made"))
                           + fields("chats", ch))
            + w.toggle("texts.chats.createTask", c.createTask, w.say("Создавать дело", "Create a todo"),
                       more: w.select("texts.chats.todo.event", moments, (ch.todo.event ?? c.trigger).rawValue, w.say("На какое событие создавать дело", "The moment the todo is made"))
                           + responsible("texts.chats.todo.responsible", ch.todo.responsible))
            + w.toggle("texts.chats.createDeal", c.createDeal, w.say("Создавать процесс", "Create a process"),
                       more: w.select("texts.chats.process.event", moments, (ch.process.event ?? c.trigger).rawValue, w.say("На какое событие создавать процесс", "The moment the process is made"))
                           + responsible("texts.chats.process.responsible", ch.process.responsible)
                           + w.field("texts.chats.process.programId", ch.process.programId, w.say("Схема процесса", "Process scheme"), mode: "numeric"))
            + w.toggle("texts.chats.transcript", c.transcript, w.say("Передавать переписку в журнал клиента", "Write the transcript to the client's history"))
        let deals = dealsURL.map {
            "<p><code data-link=\"dealsURL\">\(esc($0))</code></p>\(w.hint("deals"))"
        } ?? "<p>\(w.say("Выберите учетные данные: адрес появится после сохранения.", "Choose the credentials: the address shows after Save."))</p>\(w.hint("deals"))"
        return """
            <h2>\(w.say("Текстовые коммуникации", "Text communications"))</h2>
            <input type="hidden" name="texts.form" value="1">
            \(w.problems.filter { $0.field == "texts" }.map { "<p class=\"error\" role=\"alert\">\(esc(w.l.say($0.phrase)))</p>" }.joined())
            \(w.toggle("texts.requests.enabled", r.enabled, w.say("Передавать заявки", "Send requests"), more: requests))
            \(w.toggle("texts.chats.enabled", c.enabled, w.say("Передавать чаты", "Send chats"), more: chats))
            <h3>\(w.say("Рабочее место оператора в Мегаплан", "The operator workspace in Megaplan"))</h3>
            \(w.hint("workspace"))
            <h2>\(w.say("Передача сделок", "Deals import"))</h2>
            <h3>\(w.say("Webhook URL для приложения Мегаплан", "Webhook URL for the Megaplan application"))</h3>
            \(deals)
            """
    }

    /// The `texts` block the section posted, over the stored one (keys the form does not carry stay); nil when the form
    /// had no texts section.
    static func mpTexts(from f: [String: String], base: JSONValue?) -> JSONValue? {
        guard f["texts.form"] == "1" else { return base }
        func on(_ key: String) -> Bool { f[key] == "1" }
        func list(_ key: String) -> JSONValue {
            .array((f[key] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { .string($0) })
        }
        func text(_ key: String) -> JSONValue { SettingsForm.text(f, key).map { .string($0) } ?? .null }
        func user(_ key: String) -> JSONValue { SettingsForm.user(f, key).map { .string($0) } ?? .null }
        func fields(_ kind: String) -> JSONValue {
            var out: [String: JSONValue] = [:]
            for src in mpTextSources { if let v = SettingsForm.text(f, "texts.\(kind).extraFields.\(src.key)") { out[src.key] = .string(v) } }
            return .object(out)
        }
        func merged(_ old: JSONValue?, _ new: [String: JSONValue]) -> JSONValue {
            guard case .object(var o)? = old else { return .object(new) }
            for (k, v) in new { o[k] = v }
            return .object(o)
        }
        var block: [String: JSONValue] = [:]
        if case .object(let o)? = base { block = o }
        block["requests"] = merged(block["requests"], [
            "enabled": .bool(on("texts.requests.enabled")), "sites": list("texts.requests.sites"), "types": list("texts.requests.types"),
            "defaultResponsible": user("texts.requests.defaultResponsible"), "createContact": .bool(on("texts.requests.createContact")),
            "createTask": .bool(on("texts.requests.createTask")), "createDeal": .bool(on("texts.requests.createDeal")),
            "extraFields": fields("requests"), "updateAlways": .bool(on("texts.requests.updateAlways")),
            "todo": .object(["types": list("texts.requests.todo.types"), "responsible": user("texts.requests.todo.responsible")]),
            "process": .object(["types": list("texts.requests.process.types"), "responsible": user("texts.requests.process.responsible"),
                                "programId": text("texts.requests.process.programId")]),
        ])
        // The moments chosen per record: the client's is the rules' trigger (else the first chosen), the rest are told
        // to Switchboard through `alsoAt`.
        let createContact = on("texts.chats.createContact"), createTask = on("texts.chats.createTask"), createDeal = on("texts.chats.createDeal")
        func moment(_ key: String) -> String { TextRules.ChatTrigger(rawValue: f[key] ?? "")?.rawValue ?? "finished" }
        let chosen = [(createContact, moment("texts.chats.clientEvent")), (createTask, moment("texts.chats.todo.event")),
                      (createDeal, moment("texts.chats.process.event"))].filter(\.0).map(\.1)
        let trigger = chosen.first ?? "finished"
        var also: [String] = []
        for m in chosen.dropFirst() where m != trigger && !also.contains(m) { also.append(m) }
        block["chats"] = merged(block["chats"], [
            "enabled": .bool(on("texts.chats.enabled")), "sites": list("texts.chats.sites"), "channels": list("texts.chats.channels"),
            "tags": list("texts.chats.tags"), "defaultResponsible": user("texts.chats.defaultResponsible"),
            "trigger": .string(trigger), "alsoAt": .array(also.map { .string($0) }),
            "createContact": .bool(createContact), "contactWithoutDetails": .bool(on("texts.chats.contactWithoutDetails")),
            "createTask": .bool(createTask), "createDeal": .bool(createDeal), "transcript": .bool(on("texts.chats.transcript")),
            "clientEvent": .string(moment("texts.chats.clientEvent")), "extraFields": fields("chats"),
            "updateAlways": .bool(on("texts.chats.updateAlways")),
            "todo": .object(["event": .string(moment("texts.chats.todo.event")), "responsible": user("texts.chats.todo.responsible")]),
            "process": .object(["event": .string(moment("texts.chats.process.event")), "responsible": user("texts.chats.process.responsible"),
                                "programId": text("texts.chats.process.programId")]),
        ])
        return .object(block)
    }
}
