import Foundation
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// CORE-17, end-to-end analytics, for the API and the cabinet alike: the tenant's calls, requests, chats and deals in
/// [from, to), grouped and attributed. Calls' campaigns come from every integration's call tracking (its connector
/// reads them from the settings), requests' and chats' from their `utm_campaign`.
struct DealAnalyticsService: Sendable {
    let integrations: IntegrationStore
    let connectors: ConnectorRegistry
    let deals: DealStore

    init(sb: Switchboard) {
        integrations = sb.integrations
        connectors = sb.connectors
        deals = sb.deals
    }

    func report(tenantId: String, from: Date, to: Date, by: DealAnalytics.Dimension,
                attribution: DealAnalytics.Attribution) async throws -> DealAnalytics.Report {
        var campaigns: [String: String] = [:]
        for integration in try await integrations.list(tenantId: tenantId) {
            guard let read = connectors[integration.crm]?.lineCampaigns else { continue }
            for (line, campaign) in read(integration.settings) { campaigns[String(line.filter(\.isNumber).suffix(10))] = campaign }
        }
        let touches = try await deals.analyticsTouches(tenantId: tenantId, from: from, to: to).map { t in
            var t = t
            t.campaign = t.line.flatMap { campaigns[String($0.filter(\.isNumber).suffix(10))] }
            return t
        }
        let texts = try await deals.analyticsTextTouches(tenantId: tenantId, from: from, to: to)
        let found = try await deals.analyticsDeals(tenantId: tenantId, from: from, to: to)
        return DealAnalytics.report(touches: touches + texts, deals: found, by: by, attribution: attribution)
    }
}
