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
        "dealsImport.enabled": ("Прожмите переключатель и добавьте название авторизации, логин и пароль от МойСклад. После сохранения заказы покупателей будут попадать в Сырые данные → Сделки; для проверки создайте тестовый заказ в МойСклад. Пароль хранится зашифрованным и не показывается.",
                                "Switch it on and add a name, MoySklad's login and password. After Save, customer orders reach Raw data → Deals; to check, create a test order in MoySklad. The password is kept encrypted and never shown."),
        "texts": ("Что заявки и чаты создают в МойСклад сверх общих правил (включение, фильтры, ответственный, контрагент, заказ, задача — на странице «Заявки и чаты»).",
                  "What requests and chats make in MoySklad beyond the shared rules (switches, filters, responsible, counterparty, order, task — on the «Requests and chats» page)."),
        "texts.chats.tasksOnlyMissed": ("Создание задач по пропущенным чатам: задача ставится, только если оператор не ответил в чате.",
                                        "Tasks for missed chats: a task only when no operator answered the chat."),
        "mapping": ("Сотрудники МойСклад с внутренними номерами из приложения телефонии. Сотрудник без сопоставления не получает всплывающих уведомлений, и звонки ему не приписываются.",
                    "MoySklad's employees with the extensions of its telephony application. An unmapped employee gets no popups and no calls attributed."),
    ]

    static var msRules: [(key: String, path: WritableKeyPath<MSSettings, MSSettings.Rule>, ru: String, en: String)] {
        [("incomingAnswered", \.incomingAnswered, "Входящий успешный", "Incoming answered"),
         ("incomingMissed", \.incomingMissed, "Входящий пропущенный", "Incoming missed"),
         ("outgoingAnswered", \.outgoingAnswered, "Исходящий успешный", "Outgoing answered"),
         ("outgoingMissed", \.outgoingMissed, "Исходящий неуспешный", "Outgoing failed")]
    }

    static let msTextSources: [(key: String, ru: String, en: String)] = [
        ("site", "Сайт", "Site"), ("page", "Страница", "Page"), ("requestType", "Тип заявки", "Request type"), ("channel", "Канал чата", "Chat channel"),
        ("utm_source", "utm_source", "utm_source"), ("utm_medium", "utm_medium", "utm_medium"), ("utm_campaign", "utm_campaign", "utm_campaign"),
        ("utm_content", "utm_content", "utm_content"), ("utm_term", "utm_term", "utm_term"),
    ]

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
        let texts = form.map { Self.msTextOptions(from: $0) } ?? (try? MSTextOptions.of(settings: d.integration.settings)) ?? MSTextOptions()
        let textExtraRows = Self.msTextSources.map { src in
            let attribute = texts.extraFields.first { $0.source == src.key }?.attribute
            return "<tr><td><label for=\"texts.extra.\(src.key)\">\(ru ? src.ru : src.en)</label></td><td><input id=\"texts.extra.\(src.key)\" name=\"texts.extra.\(src.key)\" value=\"\(esc(attribute))\"></td></tr>"
        }.joined()
        var dealsStored = ""
        if let id = settings.dealsImport.credentialId, let c = try await sb.credentials.get(tenantId: s.tenantId, id: id) {
            dealsStored = "<p><small>\(w.say("Авторизация сохранена", "Authorization saved")): \(esc(c.name))\(c.status == "reconnect" ? " — " + w.say("нужно ввести логин и пароль заново", "enter the login and password again") : "")</small></p>"
        }
        let dealsBlock = """
            <input type="hidden" name="dealsImport.present" value="1">
            \(w.toggle("dealsImport.enabled", settings.dealsImport.enabled, w.say("МойСклад - передача сделок", "MoySklad - deals import"), more: """
                \(dealsStored)
                \(w.field("dealsImport.name", form?["dealsImport.name"], w.say("Название авторизации", "Authorization name"), placeholder: "МойСклад - передача сделок"))
                \(w.field("dealsImport.login", form?["dealsImport.login"], w.say("Логин МойСклад", "MoySklad login")))
                <label for="dealsImport.password">\(w.say("Пароль", "Password"))<input id="dealsImport.password" name="dealsImport.password" type="password" autocomplete="off"></label>\(w.problem("dealsImport.password"))
                \(w.problem("dealsImport.credentialId"))
                """))
            """
        let textsBlock = """
            <input type="hidden" name="texts.present" value="1">
            \(w.hint("texts"))
            \(w.field("texts.requests.orderState", texts.requests.orderState, w.say("Статус заказа по заявке", "Order status for a request"), placeholder: "Новый"))
            \(w.field("texts.chats.orderState", texts.chats.orderState, w.say("Статус заказа по чату", "Order status for a chat"), placeholder: "Новый"))
            \(w.toggle("texts.chats.tasksOnlyMissed", texts.chatTasksOnlyMissed, w.say("Задачи только по пропущенным чатам", "Tasks only for missed chats")))
            \(w.field("texts.taskDueMinutes", String(texts.taskDueMinutes), w.say("Срок задачи по заявке или чату, минут", "Task due after a request or chat, minutes"), mode: "numeric"))
            \(w.field("texts.organizationId", texts.organizationId, w.say("Юрлицо заказа по заявке или чату (ID)", "Legal entity of a request's or chat's order (id)")))
            <div class="scroll"><table><thead><tr><th>\(w.say("Значение заявки или чата", "Request or chat value"))</th><th>\(w.say("ID поля контрагента в МойСклад", "Counterparty field id in MoySklad"))</th></tr></thead>
            <tbody>\(textExtraRows)</tbody></table></div>\(w.problem("texts.extraFields"))\(w.problem("texts.requests.defaultResponsible"))
            \(w.problem("texts.chats.defaultResponsible"))\(Cabinet.problems(problems.filter { $0.field == "texts" }, "texts", l))
            """
        let talkers: [(value: String, label: String)] = [("first", w.say("Первого разговаривавшего", "The first who talked")),
                                                         ("last", w.say("Последнего разговаривавшего", "The last who talked"))]

        let body = """
            <h1>\(esc(d.title)): \(esc(d.integration.name))</h1>
            \(integrationLinks(d.integration, l))
            \(saved ? "<p class=\"badge ok\" role=\"status\">\(w.say("Сохранено", "Saved"))</p>" : "")
            \(problems.isEmpty ? "" : "<p class=\"error\" role=\"alert\">\(w.say("Проверьте отмеченные поля.", "Check the marked fields."))</p>")
            \(w.problem(""))
            <form method="post" action="/cabinet/integrations/\(d.integration.id)" class="settings">
            <input type="hidden" name="csrf" value="\(esc(s.csrf))">
            <h2>\(w.say("Учетные данные", "Credentials"))</h2>
            \(w.credentials(d, addURL: credentialsURL(.moysklad), usersLabel: ("Сотрудники МойСклад не прочитаны", "MoySklad employees could not be read")))
            <h2>\(w.say("Параметры интеграции", "Integration parameters"))</h2>
            \(w.toggle("active", d.active, w.say("Активен", "Active")))
            <h2>\(w.say("Подключение передачи сделок", "Deals import"))</h2>
            \(dealsBlock)
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
            <h2>\(w.say("Текстовые коммуникации", "Text communications"))</h2>
            \(textsBlock)
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
        if f["dealsImport.present"] == "1" { s.dealsImport.enabled = on("dealsImport.enabled") }
        return s
    }

    /// MoySklad's own text options as the form posts them.
    static func msTextOptions(from f: [String: String]) -> MSTextOptions {
        var o = MSTextOptions()
        o.requests.orderState = SettingsForm.text(f, "texts.requests.orderState")
        o.chats.orderState = SettingsForm.text(f, "texts.chats.orderState")
        o.chats.tasksOnlyMissed = f["texts.chats.tasksOnlyMissed"] == "1"
        o.taskDueMinutes = SettingsForm.text(f, "texts.taskDueMinutes").map { Int($0) ?? 0 } ?? o.taskDueMinutes
        o.organizationId = SettingsForm.text(f, "texts.organizationId")
        o.extraFields = msTextSources.compactMap { src in
            SettingsForm.text(f, "texts.extra.\(src.key)").map { MSTextOptions.ExtraField(attribute: $0, source: src.key) }
        }
        return o
    }

    /// The `texts` block with MoySklad's options from the form written over `old` (the shared rules in it stay).
    static func msTexts(from f: [String: String], old: JSONValue?) throws -> JSONValue {
        let o = msTextOptions(from: f)
        guard case .object(var block) = old ?? .object([:]) else { return old ?? .null }
        func part(_ key: String, _ values: [String: JSONValue?]) {
            guard case .object(var p) = block[key] ?? .object([:]) else { return }
            for (k, v) in values { p[k] = v }
            block[key] = .object(p)
        }
        part("requests", ["orderState": o.requests.orderState.map(JSONValue.string)])
        part("chats", ["orderState": o.chats.orderState.map(JSONValue.string), "tasksOnlyMissed": .bool(o.chatTasksOnlyMissed)])
        block["taskDueMinutes"] = .number(Double(o.taskDueMinutes))
        block["organizationId"] = o.organizationId.map(JSONValue.string)
        block["extraFields"] = try JSON.decode(JSONValue.self, from: JSON.string(o.extraFields))
        return .object(block)
    }

    /// Saves the page: the shared path, plus MS-1's login and password, which become a credential set of their own
    /// (sealed like every secret; the settings keep its id) once MoySklad accepts them, and MoySklad's text options,
    /// written into the `texts` block over the shared rules there.
    func saveMSSettings(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")), integration.crm == .moysklad,
              let connector = sb.connectors[.moysklad] else {
            return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        var settings = Self.msSettings(from: f, base: (try? JSON.decode(MSSettings.self, from: JSON.string(integration.settings))) ?? MSSettings())
        var problems: [SettingsProblem] = []
        if settings.dealsImport.enabled, let login = SettingsForm.text(f, "dealsImport.login") {
            if let password = SettingsForm.text(f, "dealsImport.password") {
                var main: CRMCredential?
                if let id = SettingsForm.text(f, "credentialId") ?? integration.credentialId {
                    main = try await sb.credentials.get(tenantId: s.tenantId, id: id)
                }
                let made = try await sb.credentials.create(
                    tenantId: s.tenantId, crm: .moysklad, name: SettingsForm.text(f, "dealsImport.name") ?? "МойСклад - передача сделок",
                    baseURL: main?.baseURL ?? "https://api.moysklad.ru", authKind: .password, secret: CRMSecret(login: login, password: password))
                let result = await connector.check?(made) ?? (ok: false, message: MSSays.unreachable.phrase)
                if result.ok {
                    settings.dealsImport.credentialId = made.id
                } else {
                    _ = try await sb.credentials.delete(tenantId: s.tenantId, id: made.id)
                    problems.append(SettingsProblem(field: "dealsImport.password", result.message))
                }
            } else {
                problems.append(SettingsProblem(field: "dealsImport.password", MSSays.enterDealsPassword))
            }
        }
        var json = try JSON.decode(JSONValue.self, from: JSON.string(settings))
        if f["texts.present"] == "1", case .object(var object) = json {
            object["texts"] = try Self.msTexts(from: f, old: integration.settings["texts"])
            json = .object(object)
        }
        problems += connector.settingsProblems(json)
        if !problems.isEmpty { return try await msSettingsPage(req, ctx, s, draft: settings, form: f, problems: problems) }
        try await storeIntegration(integration, settings: json, form: f, tenantId: s.tenantId, mappings: SettingsForm.mappings(f))
        return try await msSettingsPage(req, ctx, s, saved: true)
    }
}
