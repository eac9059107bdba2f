import Foundation
import SwitchboardCore
import SwitchboardCRM

/// Bitrix24's credentials in the cabinet (B24-1): the portal's domain and the tenant's local application, whose code
/// (client_id) and key (client_secret) Bitrix24 shows once the application is created with Switchboard's address.
/// The application is installed from Bitrix24; the credentials' status turns "ok" then.
extension CredentialForm {
    static let bitrix24 = CredentialForm(
        kind: .bitrix24, heading: ("Учетные данные Битрикс24", "Bitrix24 credentials"), addressLabel: ("Домен портала", "Portal domain"),
        placeholder: "https://example.bitrix24.ru",
        addFields: { l in
            let ru = l == .ru
            return """
            <label for="new-clientId">\(ru ? "Код приложения (client_id, необязательно)" : "Application code (client_id, optional)")<input id="new-clientId" name="clientId" autocomplete="off"></label>
              <label for="new-clientSecret">\(ru ? "Ключ приложения (client_secret, необязательно)" : "Application key (client_secret, optional)")<input id="new-clientSecret" name="clientSecret" type="password" autocomplete="off"></label>
              <small>\(ru ? "Код и ключ появятся в Битрикс24, когда вы создадите локальное приложение с адресом, который покажет карточка этих учетных данных; впишите их потом под шестерёнкой."
                           : "Bitrix24 shows the code and the key once you create the local application with the address these credentials' card shows; enter them under the gear then.")</small>
            """
        },
        editFields: { l, c in
            let ru = l == .ru
            return """
            <label for="clientId-\(c.id)">\(ru ? "Новый код приложения (необязательно)" : "New application code (optional)")<input id="clientId-\(c.id)" name="clientId" autocomplete="off"></label>
                <label for="clientSecret-\(c.id)">\(ru ? "Новый ключ приложения (необязательно)" : "New application key (optional)")<input id="clientSecret-\(c.id)" name="clientSecret" type="password" autocomplete="off"></label>
            """
        },
        describe: { l, _ in l == .ru ? "локальное приложение" : "local application" },
        create: { f, _ in (.oauth, B24CredentialFields.secret(f, stored: nil) ?? CRMSecret()) },
        update: { f, stored in B24CredentialFields.secret(f, stored: stored) },
        card: { l, _, links in
            guard let handler = links["applicationHandlerURL"] else { return ("", "") }
            let sentence = l == .ru
                ? "Создайте в Битрикс24 локальное серверное приложение (Разработчикам → Другое → Локальное приложение) с правами crm, telephony, user, im, task, вставьте этот адрес в поля «Путь вашего обработчика» и «Путь для первоначальной установки», впишите сюда его код и ключ под шестерёнкой и установите приложение."
                : "Create a local server application in Bitrix24 (Developer resources → Other → Local application) with the crm, telephony, user, im and task scopes, paste this address into both its handler path and its installation path, enter its code and key here under the gear, and install it."
            return ("", "<p><small>\(esc(sentence))</small><br><code data-link=\"applicationHandlerURL\">\(esc(handler))</code></p>")
        })
}

/// The local application's code and key as the forms post them.
enum B24CredentialFields {
    /// The secret with the posted code and key; the stored one (tokens and all) is kept under them. Nil when
    /// neither was entered.
    static func secret(_ f: [String: String], stored: CRMSecret?) -> CRMSecret? {
        let id = (f["clientId"] ?? "").trimmingCharacters(in: .whitespaces)
        let key = (f["clientSecret"] ?? "").trimmingCharacters(in: .whitespaces)
        guard !id.isEmpty || !key.isEmpty else { return nil }
        var secret = stored ?? CRMSecret()
        if !id.isEmpty { secret.login = id }
        if !key.isEmpty { secret.password = key }
        return secret
    }
}
