import Foundation
import Hummingbird
import SwitchboardCore
import SwitchboardStorage

/// A period of whole days for the call dashboard and its API: `from` and `to` are days (`yyyy-MM-dd`, both included)
/// in the cabinet's time zone, Moscow; the last 30 days up to today when not given.
struct CallPeriod: Equatable {
    static let timeZone = TimeZone(identifier: "Europe/Moscow")!
    static let defaultDays = 30
    static let maxDays = 366

    var from: Date
    /// The end, excluded: the start of the day after the last day.
    var to: Date

    static func dayFormatter() -> DateFormatter {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = timeZone
        f.dateFormat = "yyyy-MM-dd"
        f.isLenient = false
        return f
    }

    /// The period of the given days, or an error that names the parameter at fault.
    static func parse(from: String?, to: String?, now: Date = Date()) throws -> CallPeriod {
        let f = dayFormatter()
        func day(_ text: String?, _ name: String) throws -> Date? {
            guard let text, !text.isEmpty else { return nil }
            guard text.count == 10, let d = f.date(from: text) else {
                throw APIError(.badRequest, "\(name) is a day: yyyy-MM-dd", field: name)
            }
            return d
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let last = try day(to, "to") ?? calendar.startOfDay(for: now)
        let first = try day(from, "from") ?? calendar.date(byAdding: .day, value: -(defaultDays - 1), to: last)!
        guard first <= last else { throw APIError(.badRequest, "from is after to", field: "from") }
        let end = calendar.date(byAdding: .day, value: 1, to: last)!
        guard end.timeIntervalSince(first) <= Double(maxDays) * 86_400 + 7200 else {
            throw APIError(.badRequest, "the period is longer than \(maxDays) days", field: "from")
        }
        return CallPeriod(from: first, to: end)
    }

    /// The report for this period.
    func report(_ store: CallAnalyticsStore, tenantId: String) async throws -> CallAnalyticsStore.Report {
        try await store.report(tenantId: tenantId, from: from, to: to, utcOffset: Self.timeZone.secondsFromGMT(for: from))
    }
}

/// `GET /api/v1/analytics/calls`: the call dashboard's numbers.
struct AnalyticsController {
    let analytics: CallAnalyticsStore

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.get("analytics/calls") { req, ctx in
            let t = try ctx.tenant()
            let period = try CallPeriod.parse(from: try req.query("from"), to: try req.query("to"))
            return jsonResponse(try await period.report(analytics, tenantId: t))
        }
    }
}
