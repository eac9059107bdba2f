import Foundation
import SwitchboardCore
import SwitchboardCRM
import SwitchboardStorage

/// A tenant's CRM credentials (CORE-1), for the management API and the cabinet alike (issue 10's application layer):
/// the account address normalised and checked against the outbound policy, a stored secret sent only to the address
/// it was entered for, and the test through the CRM's connector.
struct CredentialService: Sendable {
    let credentials: CredentialStore
    let connectors: ConnectorRegistry
    let policy: OutboundPolicy

    init(sb: Switchboard) {
        credentials = sb.credentials
        connectors = sb.connectors
        policy = sb.config.outboundPolicy
    }

    func list(tenantId: String, crm: CRMKind? = nil) async throws -> [CRMCredential] {
        try await credentials.list(tenantId: tenantId, crm: crm)
    }

    func get(tenantId: String, id: String) async throws -> CRMCredential? { try await credentials.get(tenantId: tenantId, id: id) }

    /// The account address as it is stored: normalised, and allowed by the outbound policy (the secret is sent there).
    func normalized(_ url: String) throws -> String {
        do { return try AccountURL.normalize(url, policy: policy) } catch {
            throw ServiceError.invalid(field: "baseURL", error.phrase)
        }
    }

    func create(tenantId: String, crm: CRMKind, name: String, baseURL: String, authKind: CRMAuthKind,
                secret: CRMSecret) async throws -> CRMCredential {
        let url = try normalized(baseURL)
        return try await credentials.create(tenantId: tenantId, crm: crm, name: name, baseURL: url, authKind: authKind, secret: secret)
    }

    /// Changes the name, the address and the secret (nil keeps each). `secret` builds the secret to store from the
    /// stored one, which it is given only while the address stays: a secret never follows a move, so moving a
    /// credential that has a secret needs the whole secret again. Nil when the tenant has no such credentials.
    func update(tenantId: String, id: String, name: String?, baseURL: String?,
                secret: (_ stored: CRMSecret?) -> CRMSecret?) async throws -> CRMCredential? {
        let url = try baseURL.map(normalized)
        guard let current = try await credentials.get(tenantId: tenantId, id: id) else { return nil }
        let moving = url != nil && url != current.baseURL
        let stored = moving || !current.hasSecret ? nil : try await credentials.secret(tenantId: tenantId, id: id)
        let new = secret(stored)
        if let field = SecretPinning.missingField(current, newURL: url, secret: new) {
            throw ServiceError.invalid(field: field, SecretMoved(field: field).phrase)
        }
        return try await credentials.update(tenantId: tenantId, id: id, name: name, baseURL: url, secret: new)
    }

    func delete(tenantId: String, id: String) async throws -> Bool { try await credentials.delete(tenantId: tenantId, id: id) }

    /// The credentials with the connector of their CRM; `notFound` or `conflict` (a CRM this installation does not serve).
    func withConnector(tenantId: String, id: String) async throws -> (CRMCredential, CRMConnector) {
        guard let c = try await credentials.get(tenantId: tenantId, id: id) else { throw ServiceError.notFound("credentials not found") }
        guard let connector = connectors[c.crm] else { throw ServiceError.conflict("\(c.crm.rawValue) is not served by this installation") }
        return (c, connector)
    }

    /// The connector's test of the credentials (it stores the state it found); `conflict` when the CRM has none.
    func test(_ c: CRMCredential, _ connector: CRMConnector) async throws -> (ok: Bool, message: Phrase) {
        guard let check = connector.check else { throw ServiceError.conflict("\(connector.title) credentials cannot be tested yet") }
        return await check(c)
    }
}
