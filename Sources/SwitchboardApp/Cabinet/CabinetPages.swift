import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

extension Cabinet {
    static func time(_ d: Date?) -> String {
        guard let d else { return "" }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "Europe/Moscow")
        f.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return f.string(from: d)
    }

    func integrationsPage(_ req: Request, _ s: SessionStore.Session) async throws -> Response {
        let l = lang(req, s)
        let list = try await sb.integrations.list(tenantId: s.tenantId)
        let credentials = try await sb.credentials.list(tenantId: s.tenantId)
        let lastHour = Date().addingTimeInterval(-3600)
        let dead = try await sb.queue.list(tenantId: s.tenantId, state: .dead, limit: 1000).filter { $0.updatedAt > lastHour }
        var cards = ""
        for i in list {
            let credential = credentials.first { $0.id == i.credentialId }
            let errors = dead.filter { $0.partitionKey == CallJobKind.partition(i) }.count
            var badges: [String] = [i.active ? "<span class=\"badge ok\">\(l.t("state.active"))</span>"
                                             : "<span class=\"badge\">\(l.t("state.off"))</span>"]
            if credential?.status == "reconnect" { badges.append("<span class=\"badge bad\">\(l.t("state.reconnect"))</span>") }
            if errors > 0 { badges.append("<span class=\"badge warn\">\(l.t("state.errors")): \(errors)</span>") }
            cards += """
            <section class="card" aria-label="\(esc(i.name))"><h2><a href="/cabinet/integrations/\(esc(i.id))">\(esc(i.name))</a></h2>
            <p>\(esc(i.crm.rawValue)) · \(esc(credential?.name ?? ""))<br><small>\(esc(credential?.baseURL))</small></p>
            <p>\(badges.joined(separator: " "))</p>
            \(sb.connectors[i.crm]?.users != nil ? "<p><a href=\"/cabinet/integrations/\(esc(i.id))/employees\">\(l == .ru ? "Синхронизация сотрудников" : "Employee sync")</a></p>" : "")
            \(sb.connectors[i.crm]?.texts != nil ? "<p><a href=\"/cabinet/integrations/\(esc(i.id))/texts\">\(l == .ru ? "Заявки и чаты" : "Requests and chats")</a></p>" : "")</section>
            """
        }
        // Every CRM has a card: the ones not connected yet say so (a served one can be connected here).
        let served = sb.connectors.all.map { (kind: $0.kind, title: l == .ru ? $0.titleRU : $0.title, served: true) }
        let planned = sb.connectors.planned.map { (kind: $0.kind, title: l == .ru ? $0.titleRU : $0.title, served: false) }
        for (crm, title, isServed) in served + planned where !list.contains(where: { $0.crm == crm }) {
            let action = isServed ? """
                <form method="post" action="/cabinet/integrations"><input type="hidden" name="csrf" value="\(esc(s.csrf))">
                <input type="hidden" name="crm" value="\(esc(crm.rawValue))"><button type="submit">\(l == .ru ? "Подключить интеграцию" : "Connect")</button></form>
                """ : "<p><small>\(l == .ru ? "скоро" : "coming")</small></p>"
            cards += """
            <section class="card" aria-label="\(esc(title))"><h2>\(esc(title))</h2>
            <p><span class="badge">\(l == .ru ? "не подключена" : "not connected")</span></p>\(action)</section>
            """
        }
        return page(l, title: l.t("integrations"), body: """
            <h1>\(l.t("integrations"))</h1>
            <div class="cards">\(cards)</div>
            """, csrf: s.csrf, email: s.email)
    }

    func callsPage(_ req: Request, _ s: SessionStore.Session) async throws -> Response {
        let l = lang(req, s)
        let q = req.uri.queryParameters
        var filter = CallStore.Filter(limit: 200)
        let day = DateFormatter()
        day.locale = Locale(identifier: "en_US_POSIX")
        day.dateFormat = "yyyy-MM-dd"
        day.timeZone = TimeZone(identifier: "Europe/Moscow")
        let from = q["from"].map(String.init) ?? "", to = q["to"].map(String.init) ?? ""
        filter.from = day.date(from: from)
        filter.to = day.date(from: to).map { $0.addingTimeInterval(86_400) }
        filter.number = q["number"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        filter.employee = q["employee"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        filter.result = q["result"].flatMap { CallResult(rawValue: String($0)) }
        let calls = try await sb.calls.list(tenantId: s.tenantId, filter: filter)
        let employees = try await sb.pbx.employees(tenantId: s.tenantId)
        let ctx = try await journalContext(tenantId: s.tenantId)
        let kept = try await sb.entities.all(integrationIds: Array(ctx.integrations.keys), scopes: calls.map(\.id))
        var rows = ""
        for c in calls {
            let jobs = try await sb.queue.list(tenantId: s.tenantId, callId: c.id)
            let talkers = c.talkers.map { ctx.name($0, on: c.pbxConnectionId) }.joined(separator: " → ")
            rows += """
            <tr><td><a href="/cabinet/calls/\(esc(c.id))">\(Self.time(c.createdAt))</a></td><td>\(l.t("dir." + c.direction.rawValue))</td>
            <td>\(esc(c.client?.display))</td><td>\(l.t("result." + c.result.rawValue))</td><td>\(esc(talkers))</td>
            <td>\(c.result == .answered ? Self.duration(c.talkSec, l) : "")</td><td>\(madeCell(made(jobs: jobs, kept: kept[c.id] ?? [:], ctx: ctx, l)))</td></tr>
            """
        }
        let resultOptions = ([""] + CallResult.allCases.map(\.rawValue)).map { r in
            "<option value=\"\(r)\"\(filter.result?.rawValue == r ? " selected" : "")>\(r.isEmpty ? l.t("any") : l.t("result." + r))</option>"
        }.joined()
        let employeeOptions = ([("", "")] + employees.map { ($0.login, $0.name.isEmpty ? $0.login : $0.name) }).map { e in
            "<option value=\"\(esc(e.0))\"\(filter.employee == e.0 ? " selected" : "")>\(e.0.isEmpty ? l.t("any") : esc(e.1))</option>"
        }.joined()
        return page(l, title: l.t("calls"), body: """
            <h1>\(l.t("calls"))</h1>
            <form class="filters" method="get" action="/cabinet/calls">
              <label for="from">\(l.t("from"))<input id="from" name="from" type="date" value="\(esc(from))"></label>
              <label for="to">\(l.t("to"))<input id="to" name="to" type="date" value="\(esc(to))"></label>
              <label for="number">\(l.t("number"))<input id="number" name="number" inputmode="tel" value="\(esc(filter.number))"></label>
              <label for="employee">\(l.t("employee"))<select id="employee" name="employee">\(employeeOptions)</select></label>
              <label for="result">\(l.t("result"))<select id="result" name="result">\(resultOptions)</select></label>
              <button type="submit">\(l.t("filter"))</button>
            </form>
            \(calls.isEmpty ? "<p>\(l.t("no.calls"))</p>" : """
            <div class="scroll"><table><thead><tr><th>\(l.t("when"))</th><th>\(l.t("direction"))</th><th>\(l.t("number"))</th>
            <th>\(l.t("result"))</th><th>\(l.t("talkers"))</th><th>\(l.t("duration"))</th><th>\(l.t("crm"))</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """)
            """, csrf: s.csrf, email: s.email)
    }

    func callPage(_ req: Request, _ ctx: AppRequestContext, _ s: SessionStore.Session) async throws -> Response {
        let l = lang(req, s)
        guard let call = try await sb.calls.get(tenantId: s.tenantId, id: try ctx.param("id")) else {
            return page(l, title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
        }
        let ctx = try await journalContext(tenantId: s.tenantId)
        let who = { (login: String?) in login.map { ctx.name($0, on: call.pbxConnectionId) } ?? "" }
        let legs = call.legs.map {
            "<tr><td>\(esc(who($0.employeeLogin ?? $0.id)))</td><td>\(esc($0.group))</td><td>\(esc(Self.pbxWord($0.state.rawValue, l)))</td>" +
                "<td>\(Self.time($0.startedAt))</td><td>\(Self.time($0.answeredAt))</td><td>\(Self.time($0.endedAt))</td>" +
                "<td>\(esc(Self.pbxWord($0.endReason, l)))</td></tr>"
        }.joined()
        let events = try await sb.calls.events(tenantId: s.tenantId, callId: call.id).map {
            "<tr><td>\(Self.time($0.receivedAt))</td><td>\(esc(Self.pbxWord($0.event.providerType, l)))</td><td>\(esc(who($0.event.employeeLogin)))</td></tr>"
        }.joined()
        let callJobs = try await sb.queue.list(tenantId: s.tenantId, callId: call.id)
        let kept = try await sb.entities.all(integrationIds: Array(ctx.integrations.keys), scopes: [call.id])[call.id] ?? [:]
        let outcome = made(jobs: callJobs, kept: kept, ctx: ctx, l).map { m in
            let replay = m.jobId.map { id in """
                <form method="post" action="/cabinet/jobs/\(id)/retry" class="inline"><input type="hidden" name="csrf" value="\(esc(s.csrf))">
                <button type="submit">\(l.jt("made.replay"))</button></form>
                """ } ?? ""
            return "<li>\(madeCell([m])) \(replay)</li>"
        }.joined()
        var jobs = ""
        for job in callJobs.reversed() {
            let attempts = try await sb.queue.attempts(tenantId: s.tenantId, jobId: job.id)
            var rows = ""
            for a in attempts {
                for e in a.exchanges {
                    rows += "<tr><td>\(a.attempt)</td><td><pre>\(esc(e.phrase.map(l.say) ?? e.note ?? e.request))</pre></td>" +
                        "<td>\(e.status.map(String.init) ?? "")</td><td><pre>\(esc(e.response.map { String($0.prefix(400)) }))</pre></td></tr>"
                }
                if a.detail != nil { rows += "<tr><td>\(a.attempt)</td><td colspan=\"3\" class=\"error\">\(esc(l.say(a.detailPhrase, else: a.detail)))</td></tr>" }
            }
            let retry = job.state == .dead ? """
                <form method="post" action="/cabinet/jobs/\(job.id)/retry" class="inline"><input type="hidden" name="csrf" value="\(esc(s.csrf))">
                <button type="submit">\(l.t("retry"))</button></form>
                """ : ""
            jobs += """
            <h3>\(esc(jobTitle(job.kind, l))) <span class="badge \(job.state == .done ? "ok" : job.state == .dead ? "bad" : "")">\(l.t("job." + job.state.rawValue))</span> \(retry)</h3>
            \(job.lastError.map { _ in "<p class=\"error\">\(l.t("reason")): \(esc(l.say(job.lastErrorPhrase, else: job.lastError)))</p>" } ?? "")
            <div class="scroll"><table><thead><tr><th>\(l.t("attempt"))</th><th>\(l.t("request"))</th><th>HTTP</th><th>\(l.t("answer"))</th></tr></thead>
            <tbody>\(rows)</tbody></table></div>
            """
        }
        return page(l, title: l.t("call"), body: """
            <h1>\(l.t("call")) \(esc(call.client?.display)) · \(l.t("result." + call.result.rawValue))</h1>
            <p>\(l.t("dir." + call.direction.rawValue)) · \(Self.time(call.createdAt)) · \(l.t("talkers")): \(esc(call.talkers.map { who($0) }.joined(separator: " → ")))
            \(call.result == .answered ? "· " + Self.duration(call.talkSec, l) : "") \(call.waitSec.map { "· \(l.jt("wait")): " + Self.duration($0, l) } ?? "")
            \(call.recordingURL.map { "· <a href=\"\(esc($0))\">MP3</a>" } ?? "")</p>
            \(outcome.isEmpty ? "" : "<section aria-label=\"\(l.jt("made.title"))\"><h2>\(l.jt("made.title"))</h2><ul class=\"made\">\(outcome)</ul></section>")
            <h2>\(l.t("legs"))</h2><div class="scroll"><table><thead><tr><th>\(l.t("employee"))</th><th>\(l.jt("leg.group"))</th>
            <th>\(l.jt("leg.state"))</th><th>\(l.jt("leg.started"))</th><th>\(l.jt("leg.answered"))</th><th>\(l.jt("leg.ended"))</th>
            <th>\(l.jt("leg.reason"))</th></tr></thead><tbody>\(legs)</tbody></table></div>
            <h2>\(l.t("jobs"))</h2>\(jobs.isEmpty ? "<p>—</p>" : jobs)
            <h2>\(l.t("events"))</h2><div class="scroll"><table><thead><tr><th>\(l.t("when"))</th><th>\(l.jt("event"))</th>
            <th>\(l.t("employee"))</th></tr></thead><tbody>\(events)</tbody></table></div>
            """, csrf: s.csrf, email: s.email)
    }
}
