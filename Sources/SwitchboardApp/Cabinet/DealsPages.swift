import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStorage

/// "Сырые данные → Сделки" (CORE-16) and "Сквозная аналитика" (CORE-17): the imported deals, and calls joined to them
/// with charts rendered on the server (SVG), a table and a CSV export.
extension Cabinet {
    func registerDeals(on router: Router<AppRequestContext>) {
        router.get("cabinet/deals") { req, _ in try await authed(req) { try await dealsPage(req, $0) } }
        router.get("cabinet/deals/:integration/:id") { req, ctx in try await authed(req) { try await dealPage(req, ctx, $0) } }
        router.get("cabinet/analytics") { req, _ in try await authed(req) { try await analyticsPage(req, $0, csv: false) } }
        router.get("cabinet/analytics.csv") { req, _ in try await authed(req) { try await analyticsPage(req, $0, csv: true) } }
    }

    static var dayFormat: DateFormatter {
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.dateFormat = "yyyy-MM-dd"
        day.timeZone = TimeZone(identifier: "Europe/Moscow")
        return day
    }

    static func money(_ amount: Double, _ currency: String?) -> String {
        let f = NumberFormatter()
        f.numberStyle = .decimal
        f.groupingSeparator = "\u{202F}"
        f.decimalSeparator = ","
        f.maximumFractionDigits = 2
        return (f.string(from: NSNumber(value: amount)) ?? String(amount)) + (currency.map { " " + $0 } ?? "")
    }

    static func statusWord(_ s: DealStatus, _ l: Lang) -> String {
        switch s {
        case .open: return l == .ru ? "в работе" : "open"
        case .won: return l == .ru ? "успешна" : "won"
        case .lost: return l == .ru ? "провалена" : "lost"
        }
    }

    static func statusBadge(_ s: DealStatus, _ l: Lang) -> String {
        "<span class=\"badge\(s == .won ? " ok" : s == .lost ? " bad" : "")\">\(statusWord(s, l))</span>"
    }

