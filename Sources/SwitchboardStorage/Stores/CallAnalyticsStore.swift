import Foundation

/// The call side's numbers for a manager (issue 14, item 4): calls per day by result, the answer rate, missed calls
/// nobody called back, the average wait and a per-employee table, for one tenant and period.
///
/// Only calls with a client count (incoming and outgoing); internal calls do not. A day is a calendar day at
/// `utcOffset` (the cabinet's Moscow time). Every query reads the `calls` table's columns, never the call models:
/// the period is a range on `(tenant_id, started_at)`, the call-back check a seek on `(tenant_id, client_number, started_at)`.
public struct CallAnalyticsStore: Sendable {
    let db: any Database

    public init(db: any Database) { self.db = db }

    /// One day's calls by result (`answered`, `missed`, `no_answer`, …; results with no calls are left out).
    public struct Day: Codable, Sendable, Equatable {
        /// `yyyy-MM-dd` at the report's offset.
        public var date: String
        public var total: Int
        public var byResult: [String: Int]
    }

    /// What an employee's calls were, counted by the employee who answered first (the first talker).
    public struct Employee: Codable, Sendable, Equatable {
        /// The PBX login, and the employee's name (the login when the PBX gave none).
        public var login: String
        public var name: String
        public var inboundAnswered: Int
        public var outboundAnswered: Int
        /// Seconds of conversation on those calls.
        public var talkSec: Int
        /// Seconds a client waited before this employee answered, on average (incoming calls; nil without any).
        public var averageWaitSec: Double?
    }

    public struct Report: Codable, Sendable, Equatable {
        /// The first and the last day (`yyyy-MM-dd`).
        public var from: String
        public var to: String
        /// Every call with a client in the period.
        public var calls: Int
        public var inbound: Int
        public var inboundAnswered: Int
        public var outbound: Int
        public var outboundAnswered: Int
        /// Answered incoming calls among the finished incoming ones (nil when none finished).
        public var answerRate: Double?
        /// Incoming calls that ended unanswered (missed, busy, cancelled, …).
        public var missed: Int
        /// Of those, the ones with no answered call with the same client number (either direction) within 24 h after.
        public var missedNotCalledBack: Int
        /// Seconds from the first ring to the answer, on average over answered incoming calls.
        public var averageWaitSec: Double?
        public var days: [Day]
        public var employees: [Employee]
    }

    static let dayMs: Int64 = 86_400_000
    /// How long after a missed call an answered call with the client still counts as the call-back.
    public static let callBackWindow: TimeInterval = 86_400

    /// The report's statements for calls started in `[from, to)`, days counted at `utcOffset` seconds from UTC.
    public struct Queries: Sendable {
        /// Calls per day, direction and result, with their waits.
        public let byDay: AnalyticsQuery
        /// Missed incoming calls with no answered call with the same number within the call-back window after.
        public let missedNotCalledBack: AnalyticsQuery
        /// Answered calls per first talker and direction, with the employee's name.
        public let perEmployee: AnalyticsQuery

        public var all: [AnalyticsQuery] { [byDay, missedNotCalledBack, perEmployee] }
    }

    public static func queries(tenantId: String, from: Date, to: Date, utcOffset: Int) -> Queries {
        let offsetMs = Int64(utcOffset) * 1000
        let range: [SQLValue] = [.text(tenantId), .of(from), .of(to)]
        let inRange = "tenant_id = ? AND started_at >= ? AND started_at < ? AND direction IN ('inbound', 'outbound')"
        return Queries(
            byDay: AnalyticsQuery(name: "dashboard.byDay", sql: """
                SELECT (started_at + ?) / \(Self.dayMs) AS day, direction, result, COUNT(*) AS n,
                  CAST(SUM(wait_sec) AS BIGINT) AS wait, COUNT(wait_sec) AS waits
                FROM calls WHERE \(inRange) GROUP BY 1, 2, 3
                """, binds: [.int(offsetMs)] + range),
            missedNotCalledBack: AnalyticsQuery(name: "dashboard.missedNotCalledBack", sql: """
                SELECT COUNT(*) AS n FROM calls m
                WHERE m.tenant_id = ? AND m.started_at >= ? AND m.started_at < ? AND m.direction = 'inbound'
                  AND m.result NOT IN ('answered', 'pending')
                  AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.tenant_id = m.tenant_id AND c.client_number = m.client_number
                    AND c.result = 'answered' AND c.started_at > m.started_at AND c.started_at <= m.started_at + ?)
                """, binds: range + [.int(Int64(Self.callBackWindow * 1000))]),
            perEmployee: AnalyticsQuery(name: "dashboard.perEmployee", sql: """
                SELECT c.first_talker AS login, c.direction, MAX(e.name) AS name, COUNT(*) AS n,
                  CAST(SUM(c.talk_sec) AS BIGINT) AS talk, CAST(SUM(c.wait_sec) AS BIGINT) AS wait, COUNT(c.wait_sec) AS waits
                FROM calls c LEFT JOIN employees e ON e.pbx_connection_id = c.pbx_connection_id AND e.login = c.first_talker
                WHERE c.tenant_id = ? AND c.started_at >= ? AND c.started_at < ? AND c.direction IN ('inbound', 'outbound')
                  AND c.result = 'answered' AND c.first_talker IS NOT NULL
                GROUP BY c.first_talker, c.direction
                """, binds: range))
    }

