import Foundation
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardStorage

/// Renews one credential's OAuth access token when it is about to expire, for every CRM whose refresh tokens are
/// single-use: one worker (on any instance) renews under the credential's lease, the others wait and read what it
/// stored (decision 0006, step 7).
public struct TokenKeeper: Sendable {
    public let credentials: CredentialStore
    public let tenantId: String
    public let credentialId: String
    /// Renew this long before the stored expiry.
    public var ahead: TimeInterval = 60

    public init(credentials: CredentialStore, tenantId: String, credentialId: String) {
        self.credentials = credentials
        self.tenantId = tenantId
        self.credentialId = credentialId
    }

    func fresh(_ secret: CRMSecret?, besides stale: String?) -> String? {
        guard let token = secret?.accessToken, token != stale, let expires = secret?.accessTokenExpiresAt,
              expires.timeIntervalSinceNow > ahead else { return nil }
        return token
    }

    /// A usable access token: the stored one while it lives (unless `force`), else a renewed one. `renew` runs under
    /// the lease with the current secret; it exchanges the refresh token and stores the result with
    /// `CredentialStore.storeRefreshed` (which gives the lease up), and on failure gives the lease up too.
    public func accessToken(force: Bool = false, what crm: Phrase,
                            renew: @Sendable (CRMSecret) async throws -> String) async throws -> String {
        let current = try await credentials.secret(tenantId: tenantId, id: credentialId)
        if !force, let token = fresh(current, besides: nil) { return token }
        let stale = current?.accessToken
        for _ in 0..<100 {
            if try await credentials.lockRefresh(tenantId: tenantId, id: credentialId, until: Date().addingTimeInterval(30)) {
                // Someone may have renewed between our read and our lease.
                let now = try await credentials.secret(tenantId: tenantId, id: credentialId) ?? CRMSecret()
                if let token = fresh(now, besides: stale) {
                    try await credentials.releaseRefresh(tenantId: tenantId, id: credentialId)
                    return token
                }
                return try await renew(now)
            }
            try await Task.sleep(for: .milliseconds(100))
            if let token = fresh(try await credentials.secret(tenantId: tenantId, id: credentialId), besides: stale) {
                return token
            }
        }
        throw DeliveryError.retryable(ContextProblem.refreshBusy(crm: crm).phrase)
    }
}
