import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// The PBX page: what to paste into the PBX, its employees and virtual numbers, the last events (the "test"),
/// and the forms to add or change a connection, add, import or remove employees.
extension Cabinet {
    func registerPBX(on router: Router<AppRequestContext>) {
        router.get("cabinet/pbx") { req, _ in try await authed(req) { try await pbxPage(req, $0, message: nil) } }
        router.post("cabinet/pbx") { req, _ in try await authed(req) { try await createPBX(req, $0) } }
        router.post("cabinet/pbx/:id") { req, ctx in try await authed(req) { try await pbxAction(req, ctx, $0) } }
        router.post("cabinet/employees/:id/delete") { req, ctx in
            try await authed(req) { s in
                guard try await checkedForm(req, s) != nil else { return forbidden(req) }
                _ = try await connectionService.deleteEmployee(tenantId: s.tenantId, id: try ctx.param("id"))
                return redirect("/cabinet/pbx")
            }
        }
    }

    var connectionService: ConnectionService { ConnectionService(sb: sb) }

    /// A service's refusal on the PBX page, in the tenant's language.
    func pbxRefusal(_ req: Request, _ s: SessionStore.Session, _ e: ServiceError) async throws -> Response {
        try await pbxPage(req, s, message: (false, lang(req, s).say(e.phrase, else: e.message)), status: e.status)
    }

    /// The fields of a connection form, checked (the outbound policy is `ConnectionService`'s); `nil` values mean "keep".
    struct PBXForm {
        var name: String
        var apiURL: String?
        var apiKey: String?
        var flavor: String
        var deadlineMs: Int

