import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

extension CRMPages {
    static let megaplan = CRMPages(credentials: .megaplan, settings: { try await $0.mpSettingsPage($1, $2, $3) },
                                   save: { try await $0.saveMPSettings($1, $2, $3) })
}

/// The Megaplan integration's settings page, in the blocks and order of the tenant's guides (000, and 001's telephony
/// part): credentials, "Активен", data sync (the telephony users read from Megaplan and mapped by extension), filtering,
/// the default responsible, call handling (client, extra fields, communication, todo, process, personal manager),
/// click-to-call with the web phone's addresses; the guides' hints beside the fields; one Save.
extension Cabinet {
    static let mpHints: [String: (ru: String, en: String)] = [
        "active": ("Пока интеграция не активна, в Мегаплан ничего не передаётся; настройки сохраняются.",
                   "While the integration is not active nothing reaches Megaplan; the settings are kept."),
        "syncTelephony": ("В Мегаплан под пользователем из группы «Директора» или «Админы»: «Настройки» → «Интеграция» → «Телефония» → «Подключение к телефонии по API» → «Настройки телефонии» → вкладка «Пользователи». Добавьте всех пользователей, использующих телефонию, и укажите каждому внутренний номер АТС из раздела «Сотрудники», сохраните, затем нажмите эту кнопку. Важно: если сотрудник не будет указан в данном разделе, то функционал поднятия карточки звонка и передача информации по нему не будет доступен.",
                          "In Megaplan, as a user of the «Директора» or «Админы» group: Settings → Integration → Telephony → «Подключение к телефонии по API» → telephony settings → Users. Add every user who takes calls with their PBX extension, save, then press this button. Important: an employee not listed there gets no call card and no call data."),
        "lineFilter.enabled": ("Выберите настройку, если требуется фильтрация по виртуальным номерам (в случае подключения нескольких сетей/интеграций).",
                               "Choose it to filter by virtual number (when several networks or integrations are connected)."),
        "lineFilter.numbers": ("Укажите виртуальные номера, по которым необходимо отображать данные по звонкам в Мегаплан в подключенной сети. По одному в строке.",
                               "The virtual numbers whose calls are shown in Megaplan, one a line."),
        "numberFilter": ("По звонкам с этих номеров и на них не создаются клиенты, коммуникации, дела и процессы; карточка звонка всё равно показывается. По одному в строке.",
                         "Calls with these client numbers make no client, communication, todo or process; the call card still shows. One a line."),
        "defaultResponsible": ("Данный сотрудник будет назначен ответственным на создаваемые сущности, если выбрана соответствующая настройка (например, по пропущенному звонку, с которым никто не разговаривал).",
                               "This employee becomes responsible for what calls create when the setting says so (a missed call nobody talked on, for one)."),
        "createClient.enabled": ("Настройка позволяет создавать контакт в разделе «Клиенты» при начале разговора.",
                                 "Creates a contact under «Клиенты» when the conversation starts."),
        "createClient.responsibleTalker": ("Выберите, кого назначать ответственным за успешный звонок от нового клиента (последний или первый разговаривавший).",
                                           "Who becomes responsible for a new client's answered call: the first or the last employee who talked."),
        "extraFields.enabled": ("Настройка позволяет передавать дополнительные поля в контакт. Добавьте все требуемые значения: поле клиента в Мегаплан (например, Category1000047CustomFieldUtmMetka) для каждого значения звонка.",
                                "Writes extra fields into the contact. For each value of the call, the client's Megaplan field (Category1000047CustomFieldUtmMetka, for one)."),
        "extraFields.updateAlways": ("Если требуется передавать значение в поля не только при первичных звонках (при создании контакта), но и при повторных, выберите настройку «Обновлять всегда».",
                                     "Writes the fields on repeat calls too, not only when the contact is created."),
        "communication.enabled": ("Настройка позволяет создавать коммуникации в разделе «Клиенты» – «Коммуникации» с типом «Звонок» после завершения звонка.",
                                  "Creates a communication of type «Звонок» under «Клиенты» → «Коммуникации» after the call."),
        "communication.kinds": ("Добавьте необходимые направления звонков, по которым необходимо создавать коммуникацию в требуемом статусе.",
                                "The call directions and statuses that create a communication."),
        "communication.minutes": ("Укажите время в минутах, которое необходимо добавлять к времени начала коммуникации при формировании времени окончания. По умолчанию указано 120 минут (2 часа).",
                                  "Minutes added to the communication's start to make its end; 120 (2 hours) by default."),
        "todo.enabled": ("Настройка позволяет создавать дело в разделе «Календарь» → «Список дел» после завершения звонка. Выберите необходимые направления звонков, их статусы, по которым необходимо создавать дела, а также ответственного за них.",
                         "Creates a todo under «Календарь» → «Список дел» after the call, for the chosen directions and statuses, with its responsible."),
        "process.enabled": ("Настройка позволяет создавать процесс в разделе «Процессы» после завершения звонка. Выберите необходимые направления звонков, их статусы, по которым необходимо создавать процессы, а также ответственного за них и схему из Мегаплан.",
                            "Creates a process under «Процессы» after the call, for the chosen directions and statuses, with its responsible and Megaplan scheme."),
        "process.programId": ("ID схемы процессов в Мегаплан (виден в адресе схемы).", "The Megaplan scheme's id (seen in the scheme's address)."),
        "personalManager": ("Важно: переадресация на персонального менеджера из CRM будет работать при настроенном сценарии с соответствующей операцией в АТС, а также при соответствии внутренних номеров сотрудников в АТС и в разделе «Телефония» в Мегаплан.",
                            "Important: forwarding to the CRM's personal manager works with a PBX scenario that has the matching step, and when the employees' extensions agree in the PBX and in Megaplan's «Телефония»."),
        "clickToCall.callerId": ("Номер, который определяется у клиента при звонке от сотрудника, у которого нет зарегистрированной SIP-линии.",
                                 "The number the client sees on a call from an employee without a registered SIP line."),
        "clickToCall.overrideCallerId": ("Выберите настройку, если требуется для всех исходящих звонков по клику отображать клиенту только выбранный номер в параметре «Номер для звонка по клику».",
                                         "Shows the client only the number above on every click-to-call."),
    ]

