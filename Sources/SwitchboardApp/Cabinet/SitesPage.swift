import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardStorage

/// «Сайты» (CORE-15): the tenant's sites with the script tags to paste into their pages (a copy button each), a form
/// to add one, and per site its settings, a new key and removal. Every change goes through `SiteService`, the path
/// the management API takes, so the cabinet and the API accept and refuse the same sites.
extension Cabinet {
    func registerSites(on router: Router<AppRequestContext>) {
        router.get("cabinet/sites") { req, _ in try await authed(req) { try await sitesPage(req, $0) } }
        router.post("cabinet/sites") { req, _ in
            try await authed(req) { s in
                guard let f = try await checkedForm(req, s) else { return forbidden(req) }
                do {
                    let site = try await SiteService(sb: sb).create(tenantId: s.tenantId, name: f["name"] ?? "",
                                                                    origins: Self.lines(f["origins"]), requestTypes: Self.lines(f["requestTypes"]))
                    return redirect("/cabinet/sites?added=\(site.id)#site-\(site.id)")
                } catch let p as SettingsProblem {
                    return try await sitesPage(req, s, draft: (nil, f, p), status: .unprocessableContent)
                }
            }
        }
        router.post("cabinet/sites/:id") { req, ctx in
            try await authed(req) { s in
                guard let f = try await checkedForm(req, s) else { return forbidden(req) }
                let id = try ctx.param("id")
                let sites = SiteService(sb: sb)
                let found: Bool
                switch f["action"] {
                case "delete":
                    found = try await sites.delete(tenantId: s.tenantId, id: id)
                    if found { return redirect("/cabinet/sites") }
                case "rotate":
                    found = try await sites.rotateKey(tenantId: s.tenantId, id: id) != nil
                    if found { return redirect("/cabinet/sites?rotated=\(id)#site-\(id)") }
                default:
                    do {
                        found = try await sites.update(tenantId: s.tenantId, id: id, name: f["name"] ?? "", origins: Self.lines(f["origins"]),
                                                       requestTypes: Self.lines(f["requestTypes"])) != nil
                        if found { return redirect("/cabinet/sites?saved=\(id)#site-\(id)") }
                    } catch let p as SettingsProblem {
                        return try await sitesPage(req, s, draft: (id, f, p), status: .unprocessableContent)
                    }
                }
                return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
            }
        }
        router.get("cabinet/assets/cabinet.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/javascript; charset=utf-8", .cacheControl: "max-age=300"],
                     body: .init(byteBuffer: ByteBuffer(string: Self.script)))
        }
    }

    /// A list typed one a line (commas part it too), blanks left out.
    static func lines(_ text: String?) -> [String] {
        (text ?? "").split(whereSeparator: { "\n\r,".contains($0) }).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The page; `draft` is a refused form (the site it was for, nil for a new one; what was posted; why) drawn again.
    func sitesPage(_ req: Request, _ s: SessionStore.Session, draft: (id: String?, form: [String: String], problem: SettingsProblem)? = nil,
                   status: HTTPResponse.Status = .ok) async throws -> Response {
        let l = lang(req, s), ru = l == .ru
        func say(_ r: String, _ e: String) -> String { ru ? r : e }
        let service = SiteService(sb: sb)
        let sites = try await service.list(tenantId: s.tenantId)
        let csrf = "<input type=\"hidden\" name=\"csrf\" value=\"\(esc(s.csrf))\">"
        let q = req.uri.queryParameters
        func problem(_ id: String?, _ field: String) -> String {
            guard let draft, draft.id == id else { return "" }
            return Self.problems([draft.problem], field, l)
        }
        /// The name, origins and request types of a site's form (`p` tells the forms' ids apart).
        func fields(_ site: Site?, p: String) -> String {
            let posted = draft.flatMap { $0.id == site?.id ? $0.form : nil }
            let name = posted?["name"] ?? site?.name ?? ""
            let origins = posted?["origins"] ?? site?.origins.joined(separator: "\n") ?? ""
            let types = posted?["requestTypes"] ?? site?.requestTypes.joined(separator: "\n") ?? ""
            return """
                <label for="\(p)name">\(say("Название", "Name"))<input id="\(p)name" name="name" required maxlength="200" value="\(esc(name))"></label>\(problem(site?.id, "name"))
                <label for="\(p)origins">\(say("Адреса сайта, с которых можно отправлять заявки и чаты (по одному в строке; пусто — с любых)",
                                               "The site's origins that may send requests and chats (one a line; empty: any)"))
                  <textarea id="\(p)origins" name="origins" rows="2" placeholder="https://shop.example">\(esc(origins))</textarea></label>\(problem(site?.id, "origins"))
                <label for="\(p)requestTypes">\(say("Типы заявок в форме (по одному в строке; пусто — без выбора типа)",
                                                    "Request types the form offers (one a line; empty: no type to choose)"))
                  <textarea id="\(p)requestTypes" name="requestTypes" rows="3" placeholder="\(say("Обратный звонок", "Callback"))">\(esc(types))</textarea></label>\(problem(site?.id, "requestTypes"))
                """
        }
        func snippet(_ id: String, _ label: String, _ code: String, _ note: String) -> String {
            """
            <label for="\(id)">\(esc(label))<textarea id="\(id)" readonly rows="2" class="snippet">\(esc(code))</textarea></label>
            <p><button type="button" data-copy="\(id)" data-done="\(say("Скопировано", "Copied"))">\(say("Копировать", "Copy"))</button> <small>\(esc(note))</small></p>
            """
        }
        let integrations = try await sb.integrations.list(tenantId: s.tenantId).filter { sb.connectors[$0.crm]?.texts != nil }
        /// Where the site's requests and chats go by the integrations' rules (switched-off integrations marked).
        func destinations(_ site: Site) -> String {
            func to(_ wants: (TextRules) -> (on: Bool, sites: [String])) -> String {
                let names = integrations.compactMap { i -> String? in
                    guard let rules = try? TextRules.of(settings: i.settings) else { return nil }
                    let (on, sites) = wants(rules)
                    guard on, sites.isEmpty || Self.names(sites, [site.name, site.id]) else { return nil }
                    let link = "<a href=\"/cabinet/integrations/\(esc(i.id))/texts\">\(esc(i.name))</a>"
                    return i.active ? link : link + " <small>(\(l.t("state.off")))</small>"
                }
                return names.isEmpty ? say("никуда — задайте правила интеграции", "nowhere: set an integration's rules") : names.joined(separator: ", ")
            }
            return "<p>\(say("Заявки", "Requests")) → \(to { ($0.requests.enabled, $0.requests.sites) }) · "
                + "\(say("Чаты", "Chats")) → \(to { ($0.chats.enabled, $0.chats.sites) })</p>"
        }
        var cards = ""
        for site in sites {
            let p = "s\(site.id)-"
            let notice = q["added"].map(String.init) == site.id ? say("Сайт добавлен. Вставьте код ниже на страницы сайта.", "Site added. Paste the code below into the site's pages.")
                : q["rotated"].map(String.init) == site.id ? say("Ключ заменён: старый код больше не работает, вставьте новый.", "New key: the old code no longer works, paste the new one.")
                : q["saved"].map(String.init) == site.id ? say("Сохранено", "Saved") : nil
            cards += """
            <section class="card" id="site-\(esc(site.id))" aria-label="\(esc(site.name))"><h2>\(esc(site.name))</h2>
            \(notice.map { "<p class=\"badge ok\" role=\"status\">\(esc($0))</p>" } ?? "")
            <p>\(say("Ключ сайта", "Site key")): <code>\(esc(site.key))</code> · \(say("Адреса", "Origins")): \(site.origins.isEmpty ? say("любые", "any") : esc(site.origins.joined(separator: ", ")))
            · <a href="\(esc(service.previewURL(site)))" target="_blank" rel="noopener">\(say("Пример страницы с формой и чатом", "Sample page with the form and the chat"))</a></p>
            \(snippet(p + "form", say("Форма заявки", "Request form"), service.formScript(site),
                      say("Вставьте туда, где должна быть форма; атрибут data-target=\"#id\" ставит её в свой блок.",
                          "Paste it where the form should be; data-target=\"#id\" puts it into a block of its own.")))
            \(snippet(p + "chat", say("Чат на сайте", "Chat widget"), service.chatScript(site),
                      say("Вставьте на каждую страницу перед </body>: в углу появится кнопка чата.",
                          "Paste it into every page before </body>: a chat button shows in the corner.")))
            \(destinations(site))
            <p><small>\(say("Свои формы сайта отправляют заявки на", "The site's own forms post requests to")) <code>\(esc(service.requestURL(site)))</code></small></p>
            <details\(draft?.id == site.id ? " open" : "")><summary>⚙ \(say("Настройки сайта", "Site settings"))</summary>
            <form method="post" action="/cabinet/sites/\(esc(site.id))">\(csrf)\(fields(site, p: p))
              <button type="submit" name="action" value="save">\(say("Сохранить", "Save"))</button>
            </form>
            <form method="post" action="/cabinet/sites/\(esc(site.id))" class="inline">\(csrf)
              <button type="submit" name="action" value="rotate" data-confirm="\(say("Старый код сайта перестанет работать. Заменить ключ?", "The site's old code stops working. Replace the key?"))">\(say("Заменить ключ", "New key"))</button></form>
            <form method="post" action="/cabinet/sites/\(esc(site.id))" class="inline">\(csrf)
              <button type="submit" name="action" value="delete" class="danger" data-confirm="\(say("Удалить сайт? Его заявки и чаты перестанут приниматься.", "Delete the site? Its requests and chats will be refused."))">\(say("Удалить сайт", "Delete site"))</button></form>
            </details></section>
            """
        }
        let rules = integrations.map { "<a href=\"/cabinet/integrations/\(esc($0.id))/texts\">\(esc($0.name))</a>" }.joined(separator: " · ")
        let newDraft = draft?.id == nil && draft != nil
        let body = """
            <style>.sites{display:grid;gap:1rem}.snippet{font-family:ui-monospace,monospace;font-size:.85rem}</style>
            <h1>\(say("Сайты", "Sites"))</h1>
            <p>\(say("Сайт отправляет в Switchboard заявки из формы и чаты посетителей. Добавьте сайт, вставьте его код на страницы, затем задайте правила — что создавать в CRM.",
                     "A site sends requests from its form and visitors' chats to Switchboard. Add the site, paste its code into its pages, then set the rules: what the CRM gets."))
            \(rules.isEmpty ? "" : "<br>\(say("Правила заявок и чатов", "Request and chat rules")): \(rules)")</p>
            \(newDraft ? "<p class=\"error\" role=\"alert\">\(say("Проверьте отмеченные поля.", "Check the marked fields."))</p>" : "")
            \(sites.isEmpty ? "<p>\(say("Сайтов пока нет.", "No sites yet."))</p>" : "<div class=\"sites\">\(cards)</div>")
            <details\(sites.isEmpty || newDraft ? " open" : "")><summary>\(say("Добавить сайт", "Add a site"))</summary>
            <form method="post" action="/cabinet/sites" class="settings">\(csrf)\(fields(nil, p: "new-"))
              <button type="submit">\(say("Добавить", "Add"))</button>
            </form></details>
            <script src="/cabinet/assets/cabinet.js"></script>
            """
        return page(l, title: say("Сайты", "Sites"), body: body, status: status, csrf: s.csrf, email: s.email)
    }

    /// The cabinet's little script (the pages' policy allows scripts from Switchboard only): copy buttons
    /// (`data-copy` = the id of the text to copy, `data-done` = what the button says then) and confirmations
    /// (`data-confirm`) before a button that cannot be undone.
    static let script = """
        document.addEventListener("click", function (e) {
          var ask = e.target.closest("[data-confirm]");
          if (ask && !window.confirm(ask.getAttribute("data-confirm"))) { e.preventDefault(); return; }
          var button = e.target.closest("button[data-copy]");
          if (!button) return;
          var box = document.getElementById(button.getAttribute("data-copy"));
          if (!box) return;
          var done = function () { button.textContent = button.getAttribute("data-done") || "OK"; };
          var fallback = function () {
            box.focus(); box.select();
            try { if (document.execCommand("copy")) done(); } catch (_) {}
          };
          if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(box.value).then(done, fallback);
          } else {
            fallback();
          }
        });
        """
}
