import Foundation
import SwitchboardCore
import SwitchboardStorage

/// The authorization-code flow of a CRM whose installation registered an OAuth application (CORE-1 "connect"). The
/// state that ties the callback to a credential, the callback's checks and storing the tokens are generic
/// (`OAuthFlow`, the host's routes `POST /api/v1/credentials/:id/oauth` and `GET /oauth/:crm/callback`); the CRM says
/// where the tenant grants access, which account addresses may receive the application's secrets, and how a code is
/// traded for tokens. Renewing the tokens later is `TokenKeeper`'s, shared the same way.
public struct OAuthSpec: Sendable {
    /// The installation's application for this CRM, when configured (`SWITCHBOARD_<KIND>_CLIENT_ID` and `_SECRET`).
    public var configured: @Sendable () -> Bool
    /// Why the application's secrets must not go to this account address; nil when they may.
    public var refusal: @Sendable (_ accountURL: String) -> Phrase?
    /// Where the tenant's browser goes to grant access; `state` comes back with the code. Nil when not configured.
    public var authorizeURL: @Sendable (_ accountURL: String, _ state: String) -> String?
    /// Trades the code the CRM sent back for the credential's first tokens; a refusal is `DeliveryError.permanent`.
    public var exchange: @Sendable (_ code: String, _ accountURL: String) async throws -> CRMSecret
    /// The page the tenant's browser shows once connected, in both languages.
    public var connected: Phrase

    public init(configured: @escaping @Sendable () -> Bool, refusal: @escaping @Sendable (String) -> Phrase?,
                authorizeURL: @escaping @Sendable (String, String) -> String?,
                exchange: @escaping @Sendable (String, String) async throws -> CRMSecret, connected: Phrase) {
        self.configured = configured
        self.refusal = refusal
        self.authorizeURL = authorizeURL
        self.exchange = exchange
        self.connected = connected
    }
}

/// The generic half of the authorization-code flow.
public enum OAuthFlow {
    /// Names the credential the callback belongs to, with a keyed tag only this installation can make:
    /// `<tenant>.<credential>.<tag>`.
    public static func state(for credential: CRMCredential, vault: CredentialVault) -> String {
        let body = "\(credential.tenantId).\(credential.id)"
        return "\(body).\(vault.mac(body, purpose: "oauth-state"))"
    }

    /// The tenant and credential a callback's `state` names, or nil when the tag does not match.
    public static func credential(ofState state: String, vault: CredentialVault) -> (tenantId: String, id: String)? {
        let parts = state.split(separator: ".", maxSplits: 2).map(String.init)
        guard parts.count == 3,
              Hashing.constantTimeEquals(vault.mac("\(parts[0]).\(parts[1])", purpose: "oauth-state"), parts[2]) else { return nil }
        return (parts[0], parts[1])
    }
}
