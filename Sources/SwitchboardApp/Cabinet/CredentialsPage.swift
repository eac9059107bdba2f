import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// CORE-1 in the cabinet: every served CRM's credential sets, one tab per CRM of the connector registry: add, edit
/// under the gear, delete, test (the connector's check), and what the CRM's own form adds (its secret fields, buttons,
/// the addresses to paste into the CRM). Secrets are write-only: a form never shows them back.
extension Cabinet {
    func registerCredentials(on router: Router<AppRequestContext>) {
        router.get("cabinet/credentials") { req, _ in
            try await authed(req) { try await credentialsPage(req, $0, crm: req.uri.queryParameters["crm"].map { CRMKind(String($0)) }, message: nil) }
        }
        router.post("cabinet/credentials") { req, _ in try await authed(req) { try await createCredential(req, $0) } }
        router.post("cabinet/credentials/:id") { req, ctx in try await authed(req) { try await credentialAction(req, ctx, $0) } }
    }

    var credentialService: CredentialService { CredentialService(sb: sb) }

    /// The form of a CRM the registry serves (the first one when none or an unknown one is asked for).
    func credentialForm(_ crm: CRMKind?) -> CredentialForm? {
        guard let connector = crm.flatMap({ sb.connectors[$0] }) ?? sb.connectors.all.first else { return nil }
        return Self.crmPages[connector.kind]?.credentials ?? .plain(connector)
    }

    func credentialsURL(_ crm: CRMKind) -> String {
        crm == sb.connectors.all.first?.kind ? "/cabinet/credentials" : "/cabinet/credentials?crm=\(crm.rawValue)"
    }

    func credentialsPage(_ req: Request, _ s: SessionStore.Session, crm: CRMKind?, message: (ok: Bool, text: String)?,
                         status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = lang(req, s)
        let ru = l == .ru
        guard let form = credentialForm(crm) else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let tabs = sb.connectors.all.map { c in
            let title = ru ? c.titleRU : c.title
            return c.kind == form.kind ? "<strong aria-current=\"page\">\(esc(title))</strong>"
                : "<a href=\"\(esc(credentialsURL(c.kind)))\">\(esc(title))</a>"
        }.joined(separator: " · ")
        let address = ru ? form.addressLabel.ru : form.addressLabel.en
        var rows = ""
        for c in try await sb.credentials.list(tenantId: s.tenantId, crm: form.kind) {
            let badge = c.status == "ok" ? "ok" : (c.status == "unchecked" ? "" : "bad")
            let card = form.card(l, c, sb.connectors[c.crm]?.credentialLinks(c) ?? [:])
            rows += """
            <section class="card"><h2>\(esc(c.name.isEmpty ? c.baseURL : c.name))</h2>
            <p><code>\(esc(c.baseURL))</code> · \(form.describe(l, c))
            · <span class="badge \(badge)">\(esc(c.state.map { l.say($0.phrase) } ?? c.status))</span> \(esc(l.say(c.statusPhrase, else: c.statusDetail)))</p>\(card.info)
            <form method="post" action="/cabinet/credentials/\(c.id)"><input type="hidden" name="csrf" value="\(esc(s.csrf))">
              <button name="action" value="test">\(ru ? "Проверить подключение" : "Test connection")</button> \(card.buttons)
              <details><summary aria-label="\(ru ? "Изменить" : "Edit")">⚙ \(ru ? "Изменить" : "Edit")</summary>
                <label for="name-\(c.id)">\(ru ? "Название" : "Name")<input id="name-\(c.id)" name="name" value="\(esc(c.name))"></label>
                <label for="url-\(c.id)">\(esc(address))<input id="url-\(c.id)" name="baseURL" value="\(esc(c.baseURL))" required></label>
                \(form.editFields(l, c))
                <button name="action" value="save">\(ru ? "Сохранить" : "Save")</button>
                <button name="action" value="delete" class="danger">\(ru ? "Удалить" : "Delete")</button>
              </details>
            </form></section>
            """
        }
        let body = """
            <p>\(tabs)</p>
            <h1>\(esc(ru ? form.heading.ru : form.heading.en))</h1>
            \(message.map { "<p class=\"\($0.ok ? "badge ok" : "error")\" role=\"status\">\(esc($0.text))</p>" } ?? "")
            <div class="cards">\(rows)</div>
            <h2>\(ru ? "Добавить учетные данные" : "Add credentials")</h2>
            <form method="post" action="/cabinet/credentials" class="settings"><input type="hidden" name="csrf" value="\(esc(s.csrf))">
              <input type="hidden" name="crm" value="\(esc(form.kind.rawValue))">
              <label for="new-name">\(ru ? "Название (необязательно)" : "Name (optional)")<input id="new-name" name="name"></label>
              <label for="new-url">\(esc(address))<input id="new-url" name="baseURL" placeholder="\(esc(form.placeholder))" value="\(esc(form.address))" required></label>
              \(form.addFields(l))
              <p><button type="submit">\(ru ? "Добавить" : "Add")</button></p>
            </form>
            """
        return page(l, title: ru ? "Учетные данные" : "Credentials", body: body, status: status, csrf: s.csrf, email: s.email)
    }