        static func parse(_ f: [String: String], ru: Bool) -> Result<PBXForm, PBXFormError> {
            let name = (f["name"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { return .failure(PBXFormError(field: "name", text: ru ? "Укажите название" : "Name is required")) }
            var url = (f["apiURL"] ?? "").trimmingCharacters(in: .whitespaces)
            if url.hasSuffix("/") { url.removeLast() }
            if !url.isEmpty {
                guard let c = URLComponents(string: url), let scheme = c.scheme, ["http", "https"].contains(scheme),
                      let host = c.host, !host.isEmpty else {
                    return .failure(PBXFormError(field: "apiURL", text: ru ? "Адрес API АТС — это https://домен-атс"
                                                                                : "The PBX API address looks like https://pbx-domain"))
                }
            }
            let flavor = f["apiFlavor"] ?? "legacy"
            guard PBXConnection.apiFlavors.contains(flavor) else {
                return .failure(PBXFormError(field: "apiFlavor", text: ru ? "Версия API: legacy или v1" : "API version is legacy or v1"))
            }
            guard let deadline = Int(f["routingDeadlineMs"] ?? "1500"), PBXConnection.routingDeadlineRange.contains(deadline) else {
                return .failure(PBXFormError(field: "routingDeadlineMs",
                                             text: ru ? "Время на ответ о менеджере — от 100 до 10000 мс"
                                                      : "The routing deadline is 100 to 10000 ms"))
            }
            let key = (f["apiKey"] ?? "").trimmingCharacters(in: .whitespaces)
            return .success(PBXForm(name: name, apiURL: url.isEmpty ? nil : url, apiKey: key.isEmpty ? nil : key,
                                    flavor: flavor, deadlineMs: deadline))
        }
    }

    struct PBXFormError: Error {
        var field: String
        var text: String
    }

    func createPBX(_ req: Request, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        let ru = lang(req, s) == .ru
        switch PBXForm.parse(f, ru: ru) {
        case .failure(let e):
            return try await pbxPage(req, s, message: (false, e.text), status: .unprocessableContent)
        case .success(let form):
            let served = PBXRegistry.live
            let proto = served.adapter(for: PBXProtocol(f["protocol"] ?? ""))?.id ?? served.all[0].id
            do {
                _ = try await connectionService.create(tenantId: s.tenantId, name: form.name, protocol: proto, apiURL: form.apiURL,
                                                       apiKey: form.apiKey, apiFlavor: form.flavor, routingDeadlineMs: form.deadlineMs,
                                                       region: nil)
            } catch let e as ServiceError {
                return try await pbxRefusal(req, s, e)
            }
            return redirect("/cabinet/pbx")
        }
    }

    func pbxAction(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        let ru = lang(req, s) == .ru
        guard let c = try await sb.pbx.get(tenantId: s.tenantId, id: try ctx.param("id")) else {
            return try await pbxPage(req, s, message: (false, "404"), status: .notFound)
        }
        switch f["action"] {
        case "delete":
            _ = try await connectionService.delete(tenantId: s.tenantId, id: c.id)
            return redirect("/cabinet/pbx")
        case "employee":
            let login = (f["login"] ?? "").trimmingCharacters(in: .whitespaces)
            guard !login.isEmpty else {
                return try await pbxPage(req, s, message: (false, ru ? "Укажите логин сотрудника в АТС" : "The employee's PBX login is required"),
                                         status: .unprocessableContent)
            }
            func opt(_ k: String) -> String? {
                let v = (f[k] ?? "").trimmingCharacters(in: .whitespaces)
                return v.isEmpty ? nil : v
            }
            _ = try await connectionService.saveEmployee(tenantId: s.tenantId, connectionId: c.id, login: login, extension_: opt("extension"),
                                                         name: opt("employeeName") ?? login, email: opt("email"),
                                                         directNumber: opt("directNumber"))
            return redirect("/cabinet/pbx")
        case "import":
            // The PBX's own list of employees (ITooLabs `accounts`), added or updated by login.
            let count: Int
            do {
                count = try await connectionService.importEmployees(tenantId: s.tenantId, connection: c)
            } catch ServiceError.conflict {
                return try await pbxPage(req, s, message: (false, ru ? "Укажите адрес API АТС и ключ, чтобы загрузить сотрудников"
                                                                    : "Set the PBX API address and key to import employees"),
                                         status: .conflict)
            } catch ServiceError.upstream(let why, _) {
                return try await pbxPage(req, s, message: (false, (ru ? "АТС не отдала список сотрудников: " : "The PBX did not list its employees: ")
                                                              + why.text(ru ? .ru : .en)), status: .badGateway)
            }
            return try await pbxPage(req, s, message: (true, ru ? "Загружено сотрудников: \(count)" : "Employees imported: \(count)"))
        default:
            switch PBXForm.parse(f, ru: ru) {
            case .failure(let e):
                return try await pbxPage(req, s, message: (false, e.text), status: .unprocessableContent)
            case .success(let form):
                do {
                    _ = try await connectionService.update(tenantId: s.tenantId, id: c.id, name: form.name, apiURL: form.apiURL ?? "",
                                                           apiKey: form.apiKey, apiFlavor: form.flavor,
                                                           routingDeadlineMs: form.deadlineMs, region: nil)
                } catch let e as ServiceError {
                    return try await pbxRefusal(req, s, e)
                }
                return redirect("/cabinet/pbx")
            }
        }
    }

    func pbxPage(_ req: Request, _ s: SessionStore.Session, message: (ok: Bool, text: String)?,
                 status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = lang(req, s)
        let ru = l == .ru
        let csrf = "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
        var body = "<h1>\(l.t("pbx"))</h1>"
        if let message {
            body += "<p class=\"\(message.ok ? "badge ok" : "error")\" role=\"status\">\(esc(message.text))</p>"
        }
        func fields(_ c: PBXConnection?, prefix: String) -> String {
            let flavor = c?.apiFlavor ?? "legacy"
            return """
            <label for="\(prefix)name">\(ru ? "Название" : "Name")<input id="\(prefix)name" name="name" required value="\(esc(c?.name))"></label>
            <label for="\(prefix)apiURL">\(ru ? "Адрес API АТС (для звонков из CRM и загрузки сотрудников)" : "PBX API address (for click-to-call and importing employees)")
              <input id="\(prefix)apiURL" name="apiURL" type="url" placeholder="https://pbx-domain" value="\(esc(c?.apiURL))"></label>
            <label for="\(prefix)apiKey">\(ru ? "Ключ API АТС" : "PBX API key")<input id="\(prefix)apiKey" name="apiKey" type="password"
              autocomplete="off" placeholder="\(c?.hasAPIKey == true ? (ru ? "сохранён — оставьте пустым, чтобы не менять" : "stored — leave empty to keep") : "")"></label>
            <label for="\(prefix)apiFlavor">\(ru ? "Версия API" : "API version")<select id="\(prefix)apiFlavor" name="apiFlavor">
              <option value="legacy"\(flavor == "legacy" ? " selected" : "")>legacy (/sys/crm_api.wcgp)</option>
              <option value="v1"\(flavor == "v1" ? " selected" : "")>crmapi/v1</option></select></label>
            <label for="\(prefix)routingDeadlineMs">\(ru ? "Время на ответ о персональном менеджере, мс" : "Personal-manager answer deadline, ms")
              <input id="\(prefix)routingDeadlineMs" name="routingDeadlineMs" type="number" min="100" max="10000" step="100"
              value="\(c?.routingDeadlineMs ?? 1500)"></label>
            """
        }
        for c in try await sb.pbx.list(tenantId: s.tenantId) {
            let secret = try await sb.pbx.inboundSecret(connectionId: c.id) ?? ""
            let path = PBXRegistry.live.webhookPath(for: c)
            let employees = try await sb.pbx.employees(tenantId: s.tenantId, connectionId: c.id).map { e in
                """
                <tr><td>\(esc(e.name))</td><td>\(esc(e.login))</td><td>\(esc(e.extension_))</td><td>\(esc(e.email))</td>
                <td><form method="post" action="/cabinet/employees/\(esc(e.id))/delete" class="inline">\(csrf)
                <button type="submit" aria-label="\(ru ? "Удалить" : "Remove") \(esc(e.login))">\(ru ? "Удалить" : "Remove")</button></form></td></tr>
                """
            }.joined()
            let lines = try await sb.calls.lineNumbers(tenantId: s.tenantId, connectionId: c.id).map { "<li>\(esc($0))</li>" }.joined()
            let recent = try await sb.calls.recentEvents(tenantId: s.tenantId, connectionId: c.id, limit: 10).map {
                "<tr><td>\(Self.time($0.receivedAt))</td><td>\(esc($0.event.providerType))</td><td>\(esc($0.event.clientNumberRaw))</td><td>\(esc($0.event.employeeLogin))</td></tr>"
            }.joined()
            let p = "c\(c.id)-"
            body += """
            <section class="card" aria-label="\(esc(c.name))"><h2>\(esc(c.name)) <span class="badge">\(esc(c.protocol.rawValue))</span></h2>
            <p>\(l.t("pbx.url")): <code>\(esc(sb.baseURL))/\(esc(path))</code></p>
            <p>\(l.t("pbx.token")): <code>\(esc(secret))</code></p>
            <details><summary>⚙ \(ru ? "Настройки подключения" : "Connection settings")</summary>
            <form method="post" action="/cabinet/pbx/\(esc(c.id))">\(csrf)\(fields(c, prefix: p))
              <button type="submit" name="action" value="save">\(ru ? "Сохранить" : "Save")</button>
              <button type="submit" name="action" value="delete" class="danger">\(ru ? "Удалить подключение" : "Delete connection")</button>
            </form></details>
            <h3>\(l.t("pbx.employees"))</h3>
            \(employees.isEmpty ? "<p>\(ru ? "Сотрудников пока нет." : "No employees yet.")</p>" : """
            <div class="scroll"><table><thead><tr><th>\(ru ? "Имя" : "Name")</th><th>\(ru ? "Логин" : "Login")</th>
            <th>\(ru ? "Внутренний номер" : "Extension")</th><th>E-mail</th><th></th></tr></thead><tbody>\(employees)</tbody></table></div>
            """)
            <form method="post" action="/cabinet/pbx/\(esc(c.id))" class="inline">\(csrf)
              <button type="submit" name="action" value="import">\(ru ? "Загрузить сотрудников из АТС" : "Import employees from the PBX")</button></form>
            <details><summary>\(ru ? "Добавить сотрудника" : "Add an employee")</summary>
            <form method="post" action="/cabinet/pbx/\(esc(c.id))">\(csrf)<input type="hidden" name="action" value="employee">
              <label for="\(p)login">\(ru ? "Логин в АТС" : "PBX login")<input id="\(p)login" name="login" required></label>
              <label for="\(p)employeeName">\(ru ? "Имя" : "Name")<input id="\(p)employeeName" name="employeeName"></label>
              <label for="\(p)extension">\(ru ? "Внутренний номер" : "Extension")<input id="\(p)extension" name="extension" inputmode="numeric"></label>
              <label for="\(p)email">E-mail<input id="\(p)email" name="email" type="email"></label>
              <label for="\(p)directNumber">\(ru ? "Прямой номер" : "Direct number")<input id="\(p)directNumber" name="directNumber" inputmode="tel"></label>
              <button type="submit">\(ru ? "Добавить" : "Add")</button>
            </form></details>
            <h3>\(l.t("pbx.lines"))</h3>\(lines.isEmpty ? "<p>—</p>" : "<ul>\(lines)</ul>")
            <h3>\(l.t("pbx.last"))</h3>\(recent.isEmpty ? "<p>\(l.t("pbx.none"))</p>" : "<div class=\"scroll\"><table><tbody>\(recent)</tbody></table></div>")
            </section>
            """
        }
        let protocolOptions = PBXRegistry.live.all.map { a in
            "<option value=\"\(esc(a.id.rawValue))\">\(esc(ru ? a.titleRU : a.title))</option>"
        }.joined(separator: "\n    ")
        body += """
        <section class="card"><h2>\(ru ? "Новое подключение АТС" : "New PBX connection")</h2>
        <form method="post" action="/cabinet/pbx">\(csrf)
          <label for="new-protocol">\(ru ? "Протокол" : "Protocol")<select id="new-protocol" name="protocol">
            \(protocolOptions)</select></label>
          \(fields(nil, prefix: "new-"))
          <button type="submit">\(ru ? "Добавить подключение" : "Add connection")</button>
        </form></section>
        """
        return page(l, title: l.t("pbx"), body: body, status: status, csrf: s.csrf, email: s.email)
    }
}
