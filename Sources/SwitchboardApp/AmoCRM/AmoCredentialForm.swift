import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM

/// amoCRM's credentials in the cabinet (AMO-1): a long-lived token or OAuth through the installation's application.
extension CredentialForm {
    static let amoCRM = CredentialForm(
        kind: .amocrm, heading: ("Учетные данные amoCRM", "amoCRM credentials"), addressLabel: ("AmoCRM URL", "AmoCRM URL"),
        placeholder: "https://example.amocrm.ru",
        addFields: { l in
            let ru = l == .ru
            return """
            <label for="new-kind">\(ru ? "Способ подключения" : "How to connect")<select id="new-kind" name="authKind">
                <option value="token">\(ru ? "Долгосрочный токен" : "Long-lived token")</option><option value="oauth">OAuth</option></select></label>
              <label for="new-token">\(ru ? "Долгосрочный токен" : "Long-lived token")<input id="new-token" name="token" type="password" autocomplete="off"></label>
            """
        },
        editFields: { l, c in
            c.authKind == .token
                ? "<label for=\"token-\(c.id)\">\(l == .ru ? "Новый токен (необязательно)" : "New token (optional)")<input id=\"token-\(c.id)\" name=\"token\" type=\"password\" autocomplete=\"off\"></label>"
                : ""
        },
        describe: { l, c in c.authKind == .oauth ? "OAuth" : (l == .ru ? "долгосрочный токен" : "long-lived token") },
        create: { f, l in
            let kind: CRMAuthKind = f["authKind"] == "oauth" ? .oauth : .token
            let token = (f["token"] ?? "").trimmingCharacters(in: .whitespaces)
            if kind == .token && token.isEmpty {
                throw CredentialProblem(text: l == .ru ? "Вставьте долгосрочный токен" : "Paste the long-lived token")
            }
            return (kind, kind == .token ? CRMSecret(token: token) : CRMSecret())
        },
        update: { f, _ in
            let token = (f["token"] ?? "").trimmingCharacters(in: .whitespaces)
            return token.isEmpty ? nil : CRMSecret(token: token)
        },
        card: { l, c, _ in
            let connect = c.authKind == .oauth
                ? "<button name=\"action\" value=\"oauth\">\(l == .ru ? "Подключить через amoCRM" : "Connect with amoCRM")</button>" : ""
            return (connect, "")
        },
        actions: ["oauth": { cabinet, req, s, c in
            switch Result(catching: { () throws(OAuthService.Refusal) -> String in try OAuthService(sb: cabinet.sb).start(c) }) {
            case .success(let url):
                return cabinet.redirect(url)
            case .failure(let refusal):
                return try await cabinet.credentialsPage(req, s, crm: c.crm, message: (false, cabinet.lang(req, s).say(refusal.phrase)),
                                                         status: refusal.status)
            }
        }])
}
