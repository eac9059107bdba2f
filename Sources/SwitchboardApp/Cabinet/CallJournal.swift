import Foundation
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardStorage

/// The call journal as a manager reads it: what was made in each CRM for a call (with links to the records), what
/// failed and why, durations in the page's language, employees by name, the legs' states and end reasons in words.
extension Cabinet {
    /// One thing the journal says about a call in a CRM.
    struct Made: Equatable {
        enum State: Equatable { case made, failed, pending, idle }
        var text: String
        var state: State
        var url: String? = nil
        /// Why it failed or is being retried, in the page's language.
        var reason: String? = nil
        /// The job to replay (a failed one).
        var jobId: Int64? = nil
    }

    /// The tenant's integrations, credentials and employees, read once per page.
    struct JournalContext {
        var integrations: [String: Integration] = [:]
        var credentials: [String: CRMCredential] = [:]
        /// "<PBX connection id>/<login>" → the employee's name.
        var names: [String: String] = [:]

        func name(_ login: String, on connection: String) -> String {
            names[connection + "/" + login].flatMap { $0.isEmpty ? nil : $0 } ?? login
        }
    }

    func journalContext(tenantId: String) async throws -> JournalContext {
        var ctx = JournalContext()
        for i in try await sb.integrations.list(tenantId: tenantId) { ctx.integrations[i.id] = i }
        for c in try await sb.credentials.list(tenantId: tenantId) { ctx.credentials[c.id] = c }
        for e in try await sb.pbx.employees(tenantId: tenantId) { ctx.names[e.pbxConnectionId + "/" + e.login] = e.name }
        return ctx
    }

    /// What the call's jobs made in each CRM, from the kept records (`kept`: integration → kind → CRM id) and the
    /// jobs' states: the records (linked where the CRM has a page for them), then a failed job with its reason, a
    /// job still being retried with the last error, or one still waiting. The CRM's name leads when the call went to
    /// more than one integration.
    func made(jobs: [Job], kept: [String: [String: String]], ctx: JournalContext, _ l: Lang) -> [Made] {
        var order: [String] = []
        var byIntegration: [String: [Job]] = [:]
        for job in jobs.sorted(by: { $0.id < $1.id }) {
            let owner = (try? JSON.decode(CallJobPayload.self, from: job.payload))?.integrationId ?? ""
            if byIntegration[owner] == nil { order.append(owner) }
            byIntegration[owner, default: []].append(job)
        }
        var out: [Made] = []
        for owner in order {
            let jobs = byIntegration[owner] ?? []
            let integration = ctx.integrations[owner]
            let crm = integration?.crm ?? CRMKind(String(jobs[0].kind.prefix { $0 != "." }))
            let connector = sb.connectors[crm]
            let title = connector.map { l == .ru ? $0.titleRU : $0.title } ?? crm.rawValue
            let lead = order.count > 1 ? title + ": " : ""
            let credential = integration?.credentialId.flatMap { ctx.credentials[$0] }
            var items: [Made] = []
            let records = kept[owner] ?? [:]
            for kind in connector?.madeKinds ?? [] {
                guard let key = records.keys.sorted().first(where: kind.matches) else { continue }
                let text = lead + (l == .ru ? kind.ru : kind.en)
                if items.contains(where: { $0.text == text }) { continue }
                let url = credential.flatMap { c in records[key].flatMap { connector?.recordURL?(key, $0, c) } }
                items.append(Made(text: text, state: .made, url: url))
            }
            for job in jobs {
                let what = lead + jobTitle(job.kind, l, withCRM: false)
                switch job.state {
                case .dead:
                    items.append(Made(text: what + " — " + l.jt("made.failed"), state: .failed,
                                      reason: job.lastError == nil ? l.jt("made.noReason") : l.say(job.lastErrorPhrase, else: job.lastError), jobId: job.id))
                case .queued where job.lastError != nil:
                    items.append(Made(text: what + " — " + l.jt("made.retrying"), state: .pending, reason: l.say(job.lastErrorPhrase, else: job.lastError)))
                case .queued, .running:
                    items.append(Made(text: what + " — " + l.t("job." + job.state.rawValue), state: .pending))
                case .done:
                    break
                }
            }
            if items.isEmpty {
                // A CRM that does not say what its jobs keep: its finished jobs read as done, as before.
                let declared = !(connector?.madeKinds.isEmpty ?? true)
                items.append(declared ? Made(text: lead + l.jt("made.nothing"), state: .idle) : Made(text: lead + l.t("job.done"), state: .made))
            }
            out += items
        }
        return out
    }

    /// The journal cell: a badge per thing made (a link to the record when there is one), failures in red with
    /// their reason.
    func madeCell(_ items: [Made]) -> String {
        guard !items.isEmpty else { return "—" }
        return items.map { m in
            let cls = switch m.state { case .made: "ok"; case .failed: "bad"; case .pending: "warn"; case .idle: "" }
            let badge = m.url.map { "<a class=\"badge \(cls)\" href=\"\(esc($0))\" target=\"_blank\" rel=\"noopener\">\(esc(m.text))</a>" }
                ?? "<span class=\"badge \(cls)\">\(esc(m.text))</span>"
            guard let reason = m.reason else { return badge }
            return badge + "<br><small class=\"\(m.state == .failed ? "error" : "")\">\(esc(reason))</small>"
        }.joined(separator: " ")
    }

