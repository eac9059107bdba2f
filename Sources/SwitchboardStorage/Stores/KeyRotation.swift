import Foundation

/// Master-key rotation: every sealed value in storage (CRM credentials' secrets, PBX connections' inbound secrets
/// and API keys) opened with the old key and sealed again with the new one, in one transaction: either every value
/// is under the new key, or (on any failure) every value stays under the old one.
public enum KeyRotation {
    /// Re-seals every secret; returns how many values were re-sealed. A value the old key cannot open stops the
    /// rotation (the old key is then not the one in use, and nothing changes).
    public static func reseal(db: any Database, from old: CredentialVault, to new: CredentialVault) async throws -> Int {
        try await db.transaction { tx in
            var count = 0
            for row in try await tx.query("SELECT id, tenant_id, secret FROM crm_credentials WHERE secret IS NOT NULL", []) {
                let context = CredentialStore.context(row.string("tenant_id") ?? "", row.string("id") ?? "")
                let sealed = try new.seal(try old.open(row.bytes("secret") ?? [], context: context), context: context)
                try await tx.execute("UPDATE crm_credentials SET secret = ? WHERE id = ?", [.blob(sealed), .of(row.string("id"))])
                count += 1
            }
            for row in try await tx.query("SELECT id, secret, api_key FROM pbx_connections", []) {
                let id = row.string("id") ?? ""
                for column in ["secret", "api_key"] {
                    guard let value = row.bytes(column) else { continue }
                    let context = PBXStore.context(id, column == "secret" ? "secret" : "api-key")
                    let sealed = try new.seal(try old.open(value, context: context), context: context)
                    try await tx.execute("UPDATE pbx_connections SET \(column) = ? WHERE id = ?", [.blob(sealed), .text(id)])
                    count += 1
                }
            }
            return count
        }
    }
}