    /// The call kinds as the guides name them, for the communication, todo and process rules.
    static let mpKinds: [(kind: MegaplanSettings.CallKind, ru: String, en: String)] = [
        (.init(.incoming, .answered), "Входящие успешные", "Incoming answered"), (.init(.incoming, .missed), "Входящие потерянные", "Incoming missed"),
        (.init(.outgoing, .answered), "Исходящие успешные", "Outgoing answered"), (.init(.outgoing, .missed), "Исходящие неуспешные", "Outgoing failed"),
    ]

    static let mpExtraSources: [(key: String, ru: String, en: String)] = [
        ("virtualNumber", "Виртуальный номер", "Virtual number"), ("utm_source", "utm_source", "utm_source"), ("utm_medium", "utm_medium", "utm_medium"),
        ("utm_campaign", "utm_campaign", "utm_campaign"), ("utm_content", "utm_content", "utm_content"), ("utm_term", "utm_term", "utm_term"),
        ("site", "Сайт", "Site"), ("campaign", "Рекламная кампания", "Ad campaign"),
    ]

    /// Enter in a field saves: the form's first button is a Save out of sight, before the sync button.
    /// `synced`: the telephony users were just read from Megaplan; the rows whose extension matches a PBX employee's are
    /// filled (nothing stored until Save).
    func mpSettingsPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session, draft: MegaplanSettings? = nil,
                        form: [String: String]? = nil, problems: [SettingsProblem] = [], saved: Bool = false,
                        synced: Bool = false) async throws -> Response {
        let l = lang(req, s)
        guard let d = try await settingsPageData(req, ctx, s, crm: .megaplan, draft: form) else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let settings = draft ?? (try? JSON.decode(MegaplanSettings.self, from: JSON.string(d.integration.settings))) ?? MegaplanSettings()
        let w = SettingsForm(cabinet: self, l: l, hints: Self.mpHints.merging(Self.mpTextHints) { a, _ in a }, problems: problems)
        let ru = w.ru
        let proposed = synced ? SettingsForm.byExtension(users: d.users, employees: d.employees) : [:]
        let idPlaceholder = w.say("ID сотрудника Мегаплан", "Megaplan employee id")

        func kinds(_ block: String, _ chosen: [MegaplanSettings.CallKind]) -> String {
            "<fieldset><legend>\(w.say("Направления и статусы звонков", "Call directions and statuses"))</legend>" + Self.mpKinds.map { k in
                let name = "\(block).kind.\(k.kind.direction.rawValue).\(k.kind.status.rawValue)"
                return "<label class=\"check\"><span><input type=\"checkbox\" id=\"\(name)\" name=\"\(name)\" value=\"1\"\(chosen.contains(k.kind) ? " checked" : "")> \(ru ? k.ru : k.en)</span></label>"
            }.joined() + "\(w.hint("\(block).kinds"))\(w.problem("\(block).kinds"))</fieldset>"
        }
        func responsible(_ block: String, _ r: MegaplanSettings.Responsible) -> String {
            w.user("\(block).responsible", r.rawValue, d.users, w.say("Ответственный", "Responsible"),
                   fixed: [("talker", w.say("Сотрудник звонка (или ответственный по умолчанию)", "The call's employee (or the default responsible)")),
                           ("client", w.say("Ответственный за клиента", "The client's responsible"))], idPlaceholder: idPlaceholder)
        }
        let talkers: [(value: String, label: String)] = [("first", w.say("Первого разговаривавшего", "The first who talked")),
                                                         ("last", w.say("Последнего разговаривавшего", "The last who talked"))]
        let extraFieldRows = Self.mpExtraSources.map { src in
            "<tr><td><label for=\"extraFields.field.\(src.key)\">\(ru ? src.ru : src.en)</label></td><td><input id=\"extraFields.field.\(src.key)\" name=\"extraFields.field.\(src.key)\" value=\"\(esc(settings.extraFields.fields[src.key]))\" placeholder=\"Category…CustomField…\"></td></tr>"
        }.joined()
        let extraMore = """
            <div class="scroll"><table><thead><tr><th>\(w.say("Значение звонка", "Call value"))</th><th>\(w.say("Поле клиента в Мегаплан", "Client field in Megaplan"))</th></tr></thead>
            <tbody>\(extraFieldRows)</tbody></table></div>\(w.problem("extraFields.fields"))
            \(w.toggle("extraFields.updateAlways", settings.extraFields.updateAlways, w.say("Обновлять всегда", "Update always")))
            \(w.byLine("xl", settings.extraFields.byLine, attributes: Self.mpExtraSources.dropFirst().map { ($0.key, ru ? $0.ru : $0.en) },
                       seen: d.seenLines, legend: w.say("Значения по виртуальным номерам", "Values by virtual number"), field: "extraFields.byLine"))
            """
        let links = d.credential.flatMap { c in sb.connectors[.megaplan]?.credentialLinks(c) } ?? [:]
        let webPhone = links.isEmpty ? "" : """
            <h3>\(w.say("Адреса веб-телефона Мегаплан", "Megaplan web phone addresses"))</h3>
            <p><small>\(esc(MPCredentialFields.webPhoneSentence(l)))</small></p>
            <ul>\(["callURL", "dndURL", "hangupURL"].compactMap { k in links[k].map { "<li><code data-link=\"\(k)\">\(esc($0))</code></li>" } }.joined())</ul>
            """

        let body = """
            <h1>\(esc(d.title)): \(esc(d.integration.name))</h1>
            \(integrationLinks(d.integration, l))
            \(SettingsForm.style)
            \(saved ? "<p class=\"badge ok\" role=\"status\">\(w.say("Сохранено", "Saved"))</p>" : "")
            \(synced && d.users != nil ? "<p class=\"badge ok\" role=\"status\">\(w.say("Настройки телефонии прочитаны из Мегаплан: сотрудники сопоставлены по внутренним номерам (\(proposed.count)). Нажмите «Сохранить».", "Telephony settings read from Megaplan: employees matched by extension (\(proposed.count)). Press Save."))</p>" : "")
            \(problems.isEmpty ? "" : "<p class=\"error\" role=\"alert\">\(w.say("Проверьте отмеченные поля.", "Check the marked fields."))</p>")
            \(w.problem(""))
            <form method="post" action="/cabinet/integrations/\(d.integration.id)" class="settings">
            <input type="hidden" name="csrf" value="\(esc(s.csrf))">
            <button type="submit" tabindex="-1" aria-hidden="true" style="position:absolute;left:-10000px">\(w.say("Сохранить", "Save"))</button>
            <h2>\(w.say("Учетные данные", "Credentials"))</h2>
            \(w.credentials(d, addURL: credentialsURL(.megaplan), usersLabel: ("Сотрудники Мегаплан не прочитаны", "Megaplan employees could not be read")))
            <h2>\(w.say("Параметры интеграции", "Integration parameters"))</h2>
            \(w.toggle("active", d.active, w.say("Активен", "Active")))
            <h2>\(w.say("Синхронизация данных", "Data sync"))</h2>
            <h3>\(w.say("Синхронизация настройки телефонии", "Telephony settings sync"))</h3>
            \(w.hint("syncTelephony"))
            <p><button type="submit" name="action" value="syncTelephony" formnovalidate>\(w.say("Синхронизировать настройки телефонии из Мегаплан", "Sync telephony settings from Megaplan"))</button></p>
            <h3>\(w.say("Сопоставления сотрудников", "Employee mapping"))</h3>
            \(w.mapping(d, draft: form, proposed: proposed, crmColumn: w.say("Сотрудник Мегаплан (внутренний номер)", "Megaplan employee (extension)")))
            <h2>\(w.say("Настройки фильтрации", "Filtering"))</h2>
            \(w.toggle("lineFilter.enabled", settings.lineFilter.enabled, w.say("Фильтровать по виртуальным номерам", "Filter by virtual number"),
                       more: w.numbers("lineFilter.numbers", settings.lineFilter.numbers, w.say("Список виртуальных номеров", "Virtual numbers"))))
            \(w.numbers("numberFilter", settings.numberFilter, w.say("Номера клиентов, по которым не создавать сущности", "Client numbers that create nothing")))
            <h2>\(w.say("Ответственный по умолчанию", "Default responsible"))</h2>
            \(w.user("defaultResponsible", settings.defaultResponsible, d.users, w.say("Ответственный по умолчанию", "Default responsible"), idPlaceholder: idPlaceholder))
            <h2>\(w.say("Обработка звонков", "Call handling"))</h2>
            \(w.toggle("createClient.enabled", settings.createClient.enabled, w.say("Создавать контакт при звонке", "Create a contact on a call"),
                       more: w.select("createClient.responsibleTalker", talkers, settings.createClient.responsibleTalker.rawValue,
                                      w.say("Назначать ответственного на", "Make responsible"))))
            \(w.toggle("extraFields.enabled", settings.extraFields.enabled, w.say("Передавать дополнительные поля в клиента", "Send extra fields to the client"), more: extraMore))
            \(w.toggle("communication.enabled", settings.communication.enabled, w.say("Создавать коммуникацию по звонку", "Create a communication for a call"),
                       more: kinds("communication", settings.communication.kinds)
                           + w.field("communication.minutes", String(settings.communication.minutes), w.say("Длительность коммуникации, минут", "Communication length, minutes"), mode: "numeric")))
            \(w.toggle("todo.enabled", settings.todo.enabled, w.say("Создавать дело по звонку", "Create a todo for a call"),
                       more: kinds("todo", settings.todo.kinds) + responsible("todo", settings.todo.responsible)))
            \(w.toggle("process.enabled", settings.process.enabled, w.say("Создавать процесс по звонку", "Create a process for a call"),
                       more: kinds("process", settings.process.kinds) + responsible("process", settings.process.responsible)
                           + w.field("process.programId", settings.process.programId, w.say("Схема процесса", "Process scheme"), mode: "numeric")))
            \(w.toggle("personalManager", settings.personalManager, w.say("Включить переадресацию на персонального менеджера", "Forward to the personal manager")))
            <h2>\(w.say("Звонки по клику из CRM", "Click-to-call from the CRM"))</h2>
            \(w.field("clickToCall.callerId", settings.clickToCall.callerId, w.say("Номер для звонка по клику", "Click-to-call number"), mode: "tel"))
            \(w.toggle("clickToCall.overrideCallerId", settings.clickToCall.overrideCallerId, w.say("Переопределять АОН для исходящих звонков", "Override the caller ID of outgoing calls")))
            \(webPhone)
            \(mpTextsSection(w, texts: settings.texts, users: d.users, idPlaceholder: idPlaceholder, dealsURL: links["dealsURL"]))
            <p><button type="submit">\(w.say("Сохранить", "Save"))</button></p>
            </form>
            """
        return page(l, title: d.title, body: body, status: problems.isEmpty ? .ok : .unprocessableContent, csrf: s.csrf, email: s.email)
    }

    /// Reads the form into settings over `base` (what the form does not carry stays).
    static func mpSettings(from f: [String: String], base: MegaplanSettings) -> MegaplanSettings {
        var s = base
        func on(_ key: String) -> Bool { f[key] == "1" }
        func kinds(_ block: String) -> [MegaplanSettings.CallKind] {
            mpKinds.map(\.kind).filter { on("\(block).kind.\($0.direction.rawValue).\($0.status.rawValue)") }
        }
        func responsible(_ block: String) -> MegaplanSettings.Responsible {
            SettingsForm.user(f, "\(block).responsible").map { MegaplanSettings.Responsible(rawValue: $0) } ?? .talker
        }
        s.lineFilter.enabled = on("lineFilter.enabled")
        s.lineFilter.numbers = SettingsForm.numbers(f, "lineFilter.numbers")
        s.numberFilter = SettingsForm.numbers(f, "numberFilter")
        s.defaultResponsible = SettingsForm.user(f, "defaultResponsible")
        s.createClient.enabled = on("createClient.enabled")
        s.createClient.responsibleTalker = MegaplanSettings.Talker(rawValue: f["createClient.responsibleTalker"] ?? "") ?? s.createClient.responsibleTalker
        s.extraFields.enabled = on("extraFields.enabled")
        s.extraFields.updateAlways = on("extraFields.updateAlways")
        var fields: [String: String] = [:]
        for src in mpExtraSources { if let v = SettingsForm.text(f, "extraFields.field.\(src.key)") { fields[src.key] = v } }
        s.extraFields.fields = fields
        s.extraFields.byLine = SettingsForm.byLine(f, "xl", attributes: mpExtraSources.dropFirst().map(\.key))
        s.communication.enabled = on("communication.enabled")
        s.communication.kinds = kinds("communication")
        // What is not a number is kept out of range, so the connector's check marks it.
        s.communication.minutes = SettingsForm.text(f, "communication.minutes").map { Int($0) ?? 0 } ?? s.communication.minutes
        s.todo.enabled = on("todo.enabled")
        s.todo.kinds = kinds("todo")
        s.todo.responsible = responsible("todo")
        s.process.enabled = on("process.enabled")
        s.process.kinds = kinds("process")
        s.process.responsible = responsible("process")
        s.process.programId = SettingsForm.text(f, "process.programId")
        s.personalManager = on("personalManager")
        s.clickToCall = ClickToCallSettings(callerId: SettingsForm.text(f, "clickToCall.callerId"), overrideCallerId: on("clickToCall.overrideCallerId"))
        s.texts = mpTexts(from: f, base: base.texts)
        return s
    }

    /// Save, or (the "sync telephony settings" button) the form drawn again with the mapping filled by extension.
    func saveMPSettings(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        try await saveCRMSettings(req, ctx, s, crm: .megaplan, empty: MegaplanSettings(), read: Self.mpSettings(from:base:),
                                  preview: { f in f["action"] == "syncTelephony" }) { settings, form, problems, saved, preview in
            try await mpSettingsPage(req, ctx, s, draft: settings, form: form, problems: problems, saved: saved, synced: preview)
        }
    }
}
