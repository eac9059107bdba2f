import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// The amoCRM integration's settings page, in the guide's blocks: credentials, incoming calls, outgoing calls,
/// user mapping, other parameters; "Integration active" last, off by default; one Save.
extension Cabinet {
    static let amoHints: [String: (ru: String, en: String)] = [
        "answeredUnknown": ("Успешный звонок с неизвестного номера: что создать в amoCRM. «Контакт и сделка» требует воронку и этап, «Неразобранное» — только воронку.",
                            "Answered call from an unknown number: what to create. \"Contact and deal\" needs a pipeline and a stage, \"Unsorted\" a pipeline."),
        "missedUnknown": ("Непринятый звонок с неизвестного номера: те же варианты.", "Missed call from an unknown number: the same choices."),
        "answeredKnown": ("Успешный звонок от существующего клиента. «Сделка» использует открытую сделку клиента, если она есть; «Сделка всегда» создаётся по завершении звонка; «Неразобранное» создаётся всегда.",
                          "Answered call from an existing client. \"Deal\" reuses the client's open deal if there is one; \"Deal always\" is made when the call ends; \"Unsorted\" is always made."),
        "missedKnown": ("Непринятый звонок от существующего клиента: те же варианты.", "Missed call from an existing client: the same choices."),
        "tags": ("Номер клиента тегом на сделке и контакте, созданных звонком.", "The client's number as a tag on the deal and contact a call creates."),
        "taskForAnswerer": ("Задача сотруднику, принявшему звонок.", "A task for the employee who answered."),
        "filterNumbers": ("По этим номерам сущности не создаются. По одному номеру в строке.", "No entities for these numbers. One number per line."),
        "personalManager": ("Переадресация на ответственного за контакт. Нужно сопоставление пользователей и сценарий «Персональный менеджер» в АТС; сценарий на конкретного сотрудника важнее.",
                            "Forward callers to their contact's responsible user. Needs the user mapping and the PBX's \"personal manager\" scenario; a scenario to a fixed employee takes priority."),
        "defaultResponsibleUserId": ("Ответственный за созданные сущности, когда разговаривавший неизвестен (пропущенные звонки). Обязательно.",
                                     "Responsible for created entities when nobody talked (missed calls). Required."),
        "responsibleTalker": ("После перевода звонка ответственным становится первый или последний разговаривавший.", "After a transfer, the first or the last employee who talked is responsible."),
        "clickToCall": ("Номер, который увидит клиент при звонке из amoCRM, если у сотрудника нет своей линии; или для всех звонков.",
                        "The number the client sees on a call from amoCRM when the employee has no line of their own, or on every call."),
        "active": ("Пока выключено, в amoCRM ничего не отправляется; настройки сохраняются.", "While off, nothing is sent to amoCRM; settings are saved all the same."),
    ]

    func hint(_ l: Lang, _ key: String) -> String { hint(l, key, from: Self.amoHints) }

    static let actionNames: [AmoAction: (ru: String, en: String)] = [
        .contactAndDeal: ("Создавать новый контакт и сделку", "Create a contact and a deal"),
        .unsorted: ("Создавать запись в неразобранном", "Create an Unsorted entry"),
        .contactOnly: ("Создавать новый контакт", "Create a contact"),
        .deal: ("Создавать сделку", "Create a deal"),
        .dealAlways: ("Создавать сделку всегда", "Create a deal always"),
    ]

