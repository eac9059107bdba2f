import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
@testable import SwitchboardStorage

@Suite("Storage and vault")
struct StorageTests {
    @Test("migrations run once and again without harm", arguments: Backend.available)
    func migrationsAreIdempotent(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let again = try await Migrations.run(on: sb.db)
            #expect(again.isEmpty)
            let versions = try await sb.db.read { try await $0.query("SELECT version FROM schema_migrations", []) }
            #expect(versions.compactMap { $0.int("version") } == Migrations.all.map(\.version))
        }
    }

    @Test("tenants, users and tokens round-trip; tokens are stored hashed", arguments: Backend.available)
    func tenantsUsersTokens(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await sb.tenants.create(name: "Рога и копыта")
            let user = try await sb.tenants.addUser(tenantId: tenant.id, email: "Boss@Example.com",
                                                    passwordHash: Passwords.hash("correct horse"))
            #expect(user.email == "boss@example.com")
            let (_, hash) = try #require(try await sb.tenants.userForLogin(email: "BOSS@example.com"))
            #expect(Passwords.verify("correct horse", hash: hash))
            #expect(!Passwords.verify("wrong", hash: hash))
            await #expect(throws: StoreError.self) {
                _ = try await sb.tenants.addUser(tenantId: tenant.id, email: "boss@example.com", passwordHash: "x")
            }

            let (token, secret) = try await sb.tenants.createToken(tenantId: tenant.id, name: "ci")
            #expect(secret.hasPrefix(token.prefix))
            #expect(try await sb.tenants.tenantForToken(secret) == tenant.id)
            #expect(try await sb.tenants.tenantForToken(secret + "x") == nil)
            let stored = try await sb.db.read { try await $0.query("SELECT token_hash FROM api_tokens", []) }
            #expect(stored.count == 1)
            #expect(stored[0].string("token_hash") != secret)
            #expect(try await sb.tenants.get(tenant.id)?.name == "Рога и копыта")
        }
    }

    @Test("CRM secrets are encrypted at rest and bound to their record", arguments: Backend.available)
    func secretsEncryptedAtRest(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let tenant = try await sb.tenants.create(name: "A")
            let secret = CRMSecret(login: "admin", password: "pa55-very-secret")
            let cred = try await sb.credentials.create(tenantId: tenant.id, crm: CRMKind("megaplan"), name: "main",
                                                       baseURL: "https://acme.megaplan.ru", authKind: .password, secret: secret)
            #expect(cred.hasSecret)
            let raw = try await sb.db.read { try await $0.one("SELECT secret FROM crm_credentials", []) }
            let bytes = try #require(raw?.bytes("secret"))
            #expect(!String(decoding: bytes, as: UTF8.self).contains("pa55-very-secret"))
            #expect(try await sb.credentials.secret(tenantId: tenant.id, id: cred.id) == secret)
            // Another tenant cannot read it, and the sealed value does not open under another record's context.
            #expect(try await sb.credentials.secret(tenantId: "ten_other", id: cred.id) == nil)
            #expect(throws: (any Error).self) {
                _ = try sb.vault.open(bytes, context: CredentialStore.context(tenant.id, "cred_other"))
            }
        }
    }

    @Test("the master key file is created with mode 0600 and reused")
    func masterKeyFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sb-key-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("master.key")
        let first = try CredentialVault.load(environmentValue: nil, file: file)
        let attributes = try FileManager.default.attributesOfItem(atPath: file.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let sealed = try first.seal(Array("hello".utf8), context: "c")
        let second = try CredentialVault.load(environmentValue: nil, file: file)
        #expect(try second.open(sealed, context: "c") == Array("hello".utf8))
        #expect(throws: VaultError.self) { _ = try CredentialVault.load(environmentValue: "too-short", file: file) }
    }

    @Test("account URLs are normalised with or without protocol")
    func accountURLs() throws {
        #expect(try AccountURL.normalize("example.amocrm.ru", policy: .init()) == "https://example.amocrm.ru")
        #expect(try AccountURL.normalize(" https://Example.amocrm.ru/leads/ ", policy: .init()) == "https://example.amocrm.ru")
        #expect(try AccountURL.normalize("http://127.0.0.1:9000/", policy: .init(allowLoopback: true)) == "http://127.0.0.1:9000")
        #expect(throws: AccountURL.Problem.insecure("http://example.amocrm.ru")) {
            try AccountURL.normalize("http://example.amocrm.ru", policy: .init(allowLoopback: true))
        }
        #expect(throws: AccountURL.Problem.empty) { try AccountURL.normalize("  ", policy: .init()) }
        #expect(throws: AccountURL.Problem.malformed("not a url")) { try AccountURL.normalize("not a url", policy: .init()) }
    }

    @Test("configuration: file, then environment, with laptop defaults")
    func configurationPrecedence() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("sb-config-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(#"{"port": 9000, "dataDir": "/srv/sb", "logLevel": "debug"}"#.utf8).write(to: file)
        let defaults = try AppConfig.load(file: nil, environment: [:])
        #expect(defaults.host == "127.0.0.1" && defaults.port == 8080 && defaults.dataDir == "./switchboard-data")
        #expect(!defaults.usesPostgres)
        let c = try AppConfig.load(file: file.path, environment: [
            "SWITCHBOARD_PORT": "9100", "SWITCHBOARD_DATABASE_URL": "postgres://u:secret@db:5432/sb",
        ])
        #expect(c.port == 9100)
        #expect(c.dataDir == "/srv/sb")
        #expect(c.logLevel == "debug")
        #expect(c.usesPostgres)
        #expect(!c.storageDescription.contains("secret"))
    }

    @Test("group commit: units commit together, and a failing unit rolls back only itself", arguments: Backend.available)
    func groupCommitIsolation(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            struct Refused: Error {}
            let committer = GroupCommitter(db: sb.db)
            let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
                for i in 0..<20 {
                    group.addTask {
                        do {
                            _ = try await committer.run { tx in
                                try await tx.execute("INSERT INTO tenants (id, name, region, created_at) VALUES (?, ?, 'RU', 0)",
                                                     [.text("ten_gc\(i)"), .text("n\(i)")])
                                if i % 5 == 0 { throw Refused() }
                                return i
                            }
                            return (i, true)
                        } catch {
                            return (i, false)
                        }
                    }
                }
                var out: [Int: Bool] = [:]
                for await (i, ok) in group { out[i] = ok }
                return out
            }
            #expect(outcomes.filter { !$0.value }.keys.sorted() == [0, 5, 10, 15])
            let stored = try await sb.db.read { try await $0.query("SELECT id FROM tenants WHERE id LIKE 'ten_gc%'", []) }
                .compactMap { $0.string("id") }
            #expect(Set(stored) == Set((0..<20).filter { $0 % 5 != 0 }.map { "ten_gc\($0)" }))
        }
    }
}
