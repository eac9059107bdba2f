import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// What a CRM's settings page reads before it draws: the integration, its credentials (the chosen set first from a
/// rejected form), the CRM's users through the connector (or why they cannot be read), the PBX's employees, the stored
/// mapping and the virtual numbers the PBX has seen.
struct SettingsPageData {
    var integration: Integration
    var title: String
    var credentials: [CRMCredential]
    var chosenCredential: String?
    var active: Bool
    var users: [CRMUserSummary]?
    var usersProblem: String?
    var employees: [Employee]
    var mappings: [EmployeeMapping]
    var seenLines: [String]

    var credential: CRMCredential? { credentials.first { $0.id == chosenCredential } }
}

extension Cabinet {
    /// The page's data for an integration of `crm`, or nil when the tenant has no such integration.
    func settingsPageData(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session, crm: CRMKind,
                          draft: [String: String]?) async throws -> SettingsPageData? {
        let ru = lang(req, s) == .ru
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")), integration.crm == crm else {
            return nil
        }
        let connector = sb.connectors[crm]
        let credentials = try await sb.credentials.list(tenantId: s.tenantId, crm: crm)
        let chosen = draft?["credentialId"].flatMap { $0.isEmpty ? nil : $0 } ?? integration.credentialId
        var users: [CRMUserSummary]?
        var usersProblem: String?
        if let c = credentials.first(where: { $0.id == chosen }) {
            if let read = connector?.users {
                do { users = try await read(c) } catch { usersProblem = lang(req, s).say(CRMFailure.phrase(of: error)) }
            }
        } else {
            usersProblem = ru ? "не выбраны учетные данные" : "no credentials chosen"
        }
        var seenLines: [String] = []
        if let connection = integration.pbxConnectionId { seenLines = try await sb.calls.lineNumbers(tenantId: s.tenantId, connectionId: connection) }
        return SettingsPageData(
            integration: integration, title: connector.map { ru ? $0.titleRU : $0.title } ?? crm.rawValue, credentials: credentials,
            chosenCredential: chosen, active: draft.map { $0["active"] == "1" } ?? integration.active, users: users,
            usersProblem: usersProblem, employees: try await sb.pbx.employees(tenantId: s.tenantId),
            mappings: try await sb.integrations.mappings(tenantId: s.tenantId, integrationId: integration.id), seenLines: seenLines)
    }

    /// A settings page's Save: the form read over the stored settings, checked with the connector's `settingsProblems`
    /// (a rejected form is drawn again with its problems beside their fields), stored through the shared path. A form
    /// `preview` says is not for storing (a page's own button) is drawn again as posted, with `preview` true.
    func saveCRMSettings<S: Codable & Sendable>(
        _ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session, crm: CRMKind, empty: S,
        read: ([String: String], S) -> S, preview: ([String: String]) -> Bool = { _ in false },
        draw: (_ settings: S?, _ form: [String: String]?, _ problems: [SettingsProblem], _ saved: Bool, _ preview: Bool) async throws -> Response
    ) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")), integration.crm == crm,
              let connector = sb.connectors[crm] else {
            return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let base = (try? JSON.decode(S.self, from: JSON.string(integration.settings))) ?? empty
        let settings = read(f, base)
        if preview(f) { return try await draw(settings, f, [], false, true) }
        let json = try JSON.decode(JSONValue.self, from: JSON.string(settings))
        let problems = connector.settingsProblems(json)
        if !problems.isEmpty { return try await draw(settings, f, problems, false, false) }
        try await storeIntegration(integration, settings: json, form: f, tenantId: s.tenantId, mappings: SettingsForm.mappings(f))
        return try await draw(nil, nil, [], true, false)
    }
}