    func createCredential(_ req: Request, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        let l = lang(req, s)
        guard let form = credentialForm(f["crm"].map { CRMKind($0) }) else { return forbidden(req) }
        let url: String
        do { url = try credentialService.normalized(f["baseURL"] ?? "") } catch let e as ServiceError {
            return try await credentialsPage(req, s, crm: form.kind, message: (false, l.say(e.phrase, else: e.message)), status: .unprocessableContent)
        }
        let way: (CRMAuthKind, CRMSecret)
        do { way = try form.create(f, l) } catch let problem as CredentialProblem {
            return try await credentialsPage(req, s, crm: form.kind, message: (false, problem.text), status: .unprocessableContent)
        }
        _ = try await credentialService.create(tenantId: s.tenantId, crm: form.kind, name: f["name"] ?? "", baseURL: url, authKind: way.0,
                                               secret: way.1)
        return redirect(credentialsURL(form.kind))
    }

    func credentialAction(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        guard let f = try await checkedForm(req, s) else { return forbidden(req) }
        guard let c = try await sb.credentials.get(tenantId: s.tenantId, id: try ctx.param("id")) else {
            return try await credentialsPage(req, s, crm: nil, message: (false, "404"), status: .notFound)
        }
        guard let form = credentialForm(c.crm) else { return forbidden(req) }
        switch f["action"] {
        case "test":
            let result: (ok: Bool, message: Phrase)
            do {
                let (c, connector) = try await credentialService.withConnector(tenantId: s.tenantId, id: c.id)
                result = try await credentialService.test(c, connector)
            } catch let e as ServiceError {
                return try await credentialsPage(req, s, crm: c.crm, message: (false, lang(req, s).say(e.phrase, else: e.message)), status: e.status)
            }
            return try await credentialsPage(req, s, crm: c.crm, message: (result.ok, lang(req, s).say(result.message)), status: result.ok ? .ok : .unprocessableContent)
        case "delete":
            _ = try await credentialService.delete(tenantId: s.tenantId, id: c.id)
            return redirect(credentialsURL(c.crm))
        case let action? where form.actions[action] != nil:
            return try await form.actions[action]!(self, req, s, c)
        default:
            // The service gives the form the stored secret only while the address stays: a secret never follows a move.
            do {
                _ = try await credentialService.update(tenantId: s.tenantId, id: c.id, name: f["name"], baseURL: f["baseURL"] ?? c.baseURL,
                                                       secret: { form.update(f, $0) })
            } catch let e as ServiceError {
                return try await credentialsPage(req, s, crm: c.crm, message: (false, lang(req, s).say(e.phrase, else: e.message)), status: e.status)
            }
            return redirect(credentialsURL(c.crm))
        }
    }
}

/// What the tenant must fix in a credential form, in English (shown through `Lang.say`) or already in their language.
struct CredentialProblem: Error {
    let text: String
}

/// One CRM's credential form in the cabinet (CORE-1), declared in the CRM's folder: the address field, the fields of
/// its secret, how a posted form becomes the credential's way in and secret, what each card adds, and the card's own
/// actions beyond test, save and delete.
struct CredentialForm: Sendable {
    typealias Action = @Sendable (Cabinet, Request, SessionStore.Session, CRMCredential) async throws -> Response

    let kind: CRMKind
    var heading: (ru: String, en: String)
    var addressLabel: (ru: String, en: String)
    var placeholder: String
    /// The address the add form starts with, for a CRM whose API lives at one address for every account.
    var address: String? = nil
    /// The add form's inputs after the name and the address.
    var addFields: @Sendable (Lang) -> String = { _ in "" }
    /// The edit form's inputs after the name and the address.
    var editFields: @Sendable (Lang, CRMCredential) -> String = { _, _ in "" }
    /// How the credential reaches the CRM, in words, on its card.
    var describe: @Sendable (Lang, CRMCredential) -> String = { _, c in esc(c.authKind.rawValue) }
    /// Reads the add form: the way in and the secret, or throws `CredentialProblem`.
    var create: @Sendable ([String: String], Lang) throws -> (CRMAuthKind, CRMSecret)
    /// Reads the edit form: the secret to store, or nil to keep the stored one. `stored` is the current secret while
    /// the address stays, nil when it moves.
    var update: @Sendable (_ form: [String: String], _ stored: CRMSecret?) -> CRMSecret? = { _, _ in nil }
    /// What a card adds: buttons inside its form (named `action`) and text under its address (the connector's links).
    var card: @Sendable (Lang, CRMCredential, _ links: [String: String]) -> (buttons: String, info: String) = { _, _, _ in ("", "") }
    /// The card's own actions, by the `action` value its buttons post.
    var actions: [String: Action] = [:]

    /// A CRM with no form of its own: name and address, connected from the CRM's side.
    static func plain(_ c: CRMConnector) -> CredentialForm {
        CredentialForm(kind: c.kind, heading: ("Учетные данные \(c.titleRU)", "\(c.title) credentials"),
                       addressLabel: ("Адрес аккаунта", "Account address"), placeholder: "https://account.example.com",
                       create: { _, _ in (.oauth, CRMSecret()) })
    }
}
