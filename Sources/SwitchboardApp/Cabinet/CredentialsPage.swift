import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// CORE-1 in the cabinet: amoCRM credential sets: add (long-lived token or OAuth), edit under the gear,
/// delete, test, connect through OAuth. Secrets are write-only: a form never shows them back.
extension Cabinet {
    func registerCredentials(on router: Router<AppRequestContext>) {
        router.get("cabinet/credentials") { req, _ in try await authed(req) { try await credentialsPage(req, $0, message: nil) } }
        router.post("cabinet/credentials") { req, _ in try await authed(req) { try await createCredential(req, $0) } }
        router.post("cabinet/credentials/:id") { req, ctx in try await authed(req) { try await credentialAction(req, ctx, $0) } }
    }

    func credentialsPage(_ req: Request, _ s: SessionStore.Session, message: (ok: Bool, text: String)?,
                         status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = lang(req, s)
        let ru = l == .ru
        var rows = ""
        for c in try await sb.credentials.list(tenantId: s.tenantId, crm: .amocrm) {
            let badge = c.status == "ok" ? "ok" : (c.status == "unchecked" ? "" : "bad")
            let connect = c.authKind == .oauth
                ? "<button name=\"action\" value=\"oauth\">\(ru ? "Подключить через amoCRM" : "Connect with amoCRM")</button>" : ""
            rows += """
            <section class="card"><h2>\(esc(c.name.isEmpty ? c.baseURL : c.name))</h2>
            <p><code>\(esc(c.baseURL))</code> · \(c.authKind == .oauth ? "OAuth" : (ru ? "долгосрочный токен" : "long-lived token"))
            · <span class="badge \(badge)">\(esc(l.say(c.status)))</span> \(esc(c.statusDetail.map(l.say)))</p>
            <form method="post" action="/cabinet/credentials/\(c.id)"><input type="hidden" name="csrf" value="\(esc(s.csrf))">
              <button name="action" value="test">\(ru ? "Проверить подключение" : "Test connection")</button> \(connect)
              <details><summary aria-label="\(ru ? "Изменить" : "Edit")">⚙ \(ru ? "Изменить" : "Edit")</summary>
                <label for="name-\(c.id)">\(ru ? "Название" : "Name")<input id="name-\(c.id)" name="name" value="\(esc(c.name))"></label>
                <label for="url-\(c.id)">AmoCRM URL<input id="url-\(c.id)" name="baseURL" value="\(esc(c.baseURL))" required></label>
                \(c.authKind == .token ? "<label for=\"token-\(c.id)\">\(ru ? "Новый токен (необязательно)" : "New token (optional)")<input id=\"token-\(c.id)\" name=\"token\" type=\"password\" autocomplete=\"off\"></label>" : "")
                <button name="action" value="save">\(ru ? "Сохранить" : "Save")</button>
                <button name="action" value="delete" class="danger">\(ru ? "Удалить" : "Delete")</button>
              </details>
            </form></section>
            """
        }
        let body = """
            <h1>\(ru ? "Учетные данные amoCRM" : "amoCRM credentials")</h1>
            \(message.map { "<p class=\"\($0.ok ? "badge ok" : "error")\" role=\"status\">\(esc(l.say($0.text)))</p>" } ?? "")
            <div class="cards">\(rows)</div>
            <h2>\(ru ? "Добавить учетные данные" : "Add credentials")</h2>
            <form method="post" action="/cabinet/credentials" class="settings"><input type="hidden" name="csrf" value="\(esc(s.csrf))">
              <label for="new-name">\(ru ? "Название (необязательно)" : "Name (optional)")<input id="new-name" name="name"></label>
              <label for="new-url">AmoCRM URL<input id="new-url" name="baseURL" placeholder="https://example.amocrm.ru" required></label>
              <label for="new-kind">\(ru ? "Способ подключения" : "How to connect")<select id="new-kind" name="authKind">
                <option value="token">\(ru ? "Долгосрочный токен" : "Long-lived token")</option><option value="oauth">OAuth</option></select></label>
              <label for="new-token">\(ru ? "Долгосрочный токен" : "Long-lived token")<input id="new-token" name="token" type="password" autocomplete="off"></label>
              <p><button type="submit">\(ru ? "Добавить" : "Add")</button></p>
            </form>
            """
        return page(l, title: ru ? "Учетные данные" : "Credentials", body: body, status: status, csrf: s.csrf, email: s.email)
    }

    func createCredential(_ req: Request, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        let ru = lang(req, s) == .ru
        let url: String
        do { url = try AccountURL.normalize(f["baseURL"] ?? "", policy: sb.config.outboundPolicy) } catch {
            return try await credentialsPage(req, s, message: (false, error.description), status: .unprocessableContent)
        }
        let kind: CRMAuthKind = f["authKind"] == "oauth" ? .oauth : .token
        let token = (f["token"] ?? "").trimmingCharacters(in: .whitespaces)
        if kind == .token && token.isEmpty {
            return try await credentialsPage(req, s, message: (false, ru ? "Вставьте долгосрочный токен" : "Paste the long-lived token"),
                                             status: .unprocessableContent)
        }
        _ = try await sb.credentials.create(tenantId: s.tenantId, crm: .amocrm, name: f["name"] ?? "", baseURL: url, authKind: kind,
                                            secret: kind == .token ? CRMSecret(token: token) : CRMSecret())
        return redirect("/cabinet/credentials")
    }

    func credentialAction(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        let ru = lang(req, s) == .ru
        guard let c = try await sb.credentials.get(tenantId: s.tenantId, id: try ctx.param("id")) else {
            return try await credentialsPage(req, s, message: (false, "404"), status: .notFound)
        }
        switch f["action"] {
        case "test":
            let result = await AmoRoutes.check(sb, c)
            return try await credentialsPage(req, s, message: (result.ok, result.message), status: result.ok ? .ok : .unprocessableContent)
        case "oauth":
            guard let oauth = sb.amoOAuth else {
                return try await credentialsPage(req, s, message: (false, ru ? "OAuth-приложение amoCRM не настроено в этой установке"
                                                                         : "This installation has no amoCRM OAuth application"),
                                                 status: .conflict)
            }
            if let refusal = AmoOAuthApp.refusal(accountURL: c.baseURL, policy: sb.config.outboundPolicy) {
                return try await credentialsPage(req, s, message: (false, refusal), status: .unprocessableContent)
            }
            return redirect(AmoRoutes.authorizeURL(sb, oauth, c))
        case "delete":
            _ = try await sb.credentials.delete(tenantId: s.tenantId, id: c.id)
            return redirect("/cabinet/credentials")
        default:
            let url: String
            do { url = try AccountURL.normalize(f["baseURL"] ?? c.baseURL, policy: sb.config.outboundPolicy) } catch {
                return try await credentialsPage(req, s, message: (false, error.description), status: .unprocessableContent)
            }
            let token = (f["token"] ?? "").trimmingCharacters(in: .whitespaces)
            if let field = SecretPinning.missingField(c, newURL: url, secret: token.isEmpty ? nil : CRMSecret(token: token)) {
                return try await credentialsPage(req, s, message: (false, SecretPinning.message(field: field)), status: .unprocessableContent)
            }
            _ = try await sb.credentials.update(tenantId: s.tenantId, id: c.id, name: f["name"], baseURL: url,
                                                secret: token.isEmpty ? nil : CRMSecret(token: token))
            return redirect("/cabinet/credentials")
        }
    }
}
