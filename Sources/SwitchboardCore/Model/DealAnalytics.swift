import Foundation

/// CORE-17, end-to-end analytics: calls, web requests and chats joined to the deals of the same contact (the client's
/// last 10 digits).
///
/// The rules, in one place:
/// - A period holds the calls that started in it, the requests and chats that came in it (those that left a phone
///   number), and the deals created in it.
/// - A deal's touches are the period's calls, requests and chats from any of its contacts' numbers that came no later
///   than the deal was created (a touch after the deal did not bring it). A deal without a touch is unattributed.
/// - The first touch is the earliest of them, the last touch the latest (ties: the call id).
/// - A group (virtual number, campaign, employee, site, channel) counts its calls and text communications, its contacts (distinct numbers), the deals whose
///   first touch and whose last touch are its calls, and, by the chosen attribution (first or last touch), its won
///   deals, their revenue (per currency) and its conversion: the share of its contacts whose attributed touch brought
///   a won deal.
public enum DealAnalytics {
    public enum Dimension: String, Codable, Sendable, CaseIterable {
        /// The virtual number the client called (or was called from).
        case line
        /// The campaign the virtual number stands for (call tracking settings), or the number when it stands for none.
        case campaign
        /// The PBX employee who talked first (missed calls and text communications have none).
        case employee
        /// The site a request or chat came from; empty for calls.
        case site
        /// Call, web request or chat.
        case channel
    }

    /// Where a touch came from.
    public enum Channel: String, Codable, Sendable, CaseIterable {
        case call, request, chat
    }

    public enum Attribution: String, Codable, Sendable, CaseIterable {
        case first, last
    }

    /// One call, web request or chat as the analytics sees it.
    public struct Touch: Sendable, Equatable {
        /// The call's or the text communication's id.
        public var callId: String
        /// The client's last 10 digits.
        public var phone: String
        public var line: String?
        public var campaign: String?
        public var employee: String?
        public var startedAt: Date
        public var channel: Channel
        /// The site of a request or chat.
        public var site: String?

        public init(callId: String, phone: String, line: String?, campaign: String? = nil, employee: String?, startedAt: Date,
                    channel: Channel = .call, site: String? = nil) {
            self.callId = callId
            self.phone = phone
            self.line = line
            self.campaign = campaign
            self.employee = employee
            self.startedAt = startedAt
            self.channel = channel
            self.site = site
        }

        public func key(_ d: Dimension) -> String {
            switch d {
            case .line: return line ?? ""
            case .campaign: return campaign ?? line ?? ""
            case .employee: return employee ?? ""
            case .site: return site ?? ""
            case .channel: return channel.rawValue
            }
        }
    }

    /// One deal as the analytics sees it.
    public struct Deal: Sendable, Equatable {
        public var id: String
        public var phones: [String]
        public var status: DealStatus
        public var amount: Double
        public var currency: String
        public var createdAt: Date

        public init(id: String, phones: [String], status: DealStatus, amount: Double, currency: String, createdAt: Date) {
            self.id = id
            self.phones = phones
            self.status = status
            self.amount = amount
            self.currency = currency
            self.createdAt = createdAt
        }
    }

    public struct Row: Codable, Sendable, Equatable {
        /// The group: a virtual number, a campaign, an employee's login; empty for "none" (a missed call's employee).
        public var key: String
        public var calls: Int
        /// Web requests and chats.
        public var texts: Int
        public var contacts: Int
        public var firstTouchDeals: Int
        public var lastTouchDeals: Int
        public var wonDeals: Int
        /// Revenue of the won deals, by currency.
        public var revenue: [String: Double]
        /// Contacts whose attributed touch brought a won deal, over contacts (0 when there are no contacts).
        public var conversion: Double

