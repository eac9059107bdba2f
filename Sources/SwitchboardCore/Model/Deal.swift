import Foundation

/// Where a deal stands: still in work, closed as won, or closed as lost (CORE-16).
public enum DealStatus: String, Codable, Sendable, CaseIterable {
    case open, won, lost
}

/// One line of a deal's products or services.
public struct DealProduct: Codable, Sendable, Equatable {
    public var id: String?
    public var name: String
    public var quantity: Double
    public var price: Double

    public init(id: String? = nil, name: String, quantity: Double = 1, price: Double = 0) {
        self.id = id
        self.name = name
        self.quantity = quantity
        self.price = price
    }
}

/// A CRM's deal as Raw data → Deals keeps it, whatever the CRM calls it (a lead, a deal, a customer order).
/// Connectors build it from the CRM's answer; `raw` is that answer.
public struct DealRecord: Codable, Sendable, Equatable {
    /// The deal's id in the CRM.
    public var id: String
    public var title: String
    public var amount: Double
    public var currency: String?
    public var pipelineId: String?
    public var pipelineName: String?
    public var stageId: String?
    public var stageName: String?
    public var status: DealStatus
    public var responsibleId: String?
    public var responsibleName: String?
    /// The CRM's ids of the deal's contacts (or counterparty).
    public var contactIds: [String]
    /// The contacts' phone numbers, normalised to their last 10 digits (how calls are joined to deals).
    public var phones: [String]
    public var products: [DealProduct]
    /// The store an order ships from, for CRMs that keep stock.
    public var store: String?
    public var createdAt: Date?
    public var closedAt: Date?
    /// When the CRM last changed the deal.
    public var updatedAt: Date?
    public var raw: JSONValue

    public init(id: String, title: String, amount: Double = 0, currency: String? = nil, pipelineId: String? = nil,
                pipelineName: String? = nil, stageId: String? = nil, stageName: String? = nil, status: DealStatus = .open,
                responsibleId: String? = nil, responsibleName: String? = nil, contactIds: [String] = [], phones: [String] = [],
                products: [DealProduct] = [], store: String? = nil, createdAt: Date? = nil, closedAt: Date? = nil,
                updatedAt: Date? = nil, raw: JSONValue = .null) {
        self.id = id
        self.title = title
        self.amount = amount
        self.currency = currency
        self.pipelineId = pipelineId
        self.pipelineName = pipelineName
        self.stageId = stageId
        self.stageName = stageName
        self.status = status
        self.responsibleId = responsibleId
        self.responsibleName = responsibleName
        self.contactIds = contactIds
        self.phones = phones
        self.products = products
        self.store = store
        self.createdAt = createdAt
        self.closedAt = closedAt
        self.updatedAt = updatedAt
        self.raw = raw
    }

    /// Phone numbers as a CRM shows them, as join keys: the last 10 digits of each readable number, once each.
    public static func phoneKeys(_ numbers: [String]) -> [String] {
        var out: [String] = []
        for n in numbers {
            guard let key = PhoneNumber.parse(n).last10, !out.contains(key) else { continue }
            out.append(key)
        }
        return out
    }
}

/// A deal as stored: the record with the integration it came through.
public struct StoredDeal: Codable, Sendable, Equatable {
    public var tenantId: String
    public var integrationId: String
    public var crm: CRMKind
    public var deal: DealRecord
    public var importedAt: Date

    public init(tenantId: String, integrationId: String, crm: CRMKind, deal: DealRecord, importedAt: Date) {
        self.tenantId = tenantId
        self.integrationId = integrationId
        self.crm = crm
        self.deal = deal
        self.importedAt = importedAt
    }
}

/// One step of a deal's way through its pipeline, as Switchboard saw it.
public struct DealStageChange: Codable, Sendable, Equatable {
    public var stageId: String?
    public var stageName: String?
    public var status: DealStatus
    public var at: Date

    public init(stageId: String?, stageName: String?, status: DealStatus, at: Date) {
        self.stageId = stageId
        self.stageName = stageName
        self.status = status
        self.at = at
    }
}