/// The parts the Megaplan and MoySklad settings pages draw alike: toggles with the guide's hints and the settings they
/// open, fields, number lists, the CRM's users as a select (or a typed id when they cannot be read), the credentials,
/// the virtual-number table and the employee mapping; and, as statics, what their forms post, read back.
struct SettingsForm {
    let cabinet: Cabinet
    let l: Lang
    let hints: [String: (ru: String, en: String)]
    let problems: [SettingsProblem]

    var ru: Bool { l == .ru }
    func say(_ ru: String, _ en: String) -> String { self.ru ? ru : en }
    func hint(_ key: String) -> String { cabinet.hint(l, key, from: hints) }
    func problem(_ field: String) -> String { Cabinet.problems(problems, field, l) }
    func described(_ key: String) -> String { hints[key] == nil ? "" : " aria-describedby=\"hint-\(key)\"" }

    /// Hides the settings a toggle opens while it is off (the guides: "при её выборе выводятся дополнительные
    /// настройки"), unless they carry a problem.
    static let style = "<style>.toggle:has(>label.check input:not(:checked))>fieldset.more:not(:has(.error)){display:none}</style>"

    /// A toggle with its hint and problems; `more`, the settings it opens, in a fieldset under it.
    func toggle(_ name: String, _ on: Bool, _ label: String, more: String = "") -> String {
        let box = "<label class=\"check\"><span><input type=\"checkbox\" id=\"\(name)\" name=\"\(name)\" value=\"1\"\(on ? " checked" : "")\(described(name))> \(esc(label))</span>\(hint(name))</label>"
        guard !more.isEmpty else { return box + problem(name) }
        return "<div class=\"toggle\">\(box)\(problem(name))<fieldset class=\"more\"><legend>\(esc(label))</legend>\(more)</fieldset></div>"
    }

