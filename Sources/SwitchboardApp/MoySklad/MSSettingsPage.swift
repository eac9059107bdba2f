import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

extension CRMPages {
    static let moysklad = CRMPages(credentials: .moysklad, settings: { try await $0.msSettingsPage($1, $2, $3) },
                                   save: { try await $0.saveMSSettings($1, $2, $3) })
}

/// The MoySklad integration's settings page, in the blocks and order of guide 003 ("Подключение телефонии"):
/// credentials, «Активен», the telephony application in MoySklad with the Webhook URL to paste, «Показывать внутренние
/// звонки», then what the guide's "Какие данные передаются" lists for calls: counterparties, orders and tasks by call,
/// filtering, extra fields into the counterparty, the personal manager, click-to-call, the employee mapping; one Save.
extension Cabinet {
    static let msHints: [String: (ru: String, en: String)] = [
        "active": ("Пока интеграция не активна, в МойСклад ничего не передаётся; настройки сохраняются.",
                   "While the integration is not active nothing reaches MoySklad; the settings are kept."),
        "showInternalCalls": ("Выберите настройку, если в МойСклад необходимо фиксировать звонки между сотрудниками.",
                              "Choose it to log calls between employees in MoySklad."),
        "defaultResponsible": ("Обязательное поле. Сотрудник МойСклад, который станет владельцем контрагента и ответственным за заказ и задачу по пропущенному звонку или звонку несопоставленного сотрудника.",
                               "Required. The MoySklad employee who owns the counterparty and is responsible for the order and the task of a missed call or a call of an unmapped employee."),
        "responsibleTalker": ("Кого назначать владельцем нового контрагента и ответственным по успешному звонку, если его переводили: первого или последнего разговаривавшего сотрудника.",
                              "Who owns a new counterparty and what an answered, transferred call makes: the first or the last employee who talked."),
        "rules": ("Гибкая настройка создания контрагентов и заказов по звонкам: что создаётся в МойСклад для каждого направления и результата звонка. Контрагент создаётся, только если МойСклад ещё не знает номер; задачи — по пропущенным звонкам.",
                  "What each direction and result of a call makes in MoySklad. A counterparty is made only for a number MoySklad does not know yet; tasks are for missed calls."),
        "order.state": ("Статус нового заказа покупателя, как он назван в МойСклад (например, «Новый»); пусто — без статуса.",
                        "The new customer order's status as MoySklad names it («Новый», for one); empty: none."),
        "order.organizationId": ("ID юрлица МойСклад для заказа; пусто — первое юрлицо аккаунта.",
                                 "The MoySklad legal entity's id for the order; empty: the account's first one."),
        "taskDueMinutes": ("Через сколько минут после звонка наступает срок задачи.", "How many minutes after the call a task is due."),
        "lines": ("Только звонки на эти виртуальные номера попадают в МойСклад (если к АТС подключено несколько интеграций); пусто — все номера. По одному в строке.",
                  "Only calls on these virtual numbers reach MoySklad (several integrations on one PBX); empty: every number. One a line."),
        "ignoredNumbers": ("Для этих номеров клиентов не создаются контрагенты, заказы и задачи; сам звонок фиксируется. По одному в строке.",
                           "These client numbers make no counterparty, order or task; the call itself is logged. One a line."),
        "extraFields": ("Передача дополнительных полей в контрагента: для каждого значения звонка — ID дополнительного поля контрагента в МойСклад.",
                        "Extra fields into the counterparty: for each value of the call, the id of the counterparty's additional field in MoySklad."),
        "extraFieldsUpdateAlways": ("Записывать поля не только при создании контрагента, но и при повторных звонках.",
                                    "Writes the fields on repeat calls too, not only when the counterparty is created."),
        "personalManager": ("Звонок клиента направляется владельцу его контрагента в МойСклад. Работает при настроенном сценарии с соответствующей операцией в АТС и совпадении внутренних номеров сотрудников в АТС и в приложении телефонии МойСклад.",
                            "A client's call goes to the owner of their counterparty. Works with a PBX scenario that has the matching step, and when the extensions agree in the PBX and in MoySklad's telephony application."),
        "clickToCall.callerId": ("Номер, который определяется у клиента при звонке по клику от сотрудника, у которого нет зарегистрированной SIP-линии.",
                                 "The number the client sees on a click-to-call from an employee without a registered SIP line."),
        "clickToCall.overrideCallerId": ("Показывать клиенту этот номер при всех звонках по клику из МойСклад.",
                                         "Shows the client this number on every click-to-call from MoySklad."),
        "mapping": ("Сотрудники МойСклад с внутренними номерами из приложения телефонии. Сотрудник без сопоставления не получает всплывающих уведомлений, и звонки ему не приписываются.",
                    "MoySklad's employees with the extensions of its telephony application. An unmapped employee gets no popups and no calls attributed."),
    ]