    func settingsPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session,
                      draft: AmoSettings? = nil, problems: [AmoSettings.Problem] = [], saved: Bool = false) async throws -> Response {
        let l = lang(req, s)
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")),
              integration.crm == .amocrm else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let settings = draft ?? (try? JSON.decode(AmoSettings.self, from: JSON.string(integration.settings))) ?? AmoSettings()
        let credentials = try await sb.credentials.list(tenantId: s.tenantId, crm: .amocrm)
        var pipelines: [AmoAPI.Pipeline] = []
        var users: [AmoAPI.User] = []
        var crmError: String?
        if let cid = integration.credentialId, let c = credentials.first(where: { $0.id == cid }) {
            let api = AmoAPI(client: sb.amo.client(tenantId: s.tenantId, credential: c, log: nil))
            // A page is drawn while calls are being delivered: a rate-limited read is tried again shortly.
            for attempt in 1...3 where pipelines.isEmpty || users.isEmpty {
                do {
                    pipelines = try await api.pipelines()
                    users = try await api.users()
                    crmError = nil
                } catch {
                    crmError = "\(error)"
                    if attempt < 3 { try? await Task.sleep(for: .milliseconds(400 * attempt)) }
                }
            }
        }
        let employees = try await sb.pbx.employees(tenantId: s.tenantId)
        let mappings = try await sb.integrations.mappings(tenantId: s.tenantId, integrationId: integration.id)
        func problem(_ field: String) -> String { Self.problems(problems, field, l) }
        func checkbox(_ name: String, _ on: Bool, _ label: String, hintKey: String) -> String {
            "<label class=\"check\"><span><input type=\"checkbox\" name=\"\(name)\" value=\"1\"\(on ? " checked" : "") aria-describedby=\"hint-\(hintKey)\"> \(esc(label))</span>\(hint(l, hintKey))</label>"
        }
        func ruleBlock(_ dir: String, _ key: String, _ rule: AmoRule, known: Bool, title: String) -> String {
            let actions: [AmoAction] = known ? [.deal, .unsorted, .dealAlways] : [.contactAndDeal, .unsorted, .contactOnly]
            let actionOptions = actions.map { a in
                "<option value=\"\(a.rawValue)\"\(rule.action == a ? " selected" : "")>\(esc(l == .ru ? Self.actionNames[a]!.ru : Self.actionNames[a]!.en))</option>"
            }.joined()
            var targets = "<option value=\"\">—</option>"
            // What is saved stays choosable even when amoCRM could not be read: a Save must never lose it.
            let known = pipelines.contains { p in p.id == rule.pipelineId && (rule.statusId == nil || p.statuses.contains { $0.id == rule.statusId }) }
            if let p = rule.pipelineId, !known {
                let value = rule.statusId.map { "s:\(p):\($0)" } ?? "p:\(p)"
                targets += "<option value=\"\(value)\" selected>#\(p)\(rule.statusId.map { " → #\($0)" } ?? "")</option>"
            }
            for p in pipelines {
                targets += "<optgroup label=\"\(esc(p.name))\"><option value=\"p:\(p.id)\"\(rule.pipelineId == p.id && rule.statusId == nil ? " selected" : "")>\(esc(p.name))</option>"
                for st in p.statuses where st.type != 1 && st.id != 142 && st.id != 143 {
                    let selected = rule.pipelineId == p.id && rule.statusId == st.id
                    targets += "<option value=\"s:\(p.id):\(st.id)\"\(selected ? " selected" : "")>\(esc(p.name)) → \(esc(st.name))</option>"
                }
                targets += "</optgroup>"
            }
            let id = "\(dir).\(key)"
            return """
            <fieldset><legend>\(esc(title))</legend>
            \(checkbox("\(id).enabled", rule.enabled, l == .ru ? "Включено" : "On", hintKey: key))
            <label for="\(id).action">\(l == .ru ? "Действие" : "Action")<select id="\(id).action" name="\(id).action">\(actionOptions)</select></label>
            <label for="\(id).target">\(l == .ru ? "Воронка / этап" : "Pipeline / stage")<select id="\(id).target" name="\(id).target">\(targets)</select></label>
            \(problem(id))</fieldset>
            """
        }
        func direction(_ dir: String, _ d: AmoDirectionSettings, incoming: Bool) -> String {
            let ru = ["Успешный звонок с неизвестного номера", "Непринятый звонок с неизвестного номера",
                      "Успешный звонок от существующего клиента", "Непринятый звонок от существующего клиента"]
            let en = ["Answered call from an unknown number", "Missed call from an unknown number",
                      "Answered call from an existing client", "Missed call from an existing client"]
            let t = l == .ru ? ru : en
            return ruleBlock(dir, "answeredUnknown", d.answeredUnknown, known: false, title: t[0]) +
                ruleBlock(dir, "missedUnknown", d.missedUnknown, known: false, title: t[1]) +
                ruleBlock(dir, "answeredKnown", d.answeredKnown, known: true, title: t[2]) +
                ruleBlock(dir, "missedKnown", d.missedKnown, known: true, title: t[3]) +
                checkbox("\(dir).tags", d.tags, l == .ru ? "Добавлять теги к сделке и контакту" : "Tag the deal and the contact", hintKey: "tags") +
                checkbox("\(dir).taskForAnswerer", d.taskForAnswerer, l == .ru ? "Создавать задачу сотруднику, принявшему звонок" : "Task for the employee who answered", hintKey: "taskForAnswerer") +
                (incoming ? checkbox("personalManager", settings.personalManager, l == .ru ? "Переадресация на персонального менеджера" : "Forward to the personal manager", hintKey: "personalManager") : "") +
                "<label for=\"\(dir).filterNumbers\">\(l == .ru ? "Фильтровать номера" : "Filtered numbers")<textarea id=\"\(dir).filterNumbers\" name=\"\(dir).filterNumbers\" rows=\"3\" aria-describedby=\"hint-filterNumbers\">\(esc(d.filterNumbers.joined(separator: "\n")))</textarea>\(hint(l, "filterNumbers"))</label>\(problem("\(dir).filterNumbers"))"
        }
        let credentialOptions = credentials.map {
            "<option value=\"\($0.id)\"\(integration.credentialId == $0.id ? " selected" : "")>\(esc($0.name.isEmpty ? $0.baseURL : $0.name)) — \(esc($0.baseURL))</option>"
        }.joined()
        let userOptions = { (selected: Int?) in
            let missing = selected.map { id in users.contains { $0.id == id } ? "" : "<option value=\"\(id)\" selected>#\(id)</option>" } ?? ""
            return "<option value=\"\">—</option>" + missing +
                users.map { "<option value=\"\($0.id)\"\(selected == $0.id ? " selected" : "")>\(esc($0.name))</option>" }.joined()
        }
        let mappingRows = users.map { u in
            let current = mappings.first { $0.crmUserId == String(u.id) }?.employeeId
            let options = "<option value=\"\">—</option>" + employees.map {
                "<option value=\"\($0.id)\"\(current == $0.id ? " selected" : "")>\(esc($0.name)) (\(esc($0.login)))</option>"
            }.joined()
            return "<tr><td><label for=\"map.\(u.id)\">\(esc(u.name))</label></td><td><select id=\"map.\(u.id)\" name=\"map.\(u.id)\">\(options)</select></td></tr>"
        }.joined()
        let body = """
            <h1>amoCRM: \(esc(integration.name))</h1>
            \(integrationLinks(integration, l))
            \(saved ? "<p class=\"badge ok\" role=\"status\">\(l == .ru ? "Сохранено" : "Saved")</p>" : "")
            \(crmError.map { "<p class=\"error\" role=\"alert\">amoCRM: \(esc($0))</p>" } ?? "")
            \(problems.isEmpty ? "" : "<p class=\"error\" role=\"alert\">\(l == .ru ? "Проверьте отмеченные поля." : "Check the marked fields.")</p>")
            <form method="post" action="/cabinet/integrations/\(integration.id)" class="settings">
            <input type="hidden" name="csrf" value="\(esc(s.csrf))">
            <h2>\(l == .ru ? "Учетные данные" : "Credentials")</h2>
            <label for="credentialId">amoCRM<select id="credentialId" name="credentialId">\(credentialOptions)</select></label>
            <h2>\(l == .ru ? "Входящие звонки" : "Incoming calls")</h2>\(direction("incoming", settings.incoming, incoming: true))
            <h2>\(l == .ru ? "Исходящие звонки" : "Outgoing calls")</h2>\(direction("outgoing", settings.outgoing, incoming: false))
            <h2>\(l == .ru ? "Сопоставление пользователей CRM и ваших сотрудников" : "CRM users and your employees")</h2>
            <div class="scroll"><table><tbody>\(mappingRows)</tbody></table></div>
            <h2>\(l == .ru ? "Прочие параметры интеграции" : "Other parameters")</h2>
            <label for="defaultResponsibleUserId">\(l == .ru ? "Ответственный менеджер по умолчанию в amoCRM" : "Default responsible user in amoCRM")
              <select id="defaultResponsibleUserId" name="defaultResponsibleUserId" aria-describedby="hint-defaultResponsibleUserId">\(userOptions(settings.defaultResponsibleUserId))</select>\(hint(l, "defaultResponsibleUserId"))</label>
            \(problem("defaultResponsibleUserId"))
            <label for="responsibleTalker">\(l == .ru ? "Ответственный после перевода" : "Responsible after a transfer")
              <select id="responsibleTalker" name="responsibleTalker" aria-describedby="hint-responsibleTalker">
              <option value="first"\(settings.responsibleTalker == .first ? " selected" : "")>\(l == .ru ? "первый разговаривавший" : "first who talked")</option>
              <option value="last"\(settings.responsibleTalker == .last ? " selected" : "")>\(l == .ru ? "последний разговаривавший" : "last who talked")</option>
              </select>\(hint(l, "responsibleTalker"))</label>
            <label for="callerId">\(l == .ru ? "Номер для звонков из CRM" : "Caller ID for click-to-call")
              <input id="callerId" name="callerId" inputmode="tel" value="\(esc(settings.clickToCall.callerId))" aria-describedby="hint-clickToCall">\(hint(l, "clickToCall"))</label>
            \(checkbox("overrideCallerId", settings.clickToCall.overrideCallerId, l == .ru ? "Подменять номер для всех звонков из CRM" : "Use it for every click-to-call", hintKey: "clickToCall"))
            \(checkbox("active", integration.active, l == .ru ? "Интеграция активна" : "Integration active", hintKey: "active"))
            <p><button type="submit">\(l == .ru ? "Сохранить" : "Save")</button></p>
            </form>
            """
        return page(l, title: "amoCRM", body: body, status: problems.isEmpty ? .ok : .unprocessableContent, csrf: s.csrf, email: s.email)
    }

    /// Reads the form into settings; the target select carries "p:<pipeline>" or "s:<pipeline>:<stage>".
    static func settings(from f: [String: String], base: AmoSettings) -> AmoSettings {
        var s = base
        func rule(_ prefix: String) -> AmoRule {
            var r = AmoRule(enabled: f["\(prefix).enabled"] == "1", action: AmoAction(rawValue: f["\(prefix).action"] ?? "") ?? .unsorted)
            let parts = (f["\(prefix).target"] ?? "").split(separator: ":").map(String.init)
            if parts.count >= 2 { r.pipelineId = Int(parts[1]) }
            if parts.count == 3 { r.statusId = Int(parts[2]) }
            return r
        }
        func direction(_ d: String) -> AmoDirectionSettings {
            AmoDirectionSettings(answeredUnknown: rule("\(d).answeredUnknown"), missedUnknown: rule("\(d).missedUnknown"),
                                 answeredKnown: rule("\(d).answeredKnown"), missedKnown: rule("\(d).missedKnown"),
                                 tags: f["\(d).tags"] == "1", taskForAnswerer: f["\(d).taskForAnswerer"] == "1",
                                 filterNumbers: (f["\(d).filterNumbers"] ?? "").split(whereSeparator: \.isNewline)
                                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        s.incoming = direction("incoming")
        s.outgoing = direction("outgoing")
        s.personalManager = f["personalManager"] == "1"
        s.defaultResponsibleUserId = Int(f["defaultResponsibleUserId"] ?? "")
        s.responsibleTalker = AmoSettings.ResponsibleTalker(rawValue: f["responsibleTalker"] ?? "") ?? .last
        let callerId = (f["callerId"] ?? "").trimmingCharacters(in: .whitespaces)
        s.clickToCall = ClickToCallSettings(callerId: callerId.isEmpty ? nil : callerId, overrideCallerId: f["overrideCallerId"] == "1")
        return s
    }

    func saveSettings(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")), integration.crm == .amocrm else {
            return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let base = (try? JSON.decode(AmoSettings.self, from: JSON.string(integration.settings))) ?? AmoSettings()
        let settings = Self.settings(from: f, base: base)
        let problems = settings.validate()
        if !problems.isEmpty {
            return try await settingsPage(req, ctx, s, draft: settings, problems: problems)
        }
        try await storeIntegration(integration, settings: try JSON.decode(JSONValue.self, from: JSON.string(settings)), form: f,
                                   tenantId: s.tenantId, mappings: SettingsForm.mappings(f))
        return try await settingsPage(req, ctx, s, saved: true)
    }
}

extension CRMPages {
    static let amoCRM = CRMPages(credentials: .amoCRM, settings: { try await $0.settingsPage($1, $2, $3) },
                                 save: { try await $0.saveSettings($1, $2, $3) },
                                 routes: { sb, router in AmoRoutes(sb: sb).register(on: router) })
}
