import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

extension CRMPages {
    static let bitrix24 = CRMPages(credentials: .bitrix24, settings: { try await $0.b24SettingsPage($1, $2, $3) },
                                   save: { try await $0.saveB24Settings($1, $2, $3) })
}

/// The Bitrix24 integration's settings page, in the blocks and order of the tenant's guide (B24-2…B24-6): credentials,
/// integration parameters ("Integration active" first, the telephony mode), incoming, outgoing, other (CallTracking,
/// the chat message, click-to-call), the employee mapping; the guide's hints beside the fields; one Save.
extension Cabinet {
    static let b24Hints: [String: (ru: String, en: String)] = [
        "active": ("Отвечает в целом за работу интеграции: пока переключатель выключен, в Битрикс24 ничего не отправляется; настройки сохраняются.",
                   "Switches the whole integration: while off, nothing reaches Bitrix24; settings are saved all the same."),
        "telephonyMode": ("WebRTC-виджет: сотрудники принимают звонки в виджете АТС внутри Битрикс24. IP-телефония: на SIP-телефоне сотрудника, а Битрикс24 показывает карточку звонящего.",
                          "WebRTC widget: employees take calls in the PBX's widget inside Bitrix24. IP telephony: on the employee's SIP phone, with the caller's card shown in Bitrix24."),
        "personalManager": ("Перенаправляет звонок в зависимости от того, какой персональный менеджер назначен у контакта в CRM. Поиск производится при сценарном звонке; только для входящих звонков.",
                            "Forwards the call to the personal manager of the caller's contact in the CRM. The lookup runs in the PBX scenario; incoming calls only."),
        "incoming.createEntity": ("При входящем звонке будут созданы сущности в зависимости от режима работы с CRM в Битрикс24 (лид в классическом режиме, контакт и сделка в простом).",
                                  "An incoming call creates records as the portal's CRM mode says (a lead in classic mode, a contact and a deal in simple mode)."),
        "incoming.defaultResponsible": ("Обязательное поле. Сотрудник, который будет назначен ответственным за сущность/звонок в случае пропущенного входящего звонка.",
                                        "Required. The user made responsible for the record and the call when an incoming call is missed."),
        "incoming.responsibleTalker": ("Обязательное поле. В случае успешного звонка ответственным назначается первый или последний разговаривавший с клиентом сотрудник. Применяется для новых лидов при трансфере во время разговора.",
                                       "Required. After an answered call the first or the last employee who talked to the client becomes responsible. Applies to new leads when the call was transferred."),
        "outgoing.createEntity": ("При исходящем звонке будут созданы сущности в зависимости от режима работы с CRM в Битрикс24.",
                                  "An outgoing call creates records as the portal's CRM mode says."),
        "outgoing.defaultResponsible": ("Обязательное поле. Ответственный по умолчанию на исходящий звонок, если ответственный не найден в системе.",
                                        "Required. The responsible user for an outgoing call when none is found."),
        "callTracking": ("Открывает выбор UTM-меток, которые передаются в Битрикс24 с лидами и сделками звонков; значения меток задаются для каждого виртуального номера.",
                         "Lets you choose which UTM tags go to Bitrix24 with the leads and deals of calls; the tags' values are set per virtual number."),
        "chatMessage": ("В чат сотруднику будет поступать сообщение о совершённом звонке.", "The employee gets a message about the call in their Bitrix24 chat."),
        "clickToCall": ("Номер, который увидит клиент при звонке из Битрикс24, если у сотрудника нет своей линии; или для всех звонков.",
                        "The number the client sees on a call from Bitrix24 when the employee has no line of their own, or on every call."),
        "useForRouting": ("Решает, будет ли пользователь участвовать в переадресации на персонального менеджера.",
                          "Whether the user takes part in personal-manager forwarding."),
    ]

    /// What a rejected Save posted, drawn again with its problems.
    struct B24Draft {
        var settings: B24Settings
        var form: [String: String]
    }