        public init(key: String, calls: Int = 0, texts: Int = 0, contacts: Int = 0, firstTouchDeals: Int = 0, lastTouchDeals: Int = 0,
                    wonDeals: Int = 0, revenue: [String: Double] = [:], conversion: Double = 0) {
            self.key = key
            self.calls = calls
            self.texts = texts
            self.contacts = contacts
            self.firstTouchDeals = firstTouchDeals
            self.lastTouchDeals = lastTouchDeals
            self.wonDeals = wonDeals
            self.revenue = revenue
            self.conversion = conversion
        }
    }

    public struct Report: Codable, Sendable, Equatable {
        public var by: Dimension
        public var attribution: Attribution
        /// Groups by revenue (the main currency's), then won deals, calls and key.
        public var rows: [Row]
        /// The whole period: attributed deals in first- and last-touch, won deals and revenue of attributed deals.
        public var totals: Row
        /// Deals created in the period without a call before them.
        public var unattributedDeals: Int
    }

    public static func report(touches: [Touch], deals: [Deal], by: Dimension, attribution: Attribution) -> Report {
        var byPhone: [String: [Touch]] = [:]
        for t in touches { byPhone[t.phone, default: []].append(t) }
        for k in byPhone.keys { byPhone[k]!.sort { ($0.startedAt, $0.callId) < ($1.startedAt, $1.callId) } }

        var rows: [String: Row] = [:]
        var contactsOf: [String: Set<String>] = [:]
        for t in touches {
            let k = t.key(by)
            if t.channel == .call { rows[k, default: Row(key: k)].calls += 1 } else { rows[k, default: Row(key: k)].texts += 1 }
            contactsOf[k, default: []].insert(t.phone)
        }
        var converted: [String: Set<String>] = [:]
        var totals = Row(key: "")
        var totalConverted: Set<String> = []
        var unattributed = 0
        for deal in deals {
            let touched = Set(deal.phones).flatMap { byPhone[$0] ?? [] }.filter { $0.startedAt <= deal.createdAt }
                .sorted { ($0.startedAt, $0.callId) < ($1.startedAt, $1.callId) }
            guard let first = touched.first, let last = touched.last else {
                unattributed += 1
                continue
            }
            rows[first.key(by), default: Row(key: first.key(by))].firstTouchDeals += 1
            rows[last.key(by), default: Row(key: last.key(by))].lastTouchDeals += 1
            totals.firstTouchDeals += 1
            totals.lastTouchDeals += 1
            guard deal.status == .won else { continue }
            let credited = attribution == .first ? first : last
            let k = credited.key(by)
            rows[k, default: Row(key: k)].wonDeals += 1
            rows[k]!.revenue[deal.currency, default: 0] += deal.amount
            converted[k, default: []].insert(credited.phone)
            totals.wonDeals += 1
            totals.revenue[deal.currency, default: 0] += deal.amount
            totalConverted.insert(credited.phone)
        }
        for k in rows.keys {
            let contacts = contactsOf[k]?.count ?? 0
            rows[k]!.contacts = contacts
            rows[k]!.conversion = contacts == 0 ? 0 : Double(converted[k]?.count ?? 0) / Double(contacts)
        }
        totals.calls = touches.filter { $0.channel == .call }.count
        totals.texts = touches.count - totals.calls
        totals.contacts = Set(touches.map(\.phone)).count
        totals.conversion = totals.contacts == 0 ? 0 : Double(totalConverted.count) / Double(totals.contacts)
        let main = mainCurrency(totals.revenue)
        let ordered = rows.values.sorted {
            ($0.revenue[main] ?? 0, $0.wonDeals, $0.calls) != ($1.revenue[main] ?? 0, $1.wonDeals, $1.calls)
                ? ($0.revenue[main] ?? 0, $0.wonDeals, $0.calls) > ($1.revenue[main] ?? 0, $1.wonDeals, $1.calls)
                : $0.key < $1.key
        }
        return Report(by: by, attribution: attribution, rows: ordered, totals: totals, unattributedDeals: unattributed)
    }

    /// The currency with the most revenue (charts show it), or "RUB" when there is none.
    public static func mainCurrency(_ revenue: [String: Double]) -> String {
        revenue.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? "RUB"
    }
}
