import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// «Заявки и чаты» of an integration (CORE-15, MP-10, MS-3): the rules every CRM shares (`TextRules`), edited in the
/// integration's `texts` block. Saved through the connector's `settingsProblems`, the check the management API makes,
/// with each problem beside its field; the keys of the block this page does not draw (a CRM's own: a pipeline, an
/// entity, Unsorted) are kept as they are.
extension Cabinet {
    func registerTextRules(on router: Router<AppRequestContext>) {
        router.get("cabinet/integrations/:id/texts") { req, ctx in try await authed(req) { try await textRulesPage(req, ctx, $0) } }
        router.post("cabinet/integrations/:id/texts") { req, ctx in
            try await authed(req) { s in
                guard let f = try await checkedForm(req, s) else { return forbidden(req) }
                guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")),
                      let connector = sb.connectors[integration.crm], connector.texts != nil else {
                    return try await textRulesPage(req, ctx, s)
                }
                let block = Self.textsBlock(f, over: integration.settings["texts"])
                var settings: [String: JSONValue] = [:]
                if case .object(let o) = integration.settings { settings = o }
                settings["texts"] = block
                let document = JSONValue.object(settings)
                let problems = connector.settingsProblems(document).filter { $0.field == "texts" || $0.field.hasPrefix("texts.") }
                if !problems.isEmpty {
                    return try await textRulesPage(req, ctx, s, draft: document, problems: problems, status: .unprocessableContent)
                }
                var changed = integration
                changed.settings = document
                guard try await integrationService.save(changed) != nil else { return try await textRulesPage(req, ctx, s) }
                return try await textRulesPage(req, ctx, s, saved: true)
            }
        }
    }

    /// The integration's own pages beside its settings, for a CRM's settings page to show under its title: «Заявки и
    /// чаты» when the CRM takes them, the employee sync when it lists its users.
    func integrationLinks(_ integration: Integration, _ l: Lang) -> String {
        guard let connector = sb.connectors[integration.crm] else { return "" }
        var links: [String] = []
        if connector.texts != nil {
            links.append("<a href=\"/cabinet/integrations/\(esc(integration.id))/texts\">\(l == .ru ? "Заявки и чаты" : "Requests and chats")</a>")
        }
        if connector.users != nil {
            links.append("<a href=\"/cabinet/integrations/\(esc(integration.id))/employees\">\(l == .ru ? "Синхронизация сотрудников" : "Employee sync")</a>")
        }
        return links.isEmpty ? "" : "<p>\(links.joined(separator: " · "))</p>"
    }

    static let textHints: [String: (ru: String, en: String)] = [
        "texts.requests.enabled": ("Заявки с форм сайтов передаются в эту CRM по правилам ниже.",
                                   "Requests from the sites' forms reach this CRM by the rules below."),
        "texts.requests.sites": ("Ничего не выбрано — заявки со всех сайтов.", "None chosen: requests from every site."),
        "texts.requests.types": ("Только заявки этих типов, по одному в строке; пусто — любые.", "Only requests of these types, one a line; empty: any."),
        "texts.requests.defaultResponsible": ("Обязательное поле. Сотрудник CRM, ответственный за то, что создаёт заявка.",
                                              "Required. The CRM user responsible for what a request makes."),
        "texts.chats.enabled": ("Чаты с сайтов передаются в эту CRM по правилам ниже.", "Chats from the sites reach this CRM by the rules below."),
        "texts.chats.sites": ("Ничего не выбрано — чаты со всех сайтов.", "None chosen: chats from every site."),
        "texts.chats.channels": ("Только чаты этих каналов (site — чат на сайте), по одному в строке; пусто — любые.",
                                 "Only chats of these channels (site: the site's chat), one a line; empty: any."),
        "texts.chats.tags": ("Только чаты, которым оператор поставил одну из этих меток, по одной в строке; пусто — все чаты.",
                             "Only chats an operator tagged with one of these, one a line; empty: every chat."),
        "texts.chats.defaultResponsible": ("Обязательное поле. Сотрудник CRM, ответственный за то, что создаёт чат.",
                                           "Required. The CRM user responsible for what a chat makes."),
        "texts.chats.trigger": ("Когда чат создаёт записи в CRM. Переписка записывается клиенту, когда чат завершён.",
                                "When a chat makes its records. The transcript is written to the client when the chat finishes."),
        "texts.chats.contactWithoutDetails": ("Если посетитель не оставил ни телефона, ни e-mail, каждый такой чат создаёт новый контакт.",
                                              "When the visitor left no phone or e-mail, each such chat makes a new contact."),
    ]

