import Foundation
import SwitchboardCore
import SwitchboardCRM

/// Megaplan's credentials in the cabinet (MP-1, guides 000 and 001 "Учетные данные"): a name, the login (username) and
/// password of a Megaplan user, and the account's domain (https://mp361546.megaplan.ru). The password is never shown
/// back; each card shows the web phone's command addresses to enter in Megaplan.
extension CredentialForm {
    static let megaplan = CredentialForm(
        kind: .megaplan, heading: ("Учетные данные Мегаплан", "Megaplan credentials"), addressLabel: ("Домен Мегаплан", "Megaplan domain"),
        placeholder: "https://mp361546.megaplan.ru",
        addFields: { l in
            let ru = l == .ru
            return """
            <label for="new-login">\(ru ? "Логин (username) от Мегаплан" : "Megaplan login (username)")<input id="new-login" name="login" autocomplete="off" required></label>
              <label for="new-password">\(ru ? "Пароль (password) от Мегаплан" : "Megaplan password")<input id="new-password" name="password" type="password" autocomplete="off" required></label>
              <small>\(ru ? "Пользователь из группы «Директора» или «Админы». Домен — в формате https://mp361546.megaplan.ru, часть «mp361546» у каждого клиента своя."
                           : "A user of the «Директора» or «Админы» group. The domain looks like https://mp361546.megaplan.ru; the «mp361546» part is each account's own.")</small>
            """
        },
        editFields: { l, c in
            let ru = l == .ru
            return """
            <label for="login-\(c.id)">\(ru ? "Новый логин (необязательно)" : "New login (optional)")<input id="login-\(c.id)" name="login" autocomplete="off"></label>
                <label for="password-\(c.id)">\(ru ? "Новый пароль (необязательно)" : "New password (optional)")<input id="password-\(c.id)" name="password" type="password" autocomplete="off"></label>
            """
        },
        describe: { l, _ in l == .ru ? "логин и пароль" : "login and password" },
        create: { f, l in
            guard let login = SettingsForm.text(f, "login"), let password = SettingsForm.text(f, "password") else {
                throw CredentialProblem(text: l == .ru ? "Укажите логин и пароль от Мегаплан" : "Enter the Megaplan login and password")
            }
            return (.password, CRMSecret(login: login, password: password))
        },
        update: { f, stored in MPCredentialFields.secret(f, stored: stored) },
        card: { l, _, links in
            let ru = l == .ru
            let commands: [(key: String, ru: String, en: String)] = [("callURL", "Звонок по клику", "Click-to-call"),
                                                                     ("dndURL", "Режим «Не беспокоить»", "Do not disturb"),
                                                                     ("hangupURL", "Кнопка «Завершить»", "Hang-up button"),
                                                                     ("dealsURL", "Сделки: URL приложения Мегаплан", "Deals: the Megaplan application's URL")]
            let rows = commands.compactMap { c in
                links[c.key].map { "<li>\(ru ? c.ru : c.en): <code data-link=\"\(c.key)\">\(esc($0))</code></li>" }
            }.joined()
            guard !rows.isEmpty else { return ("", "") }
            return ("", "<p><small>\(esc(MPCredentialFields.webPhoneSentence(l)))</small></p><ul>\(rows)</ul>")
        })
}

enum MPCredentialFields {
    /// The one sentence beside the web phone's addresses (on the credentials' card and the settings page).
    static func webPhoneSentence(_ l: Lang) -> String {
        l == .ru
            ? "Веб-телефон Мегаплан передаёт по этим адресам звонок по клику, режим «Не беспокоить» и завершение звонка: укажите их в настройках телефонии Мегаплан («Подключение к телефонии по API») и не передавайте посторонним — адрес подтверждает, что команда пришла из вашего Мегаплан."
            : "Megaplan's web phone sends click-to-call, do-not-disturb and hang-up to these addresses: enter them in Megaplan's telephony settings («Подключение к телефонии по API») and keep them private — the address is the proof a command comes from your Megaplan."
    }

    /// The secret with a new login and/or password over the stored one (its tokens dropped: they belong to the old
    /// ones); nil when neither was entered.
    static func secret(_ f: [String: String], stored: CRMSecret?) -> CRMSecret? {
        let login = SettingsForm.text(f, "login"), password = SettingsForm.text(f, "password")
        guard login != nil || password != nil else { return nil }
        var secret = stored ?? CRMSecret()
        if let login { secret.login = login }
        if let password { secret.password = password }
        secret.accessToken = nil
        secret.refreshToken = nil
        secret.accessTokenExpiresAt = nil
        return secret
    }
}