    func dealsPage(_ req: Request, _ s: SessionStore.Session) async throws -> Response {
        let l = lang(req, s)
        let q = req.uri.queryParameters
        let day = Self.dayFormat
        let from = q["from"].map(String.init) ?? "", to = q["to"].map(String.init) ?? ""
        var filter = DealStore.Filter(limit: 200)
        filter.from = day.date(from: from)
        filter.to = day.date(from: to).map { $0.addingTimeInterval(86_400) }
        filter.status = q["status"].flatMap { DealStatus(rawValue: String($0)) }
        filter.integrationId = q["integration"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        filter.query = q["q"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let deals = try await sb.deals.list(tenantId: s.tenantId, filter: filter)
        let integrations = try await sb.integrations.list(tenantId: s.tenantId).filter { sb.connectors[$0.crm]?.deals != nil }
        let names = Dictionary(integrations.map { ($0.id, $0.name.isEmpty ? $0.crm.rawValue : $0.name) }) { a, _ in a }
        var rows = ""
        for d in deals {
            let r = d.deal
            let products = r.products.map { "\($0.name) × \(Self.number($0.quantity))" }.joined(separator: ", ")
            rows += """
            <tr><td>\(r.createdAt.map { Self.time($0) } ?? "")</td><td>\(esc(names[d.integrationId] ?? d.crm.rawValue))</td>
            <td><a href="/cabinet/deals/\(esc(d.integrationId))/\(esc(r.id))">\(esc(r.title.isEmpty ? "#" + r.id : r.title))</a></td>
            <td>\(Self.money(r.amount, r.currency))</td><td>\(esc([r.pipelineName, r.stageName ?? r.stageId].compactMap { $0 }.joined(separator: " → ")))</td>
            <td>\(Self.statusBadge(r.status, l))</td><td>\(esc(r.responsibleName ?? r.responsibleId))</td>
            <td>\(esc(r.phones.joined(separator: ", ")))</td><td>\(esc(products))</td></tr>
            """
        }
        let integrationOptions = ([("", l.t("any"))] + integrations.map { ($0.id, names[$0.id] ?? $0.id) }).map { i in
            "<option value=\"\(esc(i.0))\"\(filter.integrationId == i.0 || (filter.integrationId == nil && i.0.isEmpty) ? " selected" : "")>\(esc(i.1))</option>"
        }.joined()
        let statusOptions = ([""] + DealStatus.allCases.map(\.rawValue)).map { v in
            "<option value=\"\(v)\"\(filter.status?.rawValue == v ? " selected" : "")>\(v.isEmpty ? l.t("any") : Self.statusWord(DealStatus(rawValue: v)!, l))</option>"
        }.joined()
        let title = l == .ru ? "Сырые данные → Сделки" : "Raw data → Deals"
        let empty = l == .ru
            ? "Сделок пока нет. Они появляются, когда в CRM создают или меняют сделку, и при подключении интеграции (загрузка существующих)."
            : "No deals yet. They appear when a deal is created or changed in the CRM, and when an integration is switched on (existing deals are loaded)."
        let head = l == .ru
            ? ["Создана", "Интеграция", "Сделка", "Сумма", "Воронка → этап", "Статус", "Ответственный", "Телефоны", "Товары"]
            : ["Created", "Integration", "Deal", "Amount", "Pipeline → stage", "Status", "Responsible", "Phones", "Products"]
        return page(l, title: title, body: """
            <h1>\(title)</h1>
            <p><a href="/cabinet/analytics">\(l == .ru ? "Сквозная аналитика" : "End-to-end analytics")</a></p>
            <form class="filters" method="get" action="/cabinet/deals">
              <label for="integration">\(l == .ru ? "Интеграция" : "Integration")<select id="integration" name="integration">\(integrationOptions)</select></label>
              <label for="status">\(l == .ru ? "Статус" : "Status")<select id="status" name="status">\(statusOptions)</select></label>
              <label for="from">\(l.t("from"))<input id="from" name="from" type="date" value="\(esc(from))"></label>
              <label for="to">\(l.t("to"))<input id="to" name="to" type="date" value="\(esc(to))"></label>
              <label for="q">\(l == .ru ? "Название или телефон" : "Title or phone")<input id="q" name="q" value="\(esc(filter.query))"></label>
              <button type="submit">\(l.t("filter"))</button>
            </form>
            \(deals.isEmpty ? "<p>\(empty)</p>" : """
            <div class="scroll"><table><thead><tr>\(head.map { "<th>\($0)</th>" }.joined())</tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """)
            """, csrf: s.csrf, email: s.email)
    }

    static func number(_ d: Double) -> String { d == d.rounded() ? String(Int64(d)) : String(d) }

    func dealPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        let l = lang(req, s)
        let integration = try ctx.param("integration"), id = try ctx.param("id")
        guard let stored = try await sb.deals.get(tenantId: s.tenantId, integrationId: integration, dealId: id) else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let d = stored.deal
        let history = try await sb.deals.history(tenantId: s.tenantId, integrationId: integration, dealId: id).map {
            "<tr><td>\(Self.time($0.at))</td><td>\(esc($0.stageName ?? $0.stageId))</td><td>\(Self.statusBadge($0.status, l))</td></tr>"
        }.joined()
        let products = d.products.map {
            "<tr><td>\(esc($0.name))</td><td>\(Self.number($0.quantity))</td><td>\(Self.money($0.price, d.currency))</td></tr>"
        }.joined()
        let ru = l == .ru
        let facts: [(String, String)] = [
            (ru ? "Сумма" : "Amount", Self.money(d.amount, d.currency)),
            (ru ? "Воронка" : "Pipeline", esc(d.pipelineName ?? d.pipelineId)), (ru ? "Этап" : "Stage", esc(d.stageName ?? d.stageId)),
            (ru ? "Статус" : "Status", Self.statusBadge(d.status, l)),
            (ru ? "Ответственный" : "Responsible", esc(d.responsibleName ?? d.responsibleId)),
            (ru ? "Телефоны контактов" : "Contacts' phones", esc(d.phones.joined(separator: ", "))),
            (ru ? "Склад" : "Store", esc(d.store)), (ru ? "Создана" : "Created", d.createdAt.map { Self.time($0) } ?? ""),
            (ru ? "Закрыта" : "Closed", d.closedAt.map { Self.time($0) } ?? ""),
            (ru ? "Загружена" : "Imported", Self.time(stored.importedAt)),
        ]
        return page(l, title: d.title, body: """
            <p><a href="/cabinet/deals">← \(ru ? "Сделки" : "Deals")</a></p>
            <h1>\(esc(d.title.isEmpty ? "#" + d.id : d.title))</h1>
            <table>\(facts.map { "<tr><th scope=\"row\">\($0.0)</th><td>\($0.1)</td></tr>" }.joined())</table>
            <h2>\(ru ? "Товары и услуги" : "Products and services")</h2>
            \(products.isEmpty ? "<p>—</p>" : "<table><thead><tr><th>\(ru ? "Название" : "Name")</th><th>\(ru ? "Количество" : "Quantity")</th><th>\(ru ? "Цена" : "Price")</th></tr></thead><tbody>\(products)</tbody></table>")
            <h2>\(ru ? "История этапов" : "Stage history")</h2>
            <table><thead><tr><th>\(l.t("when"))</th><th>\(ru ? "Этап" : "Stage")</th><th>\(ru ? "Статус" : "Status")</th></tr></thead><tbody>\(history)</tbody></table>
            <details><summary>\(ru ? "Как сделку отдала CRM" : "As the CRM sent it")</summary><pre>\(esc(JSON.string(d.raw)))</pre></details>
            """, csrf: s.csrf, email: s.email)
    }

    func analyticsPage(_ req: Request, _ s: SessionStore.Session, csv: Bool) async throws -> Response {
        let l = lang(req, s), ru = l == .ru
        let q = req.uri.queryParameters
        let day = Self.dayFormat
        let to = q["to"].flatMap { day.date(from: String($0)) }.map { $0.addingTimeInterval(86_400) }
            ?? day.date(from: day.string(from: Date()))!.addingTimeInterval(86_400)
        let from = q["from"].flatMap { day.date(from: String($0)) } ?? to.addingTimeInterval(-30 * 86_400)
        let by = q["by"].flatMap { DealAnalytics.Dimension(rawValue: String($0)) } ?? .line
        let attribution = q["attribution"].flatMap { DealAnalytics.Attribution(rawValue: String($0)) } ?? .first
        let (start, end) = from < to ? (from, to) : (to.addingTimeInterval(-86_400), to)
        let report = try await sb.dealAnalytics(tenantId: s.tenantId, from: start, to: end, by: by, attribution: attribution)
        var names: [String: String] = [:]
        if by == .employee {
            for e in try await sb.pbx.employees(tenantId: s.tenantId) where !e.name.isEmpty { names[e.login] = e.name }
        }
        let none = ru ? "не указан" : "none"
        let channels: [String: String] = [DealAnalytics.Channel.call.rawValue: ru ? "Звонки" : "Calls",
                                          DealAnalytics.Channel.request.rawValue: ru ? "Заявки" : "Requests",
                                          DealAnalytics.Channel.chat.rawValue: ru ? "Чаты" : "Chats"]
        func label(_ key: String) -> String {
            if by == .channel { return channels[key] ?? key }
            if key.isEmpty {
                switch by {
                case .employee: return ru ? "без разговора" : "nobody talked"
                case .site: return ru ? "звонки (без сайта)" : "calls (no site)"
                default: return none
                }
            }
            return names[key] ?? key
        }
        if csv { return DealsRoutes.csv(report, from: start, to: end, names: names) }
        let main = DealAnalytics.mainCurrency(report.totals.revenue)
        let dims: [(DealAnalytics.Dimension, String)] = [(.line, ru ? "Виртуальный номер" : "Virtual number"),
                                                         (.campaign, ru ? "Кампания (UTM)" : "Campaign (UTM)"),
                                                         (.employee, ru ? "Сотрудник" : "Employee"),
                                                         (.site, ru ? "Сайт (заявки и чаты)" : "Site (requests and chats)"),
                                                         (.channel, ru ? "Канал: звонок, заявка, чат" : "Channel: call, request, chat")]
        let dimOptions = dims.map { "<option value=\"\($0.0.rawValue)\"\($0.0 == by ? " selected" : "")>\($0.1)</option>" }.joined()
        let attrOptions = [(DealAnalytics.Attribution.first, ru ? "первое касание" : "first touch"),
                           (.last, ru ? "последнее касание" : "last touch")]
            .map { "<option value=\"\($0.0.rawValue)\"\($0.0 == attribution ? " selected" : "")>\($0.1)</option>" }.joined()
        let fromText = day.string(from: start), toText = day.string(from: end.addingTimeInterval(-86_400))
        let percent = { (v: Double) in String(format: "%.1f %%", v * 100) }
        let rows = report.rows.map { r in
            "<tr><td>\(esc(label(r.key)))</td><td>\(r.calls)</td><td>\(r.texts)</td><td>\(r.contacts)</td><td>\(r.firstTouchDeals)</td><td>\(r.lastTouchDeals)</td>" +
                "<td>\(r.wonDeals)</td><td>\(Self.revenue(r.revenue))</td><td>\(percent(r.conversion))</td></tr>"
        }.joined()
        let t = report.totals
        let head = ru
            ? [dims.first { $0.0 == by }!.1, "Звонки", "Заявки и чаты", "Контакты", "Сделки (первое касание)", "Сделки (последнее касание)", "Успешные сделки", "Выручка", "Конверсия"]
            : [dims.first { $0.0 == by }!.1, "Calls", "Requests and chats", "Contacts", "Deals (first touch)", "Deals (last touch)", "Won deals", "Revenue", "Conversion"]
        let query = "from=\(fromText)&to=\(toText)&by=\(by.rawValue)&attribution=\(attribution.rawValue)"
        let revenueChart = Self.bars(title: (ru ? "Выручка, " : "Revenue, ") + main,
                                     report.rows.prefix(12).map { (label($0.key), [$0.revenue[main] ?? 0]) }, series: [ru ? "выручка" : "revenue"])
        let dealsChart = Self.bars(title: ru ? "Сделки по касаниям" : "Deals by touch",
                                   report.rows.prefix(12).map { (label($0.key), [Double($0.firstTouchDeals), Double($0.lastTouchDeals), Double($0.wonDeals)]) },
                                   series: ru ? ["первое касание", "последнее касание", "успешные"] : ["first touch", "last touch", "won"])
        let title = ru ? "Сквозная аналитика" : "End-to-end analytics"
        let explain = ru
            ? "Звонки, заявки и чаты за период (те, где оставлен телефон) соединены со сделками, созданными за период, по номеру клиента (последние 10 цифр). Касания сделки — звонки, заявки и чаты с номеров её контактов до её создания; выручка и успешные сделки засчитываются группе выбранного касания. Конверсия — доля контактов группы, чьё касание привело к успешной сделке."
            : "Calls, requests and chats of the period (those that left a phone number) are joined to the deals created in it by the client's number (last 10 digits). A deal's touches are the calls, requests and chats from its contacts' numbers before it was created; won deals and revenue go to the group of the chosen touch. Conversion is the share of a group's contacts whose touch brought a won deal."
        return page(l, title: title, body: """
            <h1>\(title)</h1>
            <p><a href="/cabinet/deals">\(ru ? "Сырые данные → Сделки" : "Raw data → Deals")</a></p>
            <form class="filters" method="get" action="/cabinet/analytics">
              <label for="from">\(l.t("from"))<input id="from" name="from" type="date" value="\(fromText)"></label>
              <label for="to">\(l.t("to"))<input id="to" name="to" type="date" value="\(toText)"></label>
              <label for="by">\(ru ? "Группировать по" : "Group by")<select id="by" name="by">\(dimOptions)</select></label>
              <label for="attribution">\(ru ? "Засчитывать" : "Credit")<select id="attribution" name="attribution">\(attrOptions)</select></label>
              <button type="submit">\(l.t("filter"))</button>
              <a href="/cabinet/analytics.csv?\(query)" download>\(ru ? "Скачать CSV" : "Download CSV")</a>
            </form>
            <div class="cards">
              <div class="card"><small>\(ru ? "Звонки" : "Calls")</small><div style="font-size:1.5rem;font-weight:700">\(t.calls)</div></div>
              <div class="card"><small>\(ru ? "Заявки и чаты" : "Requests and chats")</small><div style="font-size:1.5rem;font-weight:700">\(t.texts)</div></div>
              <div class="card"><small>\(ru ? "Контакты" : "Contacts")</small><div style="font-size:1.5rem;font-weight:700">\(t.contacts)</div></div>
              <div class="card"><small>\(ru ? "Сделки после звонков" : "Deals after calls")</small><div style="font-size:1.5rem;font-weight:700">\(t.firstTouchDeals)</div></div>
              <div class="card"><small>\(ru ? "Успешные сделки" : "Won deals")</small><div style="font-size:1.5rem;font-weight:700">\(t.wonDeals)</div></div>
              <div class="card"><small>\(ru ? "Выручка" : "Revenue")</small><div style="font-size:1.5rem;font-weight:700">\(Self.revenue(t.revenue))</div></div>
              <div class="card"><small>\(ru ? "Конверсия" : "Conversion")</small><div style="font-size:1.5rem;font-weight:700">\(percent(t.conversion))</div></div>
            </div>
            <p><small>\(explain) \(ru ? "Сделок без звонка до них" : "Deals without a call before them"): \(report.unattributedDeals).</small></p>
            \(report.rows.isEmpty ? "<p>\(ru ? "За период нет звонков, заявок и чатов." : "No calls, requests or chats in the period.")</p>" : """
            <div style="display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1rem;margin:1rem 0">\(revenueChart)\(dealsChart)</div>
            <div class="scroll"><table><thead><tr>\(head.map { "<th>\($0)</th>" }.joined())</tr></thead>
            <tbody>\(rows)</tbody>
            <tfoot><tr><th>\(ru ? "Итого" : "Total")</th><th>\(t.calls)</th><th>\(t.texts)</th><th>\(t.contacts)</th><th>\(t.firstTouchDeals)</th><th>\(t.lastTouchDeals)</th><th>\(t.wonDeals)</th><th>\(Self.revenue(t.revenue))</th><th>\(percent(t.conversion))</th></tr></tfoot>
            </table></div>
            """)
            """, csrf: s.csrf, email: s.email)
    }

    static func revenue(_ r: [String: Double]) -> String {
        r.isEmpty ? "0" : r.sorted { $0.key < $1.key }.map { money($0.value, $0.key) }.joined(separator: "<br>")
    }

    /// Horizontal bars, one group per row and one bar per series, drawn on the server (no script: the cabinet's
    /// content policy allows none inline). Each bar carries its number; a `<title>` names it for screen readers.
    static func bars(title: String, _ groups: [(String, [Double])], series: [String]) -> String {
        let colors = ["#1f3a5f", "#f0b429", "#2f9e44"]
        let barH = 14, gap = 4, labelW = 170, chartW = 360, rowH = series.count * (barH + gap) + 8
        let maxValue = max(1, groups.flatMap(\.1).max() ?? 1)
        let height = 34 + groups.count * rowH + 22
        var out = "<figure style=\"margin:0;background:#fff;border:1px solid #dde2ec;border-radius:8px;padding:.6rem\"><svg role=\"img\" aria-label=\"\(esc(title))\" viewBox=\"0 0 \(labelW + chartW + 90) \(height)\" width=\"100%\">"
        out += "<title>\(esc(title))</title><text x=\"0\" y=\"18\" font-weight=\"600\" font-size=\"14\">\(esc(title))</text>"
        for (i, group) in groups.enumerated() {
            let y = 34 + i * rowH
            let name = group.0.count > 24 ? String(group.0.prefix(23)) + "…" : group.0
            out += "<text x=\"0\" y=\"\(y + barH)\" font-size=\"12\">\(esc(name))</text>"
            for (j, value) in group.1.enumerated() {
                let w = max(value > 0 ? 2 : 0, Int((value / maxValue * Double(chartW)).rounded()))
                let by = y + j * (barH + gap)
                out += "<rect x=\"\(labelW)\" y=\"\(by)\" width=\"\(w)\" height=\"\(barH)\" fill=\"\(colors[j % colors.count])\">"
                    + "<title>\(esc(group.0)): \(esc(series[j])) \(number(value))</title></rect>"
                out += "<text x=\"\(labelW + w + 4)\" y=\"\(by + barH - 3)\" font-size=\"11\">\(esc(money(value, nil)))</text>"
            }
        }
        if series.count > 1 {
            let y = height - 8
            for (j, name) in series.enumerated() {
                let x = labelW + j * 130
                out += "<rect x=\"\(x)\" y=\"\(y - 10)\" width=\"10\" height=\"10\" fill=\"\(colors[j % colors.count])\"></rect>"
                    + "<text x=\"\(x + 14)\" y=\"\(y)\" font-size=\"11\">\(esc(name))</text>"
            }
        }
        return out + "</svg></figure>"
    }
}