    static var msRules: [(key: String, path: WritableKeyPath<MSSettings, MSSettings.Rule>, ru: String, en: String)] {
        [("incomingAnswered", \.incomingAnswered, "Входящий успешный", "Incoming answered"),
         ("incomingMissed", \.incomingMissed, "Входящий пропущенный", "Incoming missed"),
         ("outgoingAnswered", \.outgoingAnswered, "Исходящий успешный", "Outgoing answered"),
         ("outgoingMissed", \.outgoingMissed, "Исходящий неуспешный", "Outgoing failed")]
    }

    static let msExtraSources: [(key: String, ru: String, en: String)] = [
        ("line", "Виртуальный номер", "Virtual number"), ("client", "Номер клиента", "Client's number"), ("utm_source", "utm_source", "utm_source"),
        ("utm_medium", "utm_medium", "utm_medium"), ("utm_campaign", "utm_campaign", "utm_campaign"), ("utm_content", "utm_content", "utm_content"),
        ("utm_term", "utm_term", "utm_term"),
    ]

    func msSettingsPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session, draft: MSSettings? = nil,
                        form: [String: String]? = nil, problems: [SettingsProblem] = [], saved: Bool = false) async throws -> Response {
        let l = lang(req, s)
        guard let d = try await settingsPageData(req, ctx, s, crm: .moysklad, draft: form) else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let settings = draft ?? (try? JSON.decode(MSSettings.self, from: JSON.string(d.integration.settings))) ?? MSSettings()
        let w = SettingsForm(cabinet: self, l: l, hints: Self.msHints, problems: problems)
        let ru = w.ru
        let webhook = d.credential.flatMap { c in sb.connectors[.moysklad]?.credentialLinks(c)["webhookURL"] }
        let webhookBlock = webhook.map {
            "<p><small>\(esc(MSCredentialFields.webhookSentence(l)))</small></p><label for=\"webhookURL\">Webhook URL<input id=\"webhookURL\" readonly value=\"\(esc($0))\" data-link=\"webhookURL\"></label>"
        } ?? "<p>\(w.say("Выберите учетные данные: Webhook URL появится здесь.", "Choose the credentials: the Webhook URL shows here."))</p>"
        let columns: [(key: String, path: WritableKeyPath<MSSettings.Rule, Bool>, ru: String, en: String)] = [
            ("createCounterparty", \.createCounterparty, "Контрагент", "Counterparty"), ("createOrder", \.createOrder, "Заказ покупателя", "Customer order"),
            ("createTask", \.createTask, "Задача", "Task"),
        ]
        let ruleRows = Self.msRules.map { r in
            "<tr><th scope=\"row\">\(ru ? r.ru : r.en)</th>" + columns.map { c in
                let name = "rule.\(r.key).\(c.key)"
                return "<td><input type=\"checkbox\" id=\"\(name)\" name=\"\(name)\" value=\"1\" aria-label=\"\(ru ? r.ru : r.en): \(ru ? c.ru : c.en)\"\(settings[keyPath: r.path][keyPath: c.path] ? " checked" : "")></td>"
            }.joined() + "</tr>"
        }.joined()
        let extraRows = Self.msExtraSources.map { src in
            let attribute = settings.extraFields.first { $0.source == src.key }?.attribute
            return "<tr><td><label for=\"extra.\(src.key)\">\(ru ? src.ru : src.en)</label></td><td><input id=\"extra.\(src.key)\" name=\"extra.\(src.key)\" value=\"\(esc(attribute))\"></td></tr>"
        }.joined()
        let talkers: [(value: String, label: String)] = [("first", w.say("Первого разговаривавшего", "The first who talked")),
                                                         ("last", w.say("Последнего разговаривавшего", "The last who talked"))]

        let body = """
            <h1>\(esc(d.title)): \(esc(d.integration.name))</h1>
            \(saved ? "<p class=\"badge ok\" role=\"status\">\(w.say("Сохранено", "Saved"))</p>" : "")
            \(problems.isEmpty ? "" : "<p class=\"error\" role=\"alert\">\(w.say("Проверьте отмеченные поля.", "Check the marked fields."))</p>")
            \(w.problem(""))
            <form method="post" action="/cabinet/integrations/\(d.integration.id)" class="settings">
            <input type="hidden" name="csrf" value="\(esc(s.csrf))">
            <h2>\(w.say("Учетные данные", "Credentials"))</h2>
            \(w.credentials(d, addURL: credentialsURL(.moysklad), usersLabel: ("Сотрудники МойСклад не прочитаны", "MoySklad employees could not be read")))
            <h2>\(w.say("Параметры интеграции", "Integration parameters"))</h2>
            \(w.toggle("active", d.active, w.say("Активен", "Active")))
            <h2>\(w.say("Модуль телефонии в МойСклад", "The telephony application in MoySklad"))</h2>
            \(webhookBlock)
            \(w.toggle("showInternalCalls", settings.showInternalCalls, w.say("Показывать внутренние звонки", "Show internal calls")))
            <h2>\(w.say("Контрагенты, заказы и задачи по звонкам", "Counterparties, orders and tasks by call"))</h2>
            \(w.user("defaultResponsible", settings.defaultResponsible, d.users, w.say("Ответственный по умолчанию", "Default responsible"),
                     idPlaceholder: w.say("ID сотрудника МойСклад", "MoySklad employee id")))
            \(w.select("responsibleTalker", talkers, settings.responsibleTalker.rawValue, w.say("Назначать ответственного на", "Make responsible")))
            <fieldset><legend>\(w.say("Что создавать по звонку", "What a call makes"))</legend>
            <div class="scroll"><table><thead><tr><th>\(w.say("Звонок", "Call"))</th>\(columns.map { "<th>\(ru ? $0.ru : $0.en)</th>" }.joined())</tr></thead>
            <tbody>\(ruleRows)</tbody></table></div>\(w.hint("rules"))</fieldset>
            \(w.field("order.state", settings.order.state, w.say("Статус заказа", "Order status"), placeholder: w.say("Новый", "Новый")))
            \(w.field("order.organizationId", settings.order.organizationId, w.say("Юрлицо заказа (ID)", "Order's legal entity (id)")))
            \(w.field("taskDueMinutes", String(settings.taskDueMinutes), w.say("Срок задачи, минут после звонка", "Task due, minutes after the call"), mode: "numeric"))
            <h2>\(w.say("Фильтрация", "Filtering"))</h2>
            \(w.numbers("lines", settings.lines, w.say("Виртуальные номера интеграции", "The integration's virtual numbers")))
            \(w.numbers("ignoredNumbers", settings.ignoredNumbers, w.say("Номера клиентов, по которым не создавать сущности", "Client numbers that create nothing")))
            <h2>\(w.say("Передача дополнительных полей в контрагента", "Extra fields into the counterparty"))</h2>
            \(w.hint("extraFields"))
            <div class="scroll"><table><thead><tr><th>\(w.say("Значение звонка", "Call value"))</th><th>\(w.say("ID поля контрагента в МойСклад", "Counterparty field id in MoySklad"))</th></tr></thead>
            <tbody>\(extraRows)</tbody></table></div>\(w.problem("extraFields"))
            \(w.toggle("extraFieldsUpdateAlways", settings.extraFieldsUpdateAlways, w.say("Обновлять всегда", "Update always")))
            \(w.byLine("utm", settings.utmByLine, attributes: Self.msExtraSources.dropFirst(2).map { ($0.key, $0.key) }, seen: d.seenLines,
                       legend: w.say("UTM-метки по виртуальным номерам", "UTM tags by virtual number"), field: "utmByLine"))
            <h2>\(w.say("Переадресация на персонального менеджера", "Personal manager"))</h2>
            \(w.toggle("personalManager", settings.personalManager, w.say("Включить переадресацию на персонального менеджера из CRM", "Forward to the CRM's personal manager")))
            <h2>\(w.say("Звонок в один клик из CRM", "Click-to-call from the CRM"))</h2>
            \(w.field("clickToCall.callerId", settings.clickToCall.callerId, w.say("Номер для звонка по клику", "Click-to-call number"), mode: "tel"))
            \(w.toggle("clickToCall.overrideCallerId", settings.clickToCall.overrideCallerId, w.say("Переопределять АОН для исходящих звонков", "Override the caller ID of outgoing calls")))
            <h2>\(w.say("Сопоставления сотрудников", "Employee mapping"))</h2>
            \(w.hint("mapping"))
            \(w.mapping(d, draft: form, crmColumn: w.say("Сотрудник МойСклад (внутренний номер)", "MoySklad employee (extension)")))
            <p><button type="submit">\(w.say("Сохранить", "Save"))</button></p>
            </form>
            """
        return page(l, title: d.title, body: body, status: problems.isEmpty ? .ok : .unprocessableContent, csrf: s.csrf, email: s.email)
    }

    /// Reads the form into settings over `base` (what the form does not carry stays).
    static func msSettings(from f: [String: String], base: MSSettings) -> MSSettings {
        var s = base
        func on(_ key: String) -> Bool { f[key] == "1" }
        s.showInternalCalls = on("showInternalCalls")
        s.defaultResponsible = SettingsForm.user(f, "defaultResponsible")
        s.responsibleTalker = MSSettings.Talker(rawValue: f["responsibleTalker"] ?? "") ?? s.responsibleTalker
        for r in msRules {
            s[keyPath: r.path] = MSSettings.Rule(createCounterparty: on("rule.\(r.key).createCounterparty"), createOrder: on("rule.\(r.key).createOrder"),
                                                 createTask: on("rule.\(r.key).createTask"))
        }
        s.order = MSSettings.Order(state: SettingsForm.text(f, "order.state"), organizationId: SettingsForm.text(f, "order.organizationId"))
        // What is not a number is kept out of range, so the connector's check marks it.
        s.taskDueMinutes = SettingsForm.text(f, "taskDueMinutes").map { Int($0) ?? 0 } ?? s.taskDueMinutes
        s.lines = SettingsForm.numbers(f, "lines")
        s.ignoredNumbers = SettingsForm.numbers(f, "ignoredNumbers")
        s.extraFields = msExtraSources.compactMap { src in SettingsForm.text(f, "extra.\(src.key)").map { MSSettings.ExtraField(attribute: $0, source: src.key) } }
        s.extraFieldsUpdateAlways = on("extraFieldsUpdateAlways")
        s.utmByLine = SettingsForm.byLine(f, "utm", attributes: msExtraSources.dropFirst(2).map(\.key))
        s.personalManager = on("personalManager")
        s.clickToCall = ClickToCallSettings(callerId: SettingsForm.text(f, "clickToCall.callerId"), overrideCallerId: on("clickToCall.overrideCallerId"))
        return s
    }

    func saveMSSettings(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        try await saveCRMSettings(req, ctx, s, crm: .moysklad, empty: MSSettings(), read: Self.msSettings(from:base:)) { settings, form, problems, saved, _ in
            try await msSettingsPage(req, ctx, s, draft: settings, form: form, problems: problems, saved: saved)
        }
    }
}