    /// The rules' page; `draft` is a refused settings document drawn again with its `problems`.
    func textRulesPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session, draft: JSONValue? = nil,
                       problems: [SettingsProblem] = [], saved: Bool = false, status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = lang(req, s)
        guard let integration = try await sb.integrations.get(tenantId: s.tenantId, id: try ctx.param("id")),
              let connector = sb.connectors[integration.crm] else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let w = SettingsForm(cabinet: self, l: l, hints: Self.textHints, problems: problems)
        let title = w.say("Заявки и чаты", "Requests and chats")
        let back = "<p><a href=\"/cabinet/integrations/\(esc(integration.id))\">\(w.say("← к настройкам интеграции", "← integration settings"))</a></p>"
        guard connector.texts != nil else {
            return page(l, title: title, body: """
                <h1>\(title) — \(esc(integration.name))</h1>\(back)
                <p>\(w.say("Эта CRM пока не принимает заявки и чаты.", "This CRM does not take requests and chats yet."))</p>
                """, csrf: s.csrf, email: s.email)
        }
        // Rules that cannot be read are drawn as the defaults, with the reason on top.
        let rules = (try? TextRules.of(settings: draft ?? integration.settings)) ?? TextRules()
        var users: [CRMUserSummary]?
        var usersProblem: String?
        if let read = connector.users, let id = integration.credentialId, let credential = try await sb.credentials.get(tenantId: s.tenantId, id: id) {
            do { users = try await read(credential) } catch { usersProblem = l.say(CRMFailure.phrase(of: error)) }
        }
        let sites = try await SiteService(sb: sb).list(tenantId: s.tenantId)
        let knownTypes = Array(Set(sites.flatMap(\.requestTypes))).sorted()
        let r = rules.requests, c = rules.chats
        let crmUser = w.say("ID сотрудника CRM", "CRM user id")

