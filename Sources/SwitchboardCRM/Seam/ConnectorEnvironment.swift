import Foundation
import Logging
import SwitchboardCore
import SwitchboardOutbound
import SwitchboardStorage

/// What the host gives every connector when the registry is built: storage, the outbound HTTP client, metrics, and
/// the addresses and keys it derives for the CRM (webhook URLs, OAuth redirects).
public struct ConnectorEnvironment: Sendable {
    public var db: any Database
    public var vault: CredentialVault
    public var outbound: OutboundHTTP
    /// Counts one answer of a CRM (its HTTP status, or "error") for the metrics.
    public var observe: @Sendable (_ crm: CRMKind, _ status: String) -> Void
    /// Where CRMs and browsers reach this instance (known once the server listens).
    public var baseURL: @Sendable () -> String
    /// The installation's OAuth application for a CRM (client id and secret), when configured.
    public var oauthApp: @Sendable (CRMKind) -> (clientId: String, clientSecret: String)?
    /// An installation setting a connector reads by name (`SWITCHBOARD_<NAME>` in the environment), e.g. the address
    /// of a CRM's token server.
    public var setting: @Sendable (String) -> String? = { _ in nil }
    /// The instance's logger (its level and handler), for what connectors log outside a job's journal.
    public var logger = Logger(label: "switchboard.crm")

    public init(db: any Database, vault: CredentialVault, outbound: OutboundHTTP,
                observe: @escaping @Sendable (CRMKind, String) -> Void,
                baseURL: @escaping @Sendable () -> String,
                oauthApp: @escaping @Sendable (CRMKind) -> (clientId: String, clientSecret: String)?) {
        self.db = db
        self.vault = vault
        self.outbound = outbound
        self.observe = observe
        self.baseURL = baseURL
        self.oauthApp = oauthApp
    }

    /// A keyed tag of an integration for one purpose: the secret part of an address a CRM calls us at.
    public func key(_ integrationId: String, purpose: String) -> String { vault.mac(integrationId, purpose: purpose) }
}