    func field(_ name: String, _ value: String?, _ label: String, mode: String? = nil, placeholder: String? = nil) -> String {
        "<label for=\"\(name)\">\(esc(label))<input id=\"\(name)\" name=\"\(name)\" value=\"\(esc(value))\"\(mode.map { " inputmode=\"\($0)\"" } ?? "")"
            + "\(placeholder.map { " placeholder=\"\(esc($0))\"" } ?? "")\(described(name))>\(hint(name))</label>\(problem(name))"
    }

    /// Phone numbers, one a line.
    func numbers(_ name: String, _ values: [String], _ label: String) -> String {
        "<label for=\"\(name)\">\(esc(label))<textarea id=\"\(name)\" name=\"\(name)\" rows=\"3\" inputmode=\"tel\"\(described(name))>"
            + "\(esc(values.joined(separator: "\n")))</textarea>\(hint(name))</label>\(problem(name))"
    }

    func select(_ name: String, _ options: [(value: String, label: String)], _ selected: String?, _ label: String) -> String {
        let list = options.map { "<option value=\"\(esc($0.value))\"\($0.value == (selected ?? "") ? " selected" : "")>\(esc($0.label))</option>" }.joined()
        return "<label for=\"\(name)\">\(esc(label))<select id=\"\(name)\" name=\"\(name)\"\(described(name))>\(list)</select>\(hint(name))</label>\(problem(name))"
    }

    /// A CRM user: `fixed` choices first, then the CRM's active users (and the one chosen); when the users cannot be
    /// read, the fixed choices and a field for the user's id (`<name>.id`, read by `SettingsForm.user`).
    func user(_ name: String, _ selected: String?, _ users: [CRMUserSummary]?, _ label: String,
              fixed: [(value: String, label: String)] = [], idPlaceholder: String) -> String {
        let isFixed = fixed.contains { $0.value == selected ?? "" }
        guard let users else {
            let choice = fixed.isEmpty ? "" : select(name, fixed + [("", say("Сотрудник по ID", "A user by id"))], isFixed ? selected : "", label)
            let id = isFixed ? nil : selected
            return choice + "<label for=\"\(name).id\">\(esc(fixed.isEmpty ? label : say("ID сотрудника", "User id")))"
                + "<input id=\"\(name).id\" name=\"\(name).id\" value=\"\(esc(id))\" placeholder=\"\(esc(idPlaceholder))\"\(described(name))>"
                + "\(fixed.isEmpty ? hint(name) : "")</label>\(fixed.isEmpty ? problem(name) : "")"
        }
        var options = fixed.isEmpty ? [("", "—")] : fixed
        if let selected, !isFixed, !selected.isEmpty, !users.contains(where: { $0.id == selected }) { options.append((selected, "#\(selected)")) }
        options += users.filter { $0.active || $0.id == selected }.map { ($0.id, $0.name + ($0.extension_.map { " (\($0))" } ?? "")) }
        return select(name, options, selected, label)
    }

    /// The integration's credentials, a link to add or change them, and why the CRM's users cannot be read.
    func credentials(_ d: SettingsPageData, addURL: String, usersLabel: (ru: String, en: String)) -> String {
        let options = (d.chosenCredential == nil ? "<option value=\"\">—</option>" : "") + d.credentials.map {
            "<option value=\"\($0.id)\"\(d.chosenCredential == $0.id ? " selected" : "")>\(esc($0.name.isEmpty ? $0.baseURL : $0.name)) — \(esc($0.baseURL)) · \(esc($0.state.map { l.say($0.phrase) } ?? $0.status))</option>"
        }.joined()
        let unread = d.usersProblem.map {
            "<p class=\"error\" role=\"alert\">\(esc(ru ? usersLabel.ru : usersLabel.en)): \(esc($0)). \(say("Сотрудника можно указать его ID.", "Enter a user by their id."))</p>"
        } ?? ""
        return """
            <label for="credentialId">\(say("Аккаунт", "Account"))<select id="credentialId" name="credentialId">\(options)</select></label>
            <p><a href="\(esc(addURL))">\(say("Добавить учетные данные или изменить их", "Add or change credentials"))</a></p>\(unread)
            """
    }

    /// Values per virtual number (`<prefix>.<row>.line` and `<prefix>.<row>.<attribute>`): the numbers so far, the lines
    /// the PBX has seen, one blank row.
    func byLine(_ prefix: String, _ values: [String: [String: String]], attributes: [(key: String, label: String)], seen: [String],
                legend: String, field: String) -> String {
        var lines = values.keys.sorted()
        for line in seen where !lines.contains(where: { $0.filter(\.isNumber).suffix(10) == line.filter(\.isNumber).suffix(10) }) { lines.append(line) }
        lines.append("")
        let rows = lines.enumerated().map { i, line in
            "<tr><td><input id=\"\(prefix).\(i).line\" name=\"\(prefix).\(i).line\" inputmode=\"tel\" aria-label=\"\(say("Виртуальный номер", "Virtual number"))\" value=\"\(esc(line))\"></td>"
                + attributes.map { a in
                    "<td><input id=\"\(prefix).\(i).\(a.key)\" name=\"\(prefix).\(i).\(a.key)\" aria-label=\"\(esc(a.label))\" value=\"\(esc(values[line]?[a.key]))\"></td>"
                }.joined() + "</tr>"
        }.joined()
        return """
            <fieldset><legend>\(esc(legend))</legend><div class="scroll"><table><thead><tr><th>\(say("Виртуальный номер", "Virtual number"))</th>\(attributes.map { "<th>\(esc($0.label))</th>" }.joined())</tr></thead>
            <tbody>\(rows)</tbody></table></div>\(problem(field))</fieldset>
            """
    }

    /// The employee mapping: a row per CRM user (the active ones and anyone mapped; the mapped ones alone when the users
    /// cannot be read) with the PBX employee chosen for it. `proposed` (CRM user → employee) fills the rows it names.
    func mapping(_ d: SettingsPageData, draft: [String: String]?, proposed: [String: String] = [:], crmColumn: String) -> String {
        let mappedOnly = d.mappings.filter { m in !(d.users ?? []).contains { $0.id == m.crmUserId } }
        let rows = (d.users ?? []).filter { u in u.active || d.mappings.contains { $0.crmUserId == u.id } }.map { ($0.id, $0.name, $0.extension_) }
            + mappedOnly.map { ($0.crmUserId, $0.crmUserName.isEmpty ? "#\($0.crmUserId)" : $0.crmUserName, nil as String?) }
        let html = rows.map { id, name, inner in
            let current = proposed[id] ?? draft.map { $0["map.\(id)"] } ?? d.mappings.first { $0.crmUserId == id }?.employeeId
            let options = "<option value=\"\">—</option>" + d.employees.map {
                "<option value=\"\($0.id)\"\(current == $0.id ? " selected" : "")>\(esc($0.name)) (\(esc($0.login))\($0.extension_.map { ", \(esc($0))" } ?? ""))</option>"
            }.joined()
            return """
                <tr><td><label for="map.\(esc(id))">\(esc(name))\(inner.map { " <small>(\(esc($0)))</small>" } ?? "")</label><input type="hidden" name="mapname.\(esc(id))" value="\(esc(name))"></td>
                <td><select id="map.\(esc(id))" name="map.\(esc(id))">\(options)</select></td></tr>
                """
        }.joined()
        return """
            <div class="scroll"><table><thead><tr><th>\(esc(crmColumn))</th><th>\(say("Сотрудник АТС", "PBX employee"))</th></tr></thead>
            <tbody>\(html)</tbody></table></div>
            """
    }

    // MARK: reading the form

    static func text(_ f: [String: String], _ key: String) -> String? {
        let v = (f[key] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return v.isEmpty ? nil : v
    }

    /// A number list: one a line (commas and semicolons part them too), blanks left out.
    static func numbers(_ f: [String: String], _ key: String) -> [String] {
        (f[key] ?? "").split(whereSeparator: { "\n\r,;".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// A user drawn by `SettingsForm.user`: the typed id when one was typed, else the choice; nil for none.
    static func user(_ f: [String: String], _ key: String) -> String? { text(f, key + ".id") ?? text(f, key) }

    /// Rows drawn by `byLine`: a number keeps its digits (what is not a number stays as typed, so its problem can name
    /// it); rows with no value are left out.
    static func byLine(_ f: [String: String], _ prefix: String, attributes: [String]) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var row = 0
        while let raw = f["\(prefix).\(row).line"] {
            var values: [String: String] = [:]
            for a in attributes { if let v = text(f, "\(prefix).\(row).\(a)") { values[a] = v } }
            let typed = raw.trimmingCharacters(in: .whitespaces)
            let digits = typed.filter(\.isNumber)
            if !values.isEmpty { out[digits.count >= 5 ? digits : typed, default: [:]].merge(values) { _, new in new } }
            row += 1
        }
        return out
    }

    /// The mapping the form posted (`map.<CRM user>` = employee), or nil when it had no mapping table.
    static func mappings(_ f: [String: String]) -> [EmployeeMapping]? {
        guard f.keys.contains(where: { $0.hasPrefix("map.") }) else { return nil }
        return f.compactMap { key, value in
            guard key.hasPrefix("map."), !value.isEmpty else { return nil }
            let user = String(key.dropFirst(4))
            return EmployeeMapping(crmUserId: user, crmUserName: f["mapname.\(user)"] ?? "", employeeId: value)
        }.sorted { $0.crmUserId < $1.crmUserId }
    }

    /// CRM user → PBX employee where their extensions agree (the guides' "sync telephony settings from the CRM").
    static func byExtension(users: [CRMUserSummary]?, employees: [Employee]) -> [String: String] {
        var out: [String: String] = [:]
        for u in users ?? [] where u.active {
            guard let ext = u.extension_, !ext.isEmpty, let e = employees.first(where: { $0.extension_ == ext }) else { continue }
            out[u.id] = e.id
        }
        return out
    }
}