    /// A job's title: "<CRM>: <what it does>" (`amocrm.call.finished` → "amoCRM: звонок завершён").
    func jobTitle(_ kind: String, _ l: Lang, withCRM: Bool = true) -> String {
        let crm = String(kind.prefix { $0 != "." })
        let action = String(kind.dropFirst(crm.count))
        let what = Strings.journal[l]?["job" + action] ?? kind
        guard withCRM else { return what }
        let title = sb.connectors[CRMKind(crm)].map { l == .ru ? $0.titleRU : $0.title } ?? crm
        return title + ": " + what
    }

    /// "42 с", "1 мин 5 с", "1 ч 2 мин" (English: "42 s", "1 min 5 s").
    static func duration(_ seconds: Int?, _ l: Lang) -> String {
        guard let seconds, seconds >= 0 else { return "" }
        let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
        let units = l == .ru ? ("ч", "мин", "с") : ("h", "min", "s")
        var parts: [String] = []
        if h > 0 { parts.append("\(h) \(units.0)") }
        if m > 0 { parts.append("\(m) \(units.1)") }
        if s > 0 || parts.isEmpty { parts.append("\(s) \(units.2)") }
        return parts.joined(separator: " ")
    }

    /// A leg's state or end reason, or a PBX event's type, in words; one the cabinet does not know is shown as it came.
    static func pbxWord(_ word: String?, _ l: Lang) -> String {
        guard let word, !word.isEmpty else { return "" }
        return Strings.journal[l]?["pbx." + word] ?? Strings.journal[l]?["pbx." + word.uppercased()] ?? word
    }
}

extension Lang {
    /// The call journal's and the dashboard's own words.
    func jt(_ key: String) -> String {
        Strings.journal[self]?[key] ?? Strings.dashboard[self]?[key] ?? Strings.journal[.en]?[key] ?? Strings.dashboard[.en]?[key] ?? key
    }
}

extension Strings {
    static let journal: [Lang: [String: String]] = [
        .ru: [
            "made.failed": "не удалось", "made.retrying": "повторяется", "made.noReason": "причина не записана",
            "made.nothing": "ничего не создано", "made.title": "Итог в CRM", "made.replay": "Повторить",
            "job.call.ringing": "карточка входящего звонка", "job.call.answered": "звонок принят",
            "job.call.finished": "звонок завершён",
            "leg.group": "Группа", "leg.state": "Состояние", "leg.started": "Начало", "leg.answered": "Ответ",
            "leg.ended": "Окончание", "leg.reason": "Причина окончания", "event": "Событие", "wait": "Ожидание",
            "pbx.ringing": "звонит", "pbx.connected": "разговаривает", "pbx.ended": "завершено",
            "pbx.COMPLETED": "разговор завершён", "pbx.CANCELLED": "не ответил (вызов отменён)", "pbx.TRANSFERRED": "переведён",
            "pbx.INCOMING": "входящий вызов", "pbx.OUTGOING": "исходящий вызов", "pbx.ACCEPTED": "ответил",
            "pbx.HISTORY": "итог звонка от АТС", "pbx.RATING": "оценка звонка",
            "pbx.LEG.RINGING": "вызов сотрудника", "pbx.LEG.ANSWERED": "ответил", "pbx.LEG.ENDED": "завершено",
            "pbx.CALL.TRANSFERRED": "переведён", "pbx.CALL.ENDED": "звонок завершён", "pbx.CALL.FINALIZED": "итог звонка от АТС",
            "pbx.RECORDING.READY": "запись готова", "pbx.CALL.RATED": "оценка звонка",
        ],
        .en: [
            "made.failed": "failed", "made.retrying": "retrying", "made.noReason": "no reason recorded",
            "made.nothing": "nothing made", "made.title": "Outcome in the CRM", "made.replay": "Replay",
            "job.call.ringing": "incoming call card", "job.call.answered": "call answered", "job.call.finished": "call finished",
            "leg.group": "Group", "leg.state": "State", "leg.started": "Started", "leg.answered": "Answered",
            "leg.ended": "Ended", "leg.reason": "End reason", "event": "Event", "wait": "Wait",
            "pbx.ringing": "ringing", "pbx.connected": "talking", "pbx.ended": "ended",
            "pbx.COMPLETED": "completed", "pbx.CANCELLED": "not answered (cancelled)", "pbx.TRANSFERRED": "transferred",
            "pbx.INCOMING": "incoming call", "pbx.OUTGOING": "outgoing call", "pbx.ACCEPTED": "answered",
            "pbx.HISTORY": "the PBX's call record", "pbx.RATING": "call rating",
            "pbx.LEG.RINGING": "employee rung", "pbx.LEG.ANSWERED": "answered", "pbx.LEG.ENDED": "ended",
            "pbx.CALL.TRANSFERRED": "transferred", "pbx.CALL.ENDED": "call ended", "pbx.CALL.FINALIZED": "the PBX's call record",
            "pbx.RECORDING.READY": "recording ready", "pbx.CALL.RATED": "call rating",
        ],
    ]
}
