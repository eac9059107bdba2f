import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStorage

/// The call dashboard (issue 14, item 4): calls per day by result as a server-drawn SVG chart (no script, so the
/// cabinet's Content-Security-Policy stays as it is), the figures a manager reads at a glance, and the tables under
/// them. The same numbers come from `GET /api/v1/analytics/calls`.
extension Cabinet {
    /// The results in the chart's stacking order, with their colours.
    static let resultColours: [(CallResult, String)] = [
        (.answered, "#2e9e5b"), (.missed, "#d64541"), (.noAnswer, "#f39c12"), (.busy, "#8e44ad"), (.cancelled, "#7f8c8d"),
        (.failed, "#34495e"), (.notAllowed, "#b0b7c3"), (.notFound, "#d5d9e0"), (.pending, "#3498db"),
    ]

    func dashboardPage(_ req: Request, _ s: SessionStore.Session) async throws -> Response {
        let l = lang(req, s)
        let q = req.uri.queryParameters
        let period: CallPeriod
        var problem = ""
        do {
            period = try CallPeriod.parse(from: q["from"].map(String.init), to: q["to"].map(String.init))
        } catch let e as APIError {
            problem = "<p class=\"error\" role=\"alert\">\(esc(l.jt("dash.badPeriod"))) (\(esc(e.message)))</p>"
            period = try CallPeriod.parse(from: nil, to: nil)
        }
        let r = try await period.report(CallAnalyticsStore(db: sb.db), tenantId: s.tenantId)

        let percent = r.answerRate.map { String(format: "%.0f%%", $0 * 100) } ?? "—"
        let wait = r.averageWaitSec.map { Self.duration(Int($0.rounded()), l) } ?? "—"
        let tiles = [
            ("dash.calls", "\(r.calls)", "\(l.t("dir.inbound")): \(r.inbound) · \(l.t("dir.outbound")): \(r.outbound)"),
            ("dash.answerRate", percent, "\(r.inboundAnswered) / \(r.inboundAnswered + r.missed)"),
            ("dash.missed", "\(r.missed)", ""),
            ("dash.notCalledBack", "\(r.missedNotCalledBack)", l.jt("dash.notCalledBack.hint")),
            ("dash.avgWait", wait, l.jt("dash.avgWait.hint")),
        ].map { key, value, hint in
            "<section class=\"card tile\" aria-label=\"\(esc(l.jt(key)))\"><h2>\(esc(l.jt(key)))</h2><p class=\"big\" data-figure=\"\(key)\">\(esc(value))</p><small>\(esc(hint))</small></section>"
        }.joined()

        let shown = Self.resultColours.filter { c in r.days.contains { ($0.byResult[c.0.rawValue] ?? 0) > 0 } }
        let legend = shown.map { c in
            "<li><span class=\"swatch\" style=\"background:\(c.1)\"></span>\(esc(l.t("result." + c.0.rawValue)))</li>"
        }.joined()
        let dayRows = r.days.filter { $0.total > 0 }.reversed().map { d in
            "<tr><td>\(esc(d.date))</td><td>\(d.total)</td>" + shown.map { "<td>\(d.byResult[$0.0.rawValue] ?? 0)</td>" }.joined() + "</tr>"
        }.joined()
        let employeeRows = r.employees.map { e in
            "<tr><td>\(esc(e.name))</td><td>\(e.inboundAnswered)</td><td>\(e.outboundAnswered)</td>" +
                "<td>\(Self.duration(e.talkSec, l))</td><td>\(e.averageWaitSec.map { Self.duration(Int($0.rounded()), l) } ?? "—")</td></tr>"
        }.joined()

        return page(l, title: l.jt("dashboard"), body: """
            <style>
            .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(190px,1fr));gap:.8rem}.tile h2{font-size:.9rem;margin:0;font-weight:600;color:#3a4355}
            .big{font-size:1.8rem;font-weight:700;margin:.3rem 0}.chart{background:#fff;border:1px solid #dde2ec;border-radius:8px;padding:.5rem}
            .chart svg{width:100%;height:auto;display:block}ul.legend{display:flex;flex-wrap:wrap;gap:.8rem;list-style:none;padding:0;margin:.4rem 0}
            .swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;margin-right:.3rem;vertical-align:-1px}
            </style>
            <h1>\(l.jt("dashboard"))</h1>
            <form class="filters" method="get" action="/cabinet/dashboard">
              <label for="from">\(l.t("from"))<input id="from" name="from" type="date" value="\(esc(r.from))"></label>
              <label for="to">\(l.t("to"))<input id="to" name="to" type="date" value="\(esc(r.to))"></label>
              <button type="submit">\(l.t("filter"))</button>
            </form>\(problem)
            <div class="tiles">\(tiles)</div>
            <h2>\(l.jt("dash.perDay"))</h2>
            <div class="chart">\(Self.dayChart(r.days, shown: shown, l))<ul class="legend">\(legend)</ul></div>
            \(dayRows.isEmpty ? "<p>\(l.jt("dash.none"))</p>" : """
            <details><summary>\(l.jt("dash.table"))</summary><div class="scroll"><table class="days"><thead><tr><th>\(l.jt("dash.day"))</th>
            <th>\(l.jt("dash.total"))</th>\(shown.map { "<th>\(esc(l.t("result." + $0.0.rawValue)))</th>" }.joined())</tr></thead>
            <tbody>\(dayRows)</tbody></table></div></details>
            """)
            <h2>\(l.jt("dash.perEmployee"))</h2>
            \(employeeRows.isEmpty ? "<p>—</p>" : """
            <div class="scroll"><table class="employees"><thead><tr><th>\(l.t("employee"))</th><th>\(l.jt("dash.inboundAnswered"))</th>
            <th>\(l.jt("dash.outboundAnswered"))</th><th>\(l.jt("dash.talk"))</th><th>\(l.jt("dash.avgWait"))</th></tr></thead>
            <tbody>\(employeeRows)</tbody></table></div>
            """)
            <p><small>\(esc(l.jt("dash.note")))</small></p>
            """, csrf: s.csrf, email: s.email)
    }

