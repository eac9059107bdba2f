import Foundation
import SwitchboardStorage

/// Where the master key comes from, in order: `SWITCHBOARD_MASTER_KEY` (the key itself), the `masterKeyFile` setting
/// (a file that must exist), or `dataDir/master.key` (created on first start). A key in the data directory works, but
/// every backup of that directory then carries the key beside the secrets it protects: start-up warns about it.
enum MasterKey {
    static let environmentVariable = "SWITCHBOARD_MASTER_KEY"

    struct Loaded {
        let vault: CredentialVault
        /// Why the key's place is unsafe, for the start-up log; nil when it is kept apart from the data.
        let warning: String?
    }

    static func load(_ config: AppConfig, environment: [String: String]) throws -> Loaded {
        if let value = environment[environmentVariable], !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return Loaded(vault: try CredentialVault(encoded: value, origin: environmentVariable), warning: nil)
        }
        let file: URL
        let vault: CredentialVault
        if let path = config.masterKeyFile {
            file = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: file.path) else {
                throw VaultError("the master key file \(file.path) (masterKeyFile) does not exist; "
                                 + "create it with `switchboard master-key new --file \(file.path)`")
            }
            vault = try CredentialVault.read(file: file)
        } else {
            file = URL(fileURLWithPath: config.dataDir).appendingPathComponent("master.key")
            vault = try CredentialVault.load(environmentValue: nil, file: file)
        }
        guard isInside(file.path, directory: config.dataDir) else { return Loaded(vault: vault, warning: nil) }
        return Loaded(vault: vault, warning: "the master key \(file.path) is in the data directory: every backup of the data carries "
                      + "the key with the secrets it encrypts; keep it elsewhere (masterKeyFile or \(environmentVariable), see the README)")
    }

    /// Whether `path` is `directory` or inside it, symbolic links resolved.
    static func isInside(_ path: String, directory: String) -> Bool {
        let file = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        let dir = URL(fileURLWithPath: directory).standardizedFileURL.resolvingSymlinksInPath().path
        return file == dir || file.hasPrefix(dir.hasSuffix("/") ? dir : dir + "/")
    }
}

extension Switchboard {
    /// Writes a new random master key to `file` (mode 0600), which must not exist yet.
    public static func writeNewMasterKey(file: String) throws {
        try CredentialVault.generate().write(to: URL(fileURLWithPath: file))
    }

    /// Re-encrypts every stored secret under the key in `newKeyFile` (see `KeyRotation`); returns how many values.
    /// Run it with every instance stopped: one still running would seal what it writes under the old key.
    public func rotateMasterKey(newKeyFile: String) async throws -> Int {
        let new = try CredentialVault.read(file: URL(fileURLWithPath: newKeyFile))
        return try await KeyRotation.reseal(db: db, from: vault, to: new)
    }
}