    func b24SettingsPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session,
                         draft: B24Draft? = nil, problems: [SettingsProblem] = [], saved: Bool = false) async throws -> Response {
        let l = lang(req, s)
        let ru = l == .ru
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")), integration.crm == .bitrix24 else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let title = sb.connectors[.bitrix24].map { ru ? $0.titleRU : $0.title } ?? "Bitrix24"
        let settings = draft?.settings ?? (try? JSON.decode(B24Settings.self, from: JSON.string(integration.settings))) ?? B24Settings()
        let credentials = try await sb.credentials.list(tenantId: s.tenantId, crm: .bitrix24)
        let chosenCredential = draft?.form["credentialId"].flatMap { $0.isEmpty ? nil : $0 } ?? integration.credentialId
        let active = draft.map { $0.form["active"] == "1" } ?? integration.active
        // The portal's users for the responsible selects and the mapping; when they cannot be read, why, and numeric ids.
        var users: [CRMUserSummary]?
        var usersProblem: String?
        if let c = credentials.first(where: { $0.id == chosenCredential }) {
            if let read = sb.connectors[.bitrix24]?.users {
                do { users = try await read(c) } catch { usersProblem = l.say(CRMFailure.phrase(of: error)) }
            }
        } else {
            usersProblem = ru ? "не выбраны учетные данные" : "no credentials chosen"
        }
        let employees = try await sb.pbx.employees(tenantId: s.tenantId)
        let mappings = try await sb.integrations.mappings(tenantId: s.tenantId, integrationId: integration.id)
        var seenLines: [String] = []
        if let connection = integration.pbxConnectionId { seenLines = try await sb.calls.lineNumbers(tenantId: s.tenantId, connectionId: connection) }

        func hint(_ key: String) -> String { self.hint(l, key, from: Self.b24Hints) }
        func problem(_ field: String) -> String { Self.problems(problems, field, l) }
        func checkbox(_ name: String, _ on: Bool, _ label: String, hintKey: String) -> String {
            "<label class=\"check\"><span><input type=\"checkbox\" id=\"\(name)\" name=\"\(name)\" value=\"1\"\(on ? " checked" : "") aria-describedby=\"hint-\(hintKey)\"> \(esc(label))</span>\(hint(hintKey))</label>"
        }
        func responsible(_ name: String, _ selected: Int?, _ label: String) -> String {
            let control: String
            if let users {
                let saved = selected.map { id in users.contains { $0.id == String(id) } ? "" : "<option value=\"\(id)\" selected>#\(id)</option>" } ?? ""
                control = "<select id=\"\(name)\" name=\"\(name)\" aria-describedby=\"hint-\(name)\"><option value=\"\">—</option>\(saved)" +
                    users.filter { $0.active || $0.id == selected.map(String.init) }.map { u in
                        "<option value=\"\(esc(u.id))\"\(u.id == selected.map(String.init) ? " selected" : "")>\(esc(u.name))\(u.extension_.map { " (\(esc($0)))" } ?? "")</option>"
                    }.joined() + "</select>"
            } else {
                control = "<input id=\"\(name)\" name=\"\(name)\" inputmode=\"numeric\" pattern=\"[0-9]*\" value=\"\(selected.map(String.init) ?? "")\" placeholder=\"\(ru ? "ID пользователя Битрикс24" : "Bitrix24 user id")\" aria-describedby=\"hint-\(name)\">"
            }
            return "<label for=\"\(name)\">\(esc(label))\(control)\(hint(name))</label>\(problem(name))"
        }

        let credentialOptions = (chosenCredential == nil ? "<option value=\"\">—</option>" : "") + credentials.map {
            "<option value=\"\($0.id)\"\(chosenCredential == $0.id ? " selected" : "")>\(esc($0.name.isEmpty ? $0.baseURL : $0.name)) — \(esc($0.baseURL)) · \(esc($0.state.map { l.say($0.phrase) } ?? $0.status))</option>"
        }.joined()
        let modes: [(B24Settings.TelephonyMode, String, String)] = [(.webrtc, "Использовать WebRTC виджет", "Use the WebRTC widget"),
                                                                     (.ip, "Использовать IP телефонию", "Use IP telephony")]
        let modeOptions = modes.map { m, r, e in "<option value=\"\(m.rawValue)\"\(settings.telephonyMode == m ? " selected" : "")>\(ru ? r : e)</option>" }.joined()
        let talkers: [(B24Settings.Talker?, String, String)] = [(nil, "—", "—"), (.first, "Первого разговаривающего", "The first who talked"),
                                                                (.last, "Последнего разговаривающего", "The last who talked")]
        let talkerOptions = talkers.map { t, r, e in
            "<option value=\"\(t?.rawValue ?? "")\"\(settings.incoming.responsibleTalker == t ? " selected" : "")>\(ru ? r : e)</option>"
        }.joined()

        // CallTracking: the chosen tags, then one row per virtual number: its numbers so far, the PBX's lines, a blank one.
        let tags = B24Settings.CallTracking.knownTags
        let tagBoxes = tags.map { t in
            "<label class=\"check\"><span><input type=\"checkbox\" id=\"callTracking.tag.\(t)\" name=\"callTracking.tag.\(t)\" value=\"1\"\(settings.callTracking.tags.contains(t) ? " checked" : "")> \(t)</span></label>"
        }.joined()
        var lines = settings.callTracking.byLine.keys.sorted()
        for line in seenLines where !lines.contains(where: { $0.filter(\.isNumber).suffix(10) == line.filter(\.isNumber).suffix(10) }) { lines.append(line) }
        lines.append("")
        let lineRows = lines.enumerated().map { i, line in
            let values = settings.callTracking.byLine[line] ?? [:]
            return "<tr><td><input id=\"ct.\(i).line\" name=\"ct.\(i).line\" inputmode=\"tel\" aria-label=\"\(ru ? "Виртуальный номер" : "Virtual number")\" value=\"\(esc(line))\"></td>" +
                tags.map { t in "<td><input id=\"ct.\(i).\(t)\" name=\"ct.\(i).\(t)\" aria-label=\"\(t)\" value=\"\(esc(values[t]))\"></td>" }.joined() + "</tr>"
        }.joined()

        // The mapping: the portal's active users (and anyone mapped), or the mapped users alone when the portal cannot be read.
        let mappedOnly = mappings.filter { m in !(users ?? []).contains { $0.id == m.crmUserId } }
        let rowsUsers = (users ?? []).filter { u in u.active || mappings.contains { $0.crmUserId == u.id } }.map { ($0.id, $0.name, $0.extension_) } +
            mappedOnly.map { ($0.crmUserId, $0.crmUserName.isEmpty ? "#\($0.crmUserId)" : $0.crmUserName, nil as String?) }
        let mappingRows = rowsUsers.map { id, name, inner in
            let current = draft.map { $0.form["map.\(id)"] } ?? mappings.first { $0.crmUserId == id }?.employeeId
            let routing = draft.map { $0.form["route.\(id)"] == "1" } ?? (mappings.first { $0.crmUserId == id }?.useForRouting ?? true)
            let options = "<option value=\"\">—</option>" + employees.map {
                "<option value=\"\($0.id)\"\(current == $0.id ? " selected" : "")>\(esc($0.name)) (\(esc($0.login)))</option>"
            }.joined()
            return """
            <tr><td><label for="map.\(esc(id))">\(esc(name))\(inner.map { " <small>(\(esc($0)))</small>" } ?? "")</label><input type="hidden" name="mapname.\(esc(id))" value="\(esc(name))"></td>
            <td><select id="map.\(esc(id))" name="map.\(esc(id))">\(options)</select></td>
            <td><label class="check"><span><input type="checkbox" id="route.\(esc(id))" name="route.\(esc(id))" value="1"\(routing ? " checked" : "") aria-describedby="hint-useForRouting"> \(ru ? "Использовать пользователя для поиска персонального менеджера" : "Use the user for personal-manager lookup")</span></label></td></tr>
            """
        }.joined()

        let body = """
            <h1>\(esc(title)): \(esc(integration.name))</h1>
            \(integrationLinks(integration, l))
            \(saved ? "<p class=\"badge ok\" role=\"status\">\(ru ? "Сохранено" : "Saved")</p>" : "")
            \(problems.isEmpty ? "" : "<p class=\"error\" role=\"alert\">\(ru ? "Проверьте отмеченные поля." : "Check the marked fields.")</p>")
            \(problem(""))
            <form method="post" action="/cabinet/integrations/\(integration.id)" class="settings">
            <input type="hidden" name="csrf" value="\(esc(s.csrf))">
            <h2>\(ru ? "Учетные данные" : "Credentials")</h2>
            <label for="credentialId">\(ru ? "Аккаунт" : "Account")<select id="credentialId" name="credentialId">\(credentialOptions)</select></label>
            <p><a href="\(esc(credentialsURL(.bitrix24)))">\(ru ? "Добавить или изменить учетные данные" : "Add or change credentials")</a></p>
            \(usersProblem.map { "<p class=\"error\" role=\"alert\">\(ru ? "Пользователи Битрикс24 не прочитаны" : "Bitrix24 users could not be read"): \(esc($0)). \(ru ? "Ответственных можно указать числовым ID пользователя." : "Enter responsible users by their numeric id.")</p>" } ?? "")
            <h2>\(ru ? "Параметры интеграции" : "Integration parameters")</h2>
            \(checkbox("active", active, ru ? "Интеграция активна" : "Integration active", hintKey: "active"))
            <label for="telephonyMode">\(ru ? "Режим телефонии" : "Telephony mode")<select id="telephonyMode" name="telephonyMode" aria-describedby="hint-telephonyMode">\(modeOptions)</select>\(hint("telephonyMode"))</label>
            <h2>\(ru ? "Входящие" : "Incoming")</h2>
            \(checkbox("incoming.personalManager", settings.incoming.personalManager, ru ? "Переадресация на персонального менеджера" : "Forward to the personal manager", hintKey: "personalManager"))
            \(checkbox("incoming.createEntity", settings.incoming.createEntity, ru ? "Создавать сущность при входящем звонке" : "Create a record on an incoming call", hintKey: "incoming.createEntity"))
            \(responsible("incoming.defaultResponsible", settings.incoming.defaultResponsible, ru ? "Ответственный по-умолчанию на входящий звонок" : "Default responsible for incoming calls"))
            <label for="incoming.responsibleTalker">\(ru ? "Назначать ответственного на" : "Make responsible")<select id="incoming.responsibleTalker" name="incoming.responsibleTalker" aria-describedby="hint-incoming.responsibleTalker">\(talkerOptions)</select>\(hint("incoming.responsibleTalker"))</label>
            \(problem("incoming.responsibleTalker"))
            <h2>\(ru ? "Исходящие" : "Outgoing")</h2>
            \(checkbox("outgoing.createEntity", settings.outgoing.createEntity, ru ? "Создавать сущность при исходящем звонке" : "Create a record on an outgoing call", hintKey: "outgoing.createEntity"))
            \(responsible("outgoing.defaultResponsible", settings.outgoing.defaultResponsible, ru ? "Ответственный по-умолчанию на исходящий звонок" : "Default responsible for outgoing calls"))
            <h2>\(ru ? "Прочее" : "Other")</h2>
            \(checkbox("callTracking.enabled", settings.callTracking.enabled, ru ? "Использовать CallTracking" : "Use CallTracking", hintKey: "callTracking"))
            <fieldset><legend>\(ru ? "Какие UTM-метки передавать в Битрикс24" : "UTM tags sent to Bitrix24")</legend>\(tagBoxes)\(problem("callTracking.tags"))</fieldset>
            <fieldset><legend>\(ru ? "UTM-метки по виртуальным номерам" : "UTM tags by virtual number")</legend>
            <div class="scroll"><table><thead><tr><th>\(ru ? "Виртуальный номер" : "Virtual number")</th>\(tags.map { "<th>\($0)</th>" }.joined())</tr></thead>
            <tbody>\(lineRows)</tbody></table></div>\(problem("callTracking.byLine"))</fieldset>
            \(checkbox("chatMessage", settings.chatMessage, ru ? "Добавлять сообщение о совершенном звонке сотруднику в чат" : "Post a message about the call to the employee's chat", hintKey: "chatMessage"))
            <label for="callerId">\(ru ? "Номер для звонков из CRM" : "Caller ID for click-to-call")
              <input id="callerId" name="callerId" inputmode="tel" value="\(esc(settings.clickToCall.callerId))" aria-describedby="hint-clickToCall">\(hint("clickToCall"))</label>
            <label class="check"><span><input type="checkbox" id="overrideCallerId" name="overrideCallerId" value="1"\(settings.clickToCall.overrideCallerId ? " checked" : "")> \(ru ? "Подменять номер для всех звонков из CRM" : "Use it for every click-to-call")</span></label>
            <h2>\(ru ? "Сопоставления сотрудников" : "Employee mapping")</h2>
            \(hint("useForRouting"))
            <div class="scroll"><table><thead><tr><th>\(ru ? "Пользователь Битрикс24" : "Bitrix24 user")</th><th>\(ru ? "Сотрудник АТС" : "PBX employee")</th><th></th></tr></thead>
            <tbody>\(mappingRows)</tbody></table></div>
            <p><button type="submit">\(ru ? "Сохранить" : "Save")</button></p>
            </form>
            """
        return page(l, title: title, body: body, status: problems.isEmpty ? .ok : .unprocessableContent,
                    csrf: s.csrf, email: s.email)
    }

    /// Reads the form into settings over `base` (what the form does not carry stays).
    static func b24Settings(from f: [String: String], base: B24Settings) -> B24Settings {
        var s = base
        func number(_ key: String) -> Int? { Int((f[key] ?? "").trimmingCharacters(in: .whitespaces)) }
        s.telephonyMode = B24Settings.TelephonyMode(rawValue: f["telephonyMode"] ?? "") ?? s.telephonyMode
        s.incoming.personalManager = f["incoming.personalManager"] == "1"
        s.incoming.createEntity = f["incoming.createEntity"] == "1"
        s.incoming.defaultResponsible = number("incoming.defaultResponsible")
        s.incoming.responsibleTalker = B24Settings.Talker(rawValue: f["incoming.responsibleTalker"] ?? "")
        s.outgoing.createEntity = f["outgoing.createEntity"] == "1"
        s.outgoing.defaultResponsible = number("outgoing.defaultResponsible")
        s.callTracking.enabled = f["callTracking.enabled"] == "1"
        s.callTracking.tags = B24Settings.CallTracking.knownTags.filter { f["callTracking.tag.\($0)"] == "1" }
        var byLine: [String: [String: String]] = [:]
        var row = 0
        while let raw = f["ct.\(row).line"] {
            var values: [String: String] = [:]
            for tag in B24Settings.CallTracking.knownTags {
                let v = (f["ct.\(row).\(tag)"] ?? "").trimmingCharacters(in: .whitespaces)
                if !v.isEmpty { values[tag] = v }
            }
            let typed = raw.trimmingCharacters(in: .whitespaces)
            // A number keeps its digits; what is not a number stays as typed, so its problem can name it.
            let digits = typed.filter(\.isNumber)
            let line = digits.count >= 5 ? digits : typed
            if !values.isEmpty { byLine[line, default: [:]].merge(values) { _, new in new } }
            row += 1
        }
        s.callTracking.byLine = byLine
        s.chatMessage = f["chatMessage"] == "1"
        let callerId = (f["callerId"] ?? "").trimmingCharacters(in: .whitespaces)
        s.clickToCall = ClickToCallSettings(callerId: callerId.isEmpty ? nil : callerId, overrideCallerId: f["overrideCallerId"] == "1")
        return s
    }

    func saveB24Settings(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")), integration.crm == .bitrix24,
              let connector = sb.connectors[.bitrix24] else {
            return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let base = (try? JSON.decode(B24Settings.self, from: JSON.string(integration.settings))) ?? B24Settings()
        let settings = Self.b24Settings(from: f, base: base)
        let json = try JSON.decode(JSONValue.self, from: JSON.string(settings))
        let problems = connector.settingsProblems(json)
        if !problems.isEmpty {
            return try await b24SettingsPage(req, ctx, s, draft: B24Draft(settings: settings, form: f), problems: problems)
        }
        let mappings: [EmployeeMapping]? = f.keys.contains { $0.hasPrefix("map.") }
            ? f.compactMap { key, value in
                guard key.hasPrefix("map."), !value.isEmpty else { return nil }
                let user = String(key.dropFirst(4))
                return EmployeeMapping(crmUserId: user, crmUserName: f["mapname.\(user)"] ?? "", employeeId: value,
                                       useForRouting: f["route.\(user)"] == "1")
            }
            : nil
        try await storeIntegration(integration, settings: json, form: f, tenantId: s.tenantId, mappings: mappings)
        return try await b24SettingsPage(req, ctx, s, saved: true)
    }
}