    /// Stacked bars, one per day, by result; each bar says its numbers on hover and to screen readers.
    static func dayChart(_ days: [CallAnalyticsStore.Day], shown: [(CallResult, String)], _ l: Lang) -> String {
        let (width, height, left, bottom, top) = (900.0, 260.0, 36.0, 28.0, 10.0)
        let plotW = width - left - 8, plotH = height - bottom - top
        let peak = max(1, days.map(\.total).max() ?? 0)
        let step = Self.niceStep(peak)
        let ceiling = Double((peak + step - 1) / step * step)
        var svg = """
            <svg viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg" font-size="11" font-family="system-ui,sans-serif">
            <title id="chart-title">\(esc(l.jt("dash.perDay")))</title>
            """
        var tick = 0
        while Double(tick) <= ceiling {
            let y = top + plotH - Double(tick) / ceiling * plotH
            svg += "<line x1=\"\(left)\" x2=\"\(width - 8)\" y1=\"\(y)\" y2=\"\(y)\" stroke=\"#e6e9f0\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(y + 4)\" text-anchor=\"end\" fill=\"#5a6272\">\(tick)</text>"
            tick += step
        }
        let slot = plotW / Double(max(1, days.count))
        let labelEvery = max(1, Int((Double(days.count) / 10).rounded(.up)))
        for (i, d) in days.enumerated() {
            let x = left + Double(i) * slot + slot * 0.15
            var y = top + plotH
            let parts = shown.compactMap { c in (d.byResult[c.0.rawValue] ?? 0) > 0 ? (c, d.byResult[c.0.rawValue]!) : nil }
            let summary = d.date + ": " + (parts.isEmpty ? "0" : parts.map { "\(l.t("result." + $0.0.0.rawValue)) \($0.1)" }.joined(separator: ", "))
            svg += "<g class=\"day\" data-day=\"\(d.date)\" data-total=\"\(d.total)\"><title>\(esc(summary))</title>"
            for (c, n) in parts {
                let h = Double(n) / ceiling * plotH
                y -= h
                svg += "<rect x=\(Self.f(x)) y=\(Self.f(y)) width=\(Self.f(slot * 0.7)) height=\(Self.f(h)) fill=\"\(c.1)\"/>"
            }
            svg += "</g>"
            if i % labelEvery == 0 {
                svg += "<text x=\(Self.f(x + slot * 0.35)) y=\"\(height - 10)\" text-anchor=\"middle\" fill=\"#5a6272\">\(esc(String(d.date.suffix(5))))</text>"
            }
        }
        return svg + "</svg>"
    }

    static func f(_ v: Double) -> String { "\"" + String(format: "%.1f", v) + "\"" }

    /// A step for the axis: 1, 2 or 5 times a power of ten, about four lines up to `peak`.
    static func niceStep(_ peak: Int) -> Int {
        var base = 1
        while true {
            for m in [1, 2, 5] where peak <= base * m * 4 { return base * m }
            base *= 10
        }
    }
}

extension Strings {
    static let dashboard: [Lang: [String: String]] = [
        .ru: [
            "dashboard": "Дашборд звонков", "dash.calls": "Звонков с клиентами", "dash.answerRate": "Принято входящих",
            "dash.missed": "Пропущено входящих", "dash.notCalledBack": "Пропущены и не перезвонили",
            "dash.notCalledBack.hint": "нет принятого звонка с этим номером в течение 24 ч",
            "dash.avgWait": "Среднее ожидание ответа", "dash.avgWait.hint": "от первого гудка до ответа, по принятым входящим",
            "dash.perDay": "Звонки по дням и результатам", "dash.perEmployee": "По сотрудникам", "dash.table": "Таблица по дням",
            "dash.inboundAnswered": "Принял входящих", "dash.outboundAnswered": "Исходящих с ответом",
            "dash.talk": "Время разговоров", "dash.day": "День", "dash.total": "Всего", "dash.none": "За период звонков нет.",
            "dash.badPeriod": "Период указан неверно, показаны последние 30 дней",
            "dash.note": "Дни — по московскому времени. Внутренние звонки не учитываются; звонок засчитывается сотруднику, который ответил первым.",
        ],
        .en: [
            "dashboard": "Call dashboard", "dash.calls": "Calls with clients", "dash.answerRate": "Incoming answered",
            "dash.missed": "Incoming missed", "dash.notCalledBack": "Missed, not called back",
            "dash.notCalledBack.hint": "no answered call with the number within 24 h",
            "dash.avgWait": "Average wait", "dash.avgWait.hint": "from the first ring to the answer, answered incoming calls",
            "dash.perDay": "Calls per day by result", "dash.perEmployee": "Per employee", "dash.table": "Table by day",
            "dash.inboundAnswered": "Incoming answered", "dash.outboundAnswered": "Outgoing answered",
            "dash.talk": "Talk time", "dash.day": "Day", "dash.total": "Total", "dash.none": "No calls in this period.",
            "dash.badPeriod": "The period is not valid; the last 30 days are shown",
            "dash.note": "Days are Moscow days. Internal calls are not counted; a call counts for the employee who answered first.",
        ],
    ]
}
