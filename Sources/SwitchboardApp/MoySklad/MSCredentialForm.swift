import Foundation
import SwitchboardCore
import SwitchboardCRM

/// MoySklad's credentials in the cabinet (MS-2, guide 003 "Учетные данные"): a name, the token copied from the
/// telephony application's «Ключ доступа», and JSON API access for counterparties, orders and tasks (a login and
/// password, or a JSON API token) at MoySklad's one API address. Secrets are never shown back; each card shows the
/// «Webhook URL» to paste into the application's «Адрес провайдера телефонии».
extension CredentialForm {
    static let moysklad = CredentialForm(
        kind: .moysklad, heading: ("Учетные данные МойСклад", "MoySklad credentials"), addressLabel: ("Адрес API МойСклад", "MoySklad API address"),
        placeholder: "https://api.moysklad.ru", address: "https://api.moysklad.ru",
        addFields: { l in
            let ru = l == .ru
            return """
            <label for="new-token">\(ru ? "Token (ключ доступа приложения телефонии)" : "Token (the telephony application's access key)")<input id="new-token" name="token" type="password" autocomplete="off" required></label>
              <small>\(ru ? "Скопируйте его из поля «Ключ доступа» приложения «Телефония» в МойСклад (раздел «Приложения»)."
                           : "Copy it from the «Ключ доступа» field of the telephony application in MoySklad («Приложения»).")</small>
              \(MSCredentialFields.jsonAccess(l, id: "new"))
            """
        },
        editFields: { l, c in
            """
            <label for="token-\(c.id)">\(l == .ru ? "Новый ключ доступа (необязательно)" : "New access key (optional)")<input id="token-\(c.id)" name="token" type="password" autocomplete="off"></label>
                \(MSCredentialFields.jsonAccess(l, id: c.id))
            """
        },
        describe: { l, c in
            c.authKind == .password ? (l == .ru ? "логин и пароль для передачи сделок" : "login and password for the deals import")
                : (l == .ru ? "ключ доступа телефонии" : "telephony access key")
        },
        create: { f, l in
            guard let key = SettingsForm.text(f, "token") else {
                throw CredentialProblem(text: l == .ru ? "Вставьте ключ доступа приложения телефонии МойСклад" : "Paste the MoySklad telephony application's access key")
            }
            if SettingsForm.text(f, "login") != nil, SettingsForm.text(f, "password") == nil {
                throw CredentialProblem(text: l == .ru ? "Укажите пароль к логину МойСклад" : "Enter the password for the MoySklad login")
            }
            return (.token, MSCredentialFields.secret(f, stored: CRMSecret(token: key)) ?? CRMSecret(token: key))
        },
        update: { f, stored in MSCredentialFields.secret(f, stored: stored) },
        card: { l, _, links in
            guard let url = links["webhookURL"] else { return ("", "") }
            return ("", "<p><small>Webhook URL. \(esc(MSCredentialFields.webhookSentence(l)))</small><br><code data-link=\"webhookURL\">\(esc(url))</code></p>")
        })
}

enum MSCredentialFields {
    /// The one sentence beside the Webhook URL (on the credentials' card and the settings page).
    static func webhookSentence(_ l: Lang) -> String {
        l == .ru
            ? "Вставьте этот адрес в поле «Адрес провайдера телефонии» приложения «Телефония» в МойСклад, ключ из его поля «Ключ доступа» — в эти учетные данные, введите сотрудникам их внутренние номера АТС, прожмите «Установлено» и сохраните."
            : "Paste this address into the «Адрес провайдера телефонии» field of MoySklad's telephony application, its «Ключ доступа» into these credentials, give each employee their PBX extension, tick «Установлено» and save."
    }

    /// JSON API access: a login and password, or a token made in MoySklad.
    static func jsonAccess(_ l: Lang, id: String) -> String {
        let ru = l == .ru
        return """
        <fieldset><legend>\(ru ? "Доступ к JSON API (контрагенты, заказы, задачи)" : "JSON API access (counterparties, orders, tasks)")</legend>
              <label for="login-\(id)">\(ru ? "Логин МойСклад" : "MoySklad login")<input id="login-\(id)" name="login" autocomplete="off"></label>
              <label for="password-\(id)">\(ru ? "Пароль" : "Password")<input id="password-\(id)" name="password" type="password" autocomplete="off"></label>
              <label for="jsonToken-\(id)">\(ru ? "Или токен JSON API вместо логина и пароля" : "Or a JSON API token instead of the login and password")<input id="jsonToken-\(id)" name="jsonToken" type="password" autocomplete="off"></label>
              <small>\(ru ? "Без них звонки и всплывающие уведомления работают, но контрагенты, заказы и задачи не создаются."
                          : "Without them calls and popups work, but no counterparties, orders or tasks are made.")</small></fieldset>
        """
    }

    /// The posted key, login and password or JSON API token over `stored` (a new JSON API access drops the token issued
    /// for the old one); nil when nothing was entered. The connector reads a password without a login as a JSON API token.
    static func secret(_ f: [String: String], stored: CRMSecret?) -> CRMSecret? {
        let key = SettingsForm.text(f, "token"), login = SettingsForm.text(f, "login")
        let password = SettingsForm.text(f, "password"), jsonToken = SettingsForm.text(f, "jsonToken")
        guard key != nil || login != nil || password != nil || jsonToken != nil else { return nil }
        var secret = stored ?? CRMSecret()
        if let key { secret.token = key }
        if login != nil || password != nil || jsonToken != nil {
            if let jsonToken, login == nil {
                secret.login = nil
                secret.password = jsonToken
            } else {
                if let login { secret.login = login }
                if let password { secret.password = password }
            }
            secret.accessToken = nil
            secret.accessTokenExpiresAt = nil
        }
        return secret
    }
}
