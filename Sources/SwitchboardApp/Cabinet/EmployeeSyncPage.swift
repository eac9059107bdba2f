import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// CORE-14 in the cabinet, for every CRM that lists its users: choose the CRM users to bring into the PBX as employees
/// (matched by mapping or e-mail), switch the two-hourly sync on, or synchronise now and read what changed.
extension Cabinet {
    func registerEmployeeSync(on router: Router<AppRequestContext>) {
        router.get("cabinet/integrations/:id/employees") { req, ctx in
            try await authed(req) { s in try await employeeSyncPage(req, ctx, s, message: nil) }
        }
        router.post("cabinet/integrations/:id/employees") { req, ctx in
            try await authed(req) { s in
                guard let form = try await checkedForm(req, s) else { return forbidden(req) }
                guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")) else {
                    return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
                }
                let ru = lang(req, s) == .ru
                let chosen = form.keys.filter { $0.hasPrefix("user.") && form[$0] == "1" }.map { String($0.dropFirst(5)) }.sorted()
                let settings = EmployeeSync.Settings(enabled: form["enabled"] == "1", userIds: chosen)
                let mappings = MappingService(sb: sb)
                guard let saved = try await mappings.saveSync(integration, settings) else { return forbidden(req) }
                guard form["action"] == "sync" else {
                    return try await employeeSyncPage(req, ctx, s, message: (true, ru ? "Сохранено" : "Saved"))
                }
                do {
                    let r = try await mappings.sync(saved)
                    let text = ru
                        ? "Синхронизировано: создано \(r.created.count), обновлено \(r.updated.count), сопоставлено \(r.mapped.count), "
                            + "без изменений \(r.unchanged)" + (r.skipped.isEmpty ? "" : "; пропущено: \(r.skipped.joined(separator: ", "))")
                        : "Synchronised: " + r.summary
                    return try await employeeSyncPage(req, ctx, s, message: (true, text))
                } catch {
                    return try await employeeSyncPage(req, ctx, s, message: (false, lang(req, s).say(CRMFailure.phrase(of: error))))
                }
            }
        }
    }

    func employeeSyncPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session,
                          message: (ok: Bool, text: String)?) async throws -> Response {
        let l = lang(req, s), ru = l == .ru
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")),
              let connector = sb.connectors[integration.crm] else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let settings = EmployeeSync.Settings.of(integration)
        var rows = "", problem = ""
        if let listUsers = connector.users, let id = integration.credentialId,
           let credential = try await sb.credentials.get(tenantId: s.tenantId, id: id) {
            do {
                for u in try await listUsers(credential) where u.active || settings.userIds.contains(u.id) {
                    let checked = settings.userIds.contains(u.id) ? " checked" : ""
                    rows += """
                    <tr><td><input type="checkbox" id="user.\(esc(u.id))" name="user.\(esc(u.id))" value="1"\(checked)></td>
                    <td><label for="user.\(esc(u.id))">\(esc(u.name))</label></td><td>\(esc(u.email))</td><td>\(esc(u.extension_))</td></tr>
                    """
                }
            } catch {
                problem = ru ? "Пользователи CRM не прочитаны: \(esc(l.say(CRMFailure.phrase(of: error))))" : "The CRM's users could not be read: \(esc("\(error)"))"
            }
        } else {
            problem = ru ? "Выберите учётные данные CRM, которая умеет отдавать список пользователей."
                         : "Choose credentials of a CRM that can list its users."
        }
        let note = message.map { "<p class=\"\($0.ok ? "ok" : "bad")\" role=\"status\">\(esc($0.text))</p>" } ?? ""
        let body = """
        <h1>\(ru ? "Синхронизация сотрудников" : "Employee sync") — \(esc(integration.name))</h1>
        <p><a href="/cabinet/integrations/\(esc(integration.id))">\(ru ? "← к настройкам интеграции" : "← integration settings")</a></p>
        <p>\(ru ? "Выбранные сотрудники CRM создаются сотрудниками АТС и сопоставляются с собой; связь — по e-mail. По умолчанию синхронизация идёт каждые 2 часа."
                : "The chosen CRM users become PBX employees mapped to themselves, matched by e-mail; the sync runs every two hours.")</p>
        \(note)\(problem.isEmpty ? "" : "<p class=\"bad\">\(problem)</p>")
        <form method="post">
          <input type="hidden" name="csrf" value="\(esc(s.csrf))">
          <label><input type="checkbox" name="enabled" value="1"\(settings.enabled ? " checked" : "")> \(ru ? "Синхронизировать сотрудников" : "Synchronise employees")</label>
          <table><thead><tr><th></th><th>\(ru ? "Сотрудник" : "User")</th><th>E-mail</th><th>\(ru ? "Внутренний номер" : "Extension")</th></tr></thead>
          <tbody>\(rows)</tbody></table>
          <button name="action" value="save">\(ru ? "Сохранить" : "Save")</button>
          <button name="action" value="sync">\(ru ? "Синхронизировать" : "Synchronise now")</button>
        </form>
        """
        return page(l, title: ru ? "Синхронизация сотрудников" : "Employee sync", body: body,
                    status: message?.ok == false ? .unprocessableContent : .ok, csrf: s.csrf, email: s.email)
    }
}
