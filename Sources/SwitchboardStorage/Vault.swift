@preconcurrency import Crypto
import Foundation

/// Encrypts CRM and PBX secrets at rest with AES-256-GCM under the installation's master key.
public struct CredentialVault: Sendable {
    private let key: SymmetricKey

    public init(key: SymmetricKey) { self.key = key }

    /// The master key from `SWITCHBOARD_MASTER_KEY` (base64 or hex of 32 bytes), or from `file`,
    /// which is created with mode 0600 on first start.
    public static func load(environmentValue: String?, file: URL) throws -> CredentialVault {
        if let value = environmentValue?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty {
            return try CredentialVault(encoded: value, origin: "SWITCHBOARD_MASTER_KEY")
        }
        if FileManager.default.fileExists(atPath: file.path) { return try read(file: file) }
        let vault = generate()
        try vault.write(to: file)
        return vault
    }

    /// A key given as text: 32 bytes, base64 or hex encoded. `origin` names where it came from in the error.
    public init(encoded text: String, origin: String) throws {
        guard let bytes = Self.decodeKey(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw VaultError("\(origin) must be 32 bytes, base64 or hex encoded")
        }
        self.init(key: SymmetricKey(data: bytes))
    }

    /// The key in `file`, which must exist.
    public static func read(file: URL) throws -> CredentialVault {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            throw VaultError("cannot read the master key file \(file.path)")
        }
        return try CredentialVault(encoded: text, origin: "the master key file \(file.path)")
    }

    /// A new random key.
    public static func generate() -> CredentialVault { CredentialVault(key: SymmetricKey(size: .bits256)) }

    /// The key as base64, the form key files hold.
    public var encodedKey: String { key.withUnsafeBytes { Data($0).base64EncodedString() } }

    /// Writes the key to a new file readable by its owner only (mode 0600); an existing file is never replaced.
    public func write(to file: URL) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard !fm.fileExists(atPath: file.path),
              fm.createFile(atPath: file.path, contents: Data((encodedKey + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw VaultError("cannot create master key file \(file.path) (it must not exist yet)")
        }
    }

    static func decodeKey(_ text: String) -> [UInt8]? {
        if let data = Data(base64Encoded: text), data.count == 32 { return Array(data) }
        if text.count == 64 {
            var bytes: [UInt8] = []
            var index = text.startIndex
            while index < text.endIndex {
                let next = text.index(index, offsetBy: 2)
                guard let b = UInt8(text[index..<next], radix: 16) else { return nil }
                bytes.append(b)
                index = next
            }
            return bytes
        }
        return nil
    }

    /// Seals `plaintext`, bound to `context` (e.g. the tenant and record id) so a sealed value cannot be moved.
    public func seal(_ plaintext: [UInt8], context: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(plaintext, using: key, authenticating: Array(context.utf8))
        guard let combined = box.combined else { throw VaultError("AES-GCM produced no output") }
        return [1] + Array(combined)  // leading byte: format version
    }

    public func open(_ sealed: [UInt8], context: String) throws -> [UInt8] {
        guard sealed.first == 1 else { throw VaultError("unknown sealed format") }
        let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
        return Array(try AES.GCM.open(box, using: key, authenticating: Array(context.utf8)))
    }

    /// A keyed tag for `text` (OAuth state, webhook and widget keys): unforgeable without the master key.
    public func mac(_ text: String, purpose: String) -> String {
        let derived = HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array("switchboard-\(purpose)".utf8), outputByteCount: 32)
        let tag = HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: derived)
        return Data(tag).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    public func seal<T: Encodable>(json value: T, context: String) throws -> [UInt8] {
        try seal(Array(JSONEncoder().encode(value)), context: context)
    }

    public func open<T: Decodable>(_ type: T.Type, from sealed: [UInt8], context: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(try open(sealed, context: context)))
    }
}

public struct VaultError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public enum Hashing {
    /// Hex SHA-256, for API tokens and session ids (high-entropy values need no slow hash).
    public static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Array(text.utf8)))
    }

    /// Lower-case hex of bytes (by table: `String(format:)` is slow on a hot path).
    public static func hex<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// A random URL-safe secret with a prefix, e.g. `sb_…`.
    public static func randomToken(prefix: String, bytes: Int = 32) -> String {
        let raw = (0..<bytes).map { _ in UInt8.random(in: 0...255) }
        let b64 = Data(raw).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        return prefix + b64
    }

    /// Compares two secrets in time that does not depend on where they differ.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }

    /// The hex HMAC-SHA256 of the pieces one after another, without joining them first.
    public static func hmacSHA256Hex(key: String, message pieces: [[UInt8]]) -> String {
        var mac = HMAC<SHA256>(key: SymmetricKey(data: Array(key.utf8)))
        for piece in pieces { mac.update(data: piece) }
        return hex(mac.finalize())
    }
}