        /// The sites as checkboxes (`<name>.<n>` = the site's name); a stored name no site has any more stays, checked.
        func siteChoice(_ name: String, _ chosen: [String], _ label: String) -> String {
            var options = sites.map { (value: $0.name, label: $0.name, on: Self.names(chosen, [$0.name, $0.id])) }
            for v in chosen where !sites.contains(where: { Self.names([v], [$0.name, $0.id]) }) { options.append((v, v, true)) }
            let boxes = options.enumerated().map { i, o in
                "<label class=\"check\"><span><input type=\"checkbox\" id=\"\(name).\(i)\" name=\"\(name).\(i)\" value=\"\(esc(o.value))\"\(o.on ? " checked" : "")> \(esc(o.label))</span></label>"
            }.joined()
            return "<fieldset><legend>\(esc(label))</legend>\(boxes.isEmpty ? "<p>\(w.say("Сайтов пока нет", "No sites yet")) — <a href=\"/cabinet/sites\">\(w.say("добавить", "add one"))</a></p>" : boxes)\(w.hint(name))</fieldset>\(w.problem(name))"
        }
        func list(_ name: String, _ values: [String], _ label: String) -> String {
            "<label for=\"\(name)\">\(esc(label))<textarea id=\"\(name)\" name=\"\(name)\" rows=\"2\"\(w.described(name))>\(esc(values.joined(separator: "\n")))</textarea>\(w.hint(name))</label>\(w.problem(name))"
        }
        let triggers: [(value: String, label: String)] = [("started", w.say("Чат начат", "Chat started")), ("finished", w.say("Чат завершён", "Chat finished")),
                                                          ("tagged", w.say("Чату поставлена метка", "Chat tagged"))]
        let requestsMore = """
            \(siteChoice("texts.requests.sites", r.sites, w.say("Только заявки с сайтов", "Only requests from the sites")))
            \(list("texts.requests.types", r.types, w.say("Только заявки типов", "Only requests of the types")))
            \(knownTypes.isEmpty ? "" : "<p><small>\(w.say("Типы в формах сайтов", "Types in the sites' forms")): \(esc(knownTypes.joined(separator: ", ")))</small></p>")
            \(w.user("texts.requests.defaultResponsible", r.defaultResponsible, users, w.say("Ответственный по умолчанию", "Default responsible"), idPlaceholder: crmUser))
            \(w.toggle("texts.requests.createContact", r.createContact, w.say("Создавать контакт (клиента), если CRM не знает его по телефону или e-mail", "Create a contact (client) unless the CRM knows them by phone or e-mail")))
            \(w.toggle("texts.requests.createDeal", r.createDeal, w.say("Создавать сделку (заказ, лид — как принято в CRM)", "Create a deal (an order, a lead, as the CRM does)")))
            \(w.toggle("texts.requests.createTask", r.createTask, w.say("Создавать задачу ответственному", "Create a task for the responsible user")))
            """
        let chatsMore = """
            \(siteChoice("texts.chats.sites", c.sites, w.say("Только чаты с сайтов", "Only chats from the sites")))
            \(list("texts.chats.channels", c.channels, w.say("Только каналы", "Only the channels")))
            \(list("texts.chats.tags", c.tags, w.say("Только чаты с метками", "Only chats tagged")))
            \(w.select("texts.chats.trigger", triggers, c.trigger.rawValue, w.say("Когда создавать записи", "When to make the records")))
            \(w.user("texts.chats.defaultResponsible", c.defaultResponsible, users, w.say("Ответственный по умолчанию", "Default responsible"), idPlaceholder: crmUser))
            \(w.toggle("texts.chats.createContact", c.createContact, w.say("Создавать контакт (клиента), если CRM не знает его по телефону или e-mail", "Create a contact (client) unless the CRM knows them by phone or e-mail")))
            \(w.toggle("texts.chats.contactWithoutDetails", c.contactWithoutDetails, w.say("Создавать контакт и для чата без телефона и e-mail", "Create a contact for a chat with no phone or e-mail too")))
            \(w.toggle("texts.chats.createDeal", c.createDeal, w.say("Создавать сделку (заказ, лид — как принято в CRM)", "Create a deal (an order, a lead, as the CRM does)")))
            \(w.toggle("texts.chats.createTask", c.createTask, w.say("Создавать задачу ответственному", "Create a task for the responsible user")))
            \(w.toggle("texts.chats.transcript", c.transcript, w.say("Записывать переписку клиенту, когда чат завершён", "Write the transcript to the client when the chat finishes")))
            """
        // Problems of fields this page does not draw (a CRM's own keys of the block, set on its settings page) are listed
        // on top, with the way there.
        let others = problems.filter { !Self.drawnTextFields.contains($0.field) }
            .map { "<li>\(esc(l.say($0.phrase))) <small>(\(esc($0.field)))</small></li>" }.joined()
        let body = """
            \(SettingsForm.style)
            <h1>\(title) — \(esc(integration.name))</h1>\(back)
            <p>\(w.say("Что создаётся в CRM по заявкам с форм ваших сайтов и по чатам. Сайты и код для них — на странице", "What requests from your sites' forms and chats make in the CRM. The sites and their code are on the"))
            <a href="/cabinet/sites">\(w.say("«Сайты»", "Sites page"))</a>.</p>
            \(saved ? "<p class=\"badge ok\" role=\"status\">\(w.say("Сохранено", "Saved"))</p>" : "")
            \(problems.isEmpty ? "" : "<p class=\"error\" role=\"alert\">\(w.say("Проверьте отмеченные поля.", "Check the marked fields."))</p>")
            \(others.isEmpty ? "" : "<div class=\"error\" role=\"alert\"><p>\(w.say("Настройки этой CRM для заявок и чатов — на странице интеграции:", "This CRM's own settings for requests and chats are on the integration's page:")) <a href=\"/cabinet/integrations/\(esc(integration.id))\">\(esc(integration.name))</a></p><ul>\(others)</ul></div>")
            \(usersProblem.map { "<p class=\"error\">\(w.say("Сотрудники CRM не прочитаны", "The CRM's users could not be read")): \(esc($0)). \(w.say("Сотрудника можно указать его ID.", "Enter a user by their id."))</p>" } ?? "")
            <form method="post" action="/cabinet/integrations/\(esc(integration.id))/texts" class="settings">
            <input type="hidden" name="csrf" value="\(esc(s.csrf))">
            <h2>\(w.say("Заявки", "Requests"))</h2>
            \(w.toggle("texts.requests.enabled", r.enabled, w.say("Передавать заявки в CRM", "Send requests to the CRM"), more: requestsMore))
            <h2>\(w.say("Чаты", "Chats"))</h2>
            \(w.toggle("texts.chats.enabled", c.enabled, w.say("Передавать чаты в CRM", "Send chats to the CRM"), more: chatsMore))
            <button type="submit">\(w.say("Сохранить", "Save"))</button>
            </form>
            """
        return page(l, title: title, body: body, status: status, csrf: s.csrf, email: s.email)
    }

    /// The fields this page draws, where their problems are shown.
    static let drawnTextFields: Set<String> = Set(["requests", "chats"].flatMap { part in
        ["enabled", "sites", "types", "channels", "tags", "trigger", "defaultResponsible", "createContact", "contactWithoutDetails",
         "createDeal", "createTask", "transcript"].map { "texts.\(part).\($0)" }
    })

    /// Whether a site filter's values name the site (by name or id, as `TextRules` matches them).
    static func names(_ chosen: [String], _ site: [String]) -> Bool {
        let wanted = Set(chosen.map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
        return site.contains { wanted.contains($0.lowercased()) }
    }

    /// The `texts` block with the form's shared rules written over `old`: every key the form does not draw (in the
    /// block and in its `requests` and `chats`) is kept.
    static func textsBlock(_ f: [String: String], over old: JSONValue?) -> JSONValue {
        var block: [String: JSONValue] = [:]
        if case .object(let o) = old { block = o }
        func on(_ key: String) -> JSONValue { .bool(f[key] == "1") }
        func strings(_ values: [String]) -> JSONValue { .array(values.map { .string($0) }) }
        func chosen(_ prefix: String) -> JSONValue {
            strings(f.filter { $0.key.hasPrefix(prefix + ".") && Int($0.key.dropFirst(prefix.count + 1)) != nil }
                .sorted { Int($0.key.dropFirst(prefix.count + 1))! < Int($1.key.dropFirst(prefix.count + 1))! }
                .map(\.value).filter { !$0.isEmpty })
        }
        func part(_ name: String, _ values: [String: JSONValue]) {
            var o: [String: JSONValue] = [:]
            if case .object(let before)? = block[name] { o = before }
            for (k, v) in values { o[k] = v }
            if let user = SettingsForm.user(f, "texts.\(name).defaultResponsible") { o["defaultResponsible"] = .string(user) } else {
                o["defaultResponsible"] = nil
            }
            block[name] = .object(o)
        }
        let p = "texts.requests.", c = "texts.chats."
        part("requests", ["enabled": on(p + "enabled"), "sites": chosen(p + "sites"), "types": strings(lines(f[p + "types"])),
                          "createContact": on(p + "createContact"), "createDeal": on(p + "createDeal"), "createTask": on(p + "createTask")])
        part("chats", ["enabled": on(c + "enabled"), "sites": chosen(c + "sites"), "channels": strings(lines(f[c + "channels"])),
                       "tags": strings(lines(f[c + "tags"])), "trigger": .string(TextRules.ChatTrigger(rawValue: f[c + "trigger"] ?? "")?.rawValue ?? "finished"),
                       "createContact": on(c + "createContact"), "contactWithoutDetails": on(c + "contactWithoutDetails"),
                       "createDeal": on(c + "createDeal"), "createTask": on(c + "createTask"), "transcript": on(c + "transcript")])
        return .object(block)
    }
}