    /// The report for calls started in `[from, to)`, days counted at `utcOffset` seconds from UTC.
    public func report(tenantId: String, from: Date, to: Date, utcOffset: Int) async throws -> Report {
        let offsetMs = Int64(utcOffset) * 1000
        let q = Self.queries(tenantId: tenantId, from: from, to: to, utcOffset: utcOffset)
        let (byDay, missedAlone, perEmployee) = try await db.read { r in
            (try await q.byDay.run(on: r), try await q.missedNotCalledBack.run(on: r).first?.int("n") ?? 0, try await q.perEmployee.run(on: r))
        }

        let first = Self.day(from, offsetMs: offsetMs), last = Self.day(to.addingTimeInterval(-0.001), offsetMs: offsetMs)
        var report = Report(from: Self.dayText(first), to: Self.dayText(last), calls: 0, inbound: 0, inboundAnswered: 0, outbound: 0, outboundAnswered: 0,
                            answerRate: nil, missed: 0, missedNotCalledBack: missedAlone, averageWaitSec: nil, days: [],
                            employees: [])
        var days: [Int64: [String: Int]] = [:]
        var inboundFinished = 0, waitSum = 0, waits = 0
        for row in byDay {
            guard let day = row.int64("day"), let direction = row.string("direction"), let result = row.string("result") else { continue }
            let n = row.int("n") ?? 0
            days[day, default: [:]][result, default: 0] += n
            report.calls += n
            let answered = result == "answered"
            if direction == "inbound" {
                report.inbound += n
                if answered {
                    report.inboundAnswered += n
                    waitSum += row.int("wait") ?? 0
                    waits += row.int("waits") ?? 0
                }
                if result != "pending" { inboundFinished += n }
                if !answered && result != "pending" { report.missed += n }
            } else {
                report.outbound += n
                if answered { report.outboundAnswered += n }
            }
        }
        report.answerRate = inboundFinished == 0 ? nil : Double(report.inboundAnswered) / Double(inboundFinished)
        report.averageWaitSec = waits == 0 ? nil : Double(waitSum) / Double(waits)

        // Every day of the period, the quiet ones too, so a chart's gaps are days without calls.
        if first <= last {
            for day in first...last {
                let byResult = days[day] ?? [:]
                report.days.append(Day(date: Self.dayText(day), total: byResult.values.reduce(0, +), byResult: byResult))
            }
        }

        var employees: [String: Employee] = [:]
        var employeeWaits: [String: (sum: Int, n: Int)] = [:]
        for row in perEmployee {
            guard let login = row.string("login"), let direction = row.string("direction") else { continue }
            let name = row.string("name").flatMap { $0.isEmpty ? nil : $0 } ?? login
            var e = employees[login] ?? Employee(login: login, name: name, inboundAnswered: 0, outboundAnswered: 0, talkSec: 0,
                                                 averageWaitSec: nil)
            let n = row.int("n") ?? 0
            if direction == "inbound" {
                e.inboundAnswered += n
                employeeWaits[login] = (row.int("wait") ?? 0, row.int("waits") ?? 0)
            } else {
                e.outboundAnswered += n
            }
            e.talkSec += row.int("talk") ?? 0
            employees[login] = e
        }
        for (login, w) in employeeWaits where w.n > 0 { employees[login]?.averageWaitSec = Double(w.sum) / Double(w.n) }
        report.employees = employees.values.sorted {
            ($0.inboundAnswered + $0.outboundAnswered, $1.login) > ($1.inboundAnswered + $1.outboundAnswered, $0.login)
        }
        return report
    }

    static func day(_ date: Date, offsetMs: Int64) -> Int64 {
        let ms = Int64((date.timeIntervalSince1970 * 1000).rounded(.down)) + offsetMs
        return ms >= 0 ? ms / dayMs : (ms - dayMs + 1) / dayMs
    }

    static func dayText(_ day: Int64) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyy-MM-dd"
        return f.string(from: Date(timeIntervalSince1970: Double(day * dayMs) / 1000))
    }
}
