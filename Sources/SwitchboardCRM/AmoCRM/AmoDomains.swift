import SwitchboardCore

extension CRMDomains {
    /// amoCRM's own domains (Russian and international accounts, and Kommo, its international brand): the only
    /// places the installation's amoCRM OAuth client secret is sent, for the token exchange and every refresh.
    public static let amocrm = CRMDomains(suffixes: ["amocrm.ru", "amocrm.com", "kommo.com"])
}

extension AmoOAuthApp {
    /// Why the OAuth application cannot be used with this account address, or nil when it can.
    public static func refusal(accountURL: String, policy: OutboundPolicy) -> Phrase? {
        CRMDomains.amocrm.admits(accountURL, policy: policy) ? nil
            : AmoSays.oauthDomains(listed: CRMDomains.amocrm.listed, account: accountURL).phrase
    }
}
