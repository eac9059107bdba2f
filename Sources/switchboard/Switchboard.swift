import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardApp
import SwitchboardCore

@main
struct SwitchboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switchboard",
        abstract: "Switchboard: telephony ↔ CRM integration hub.",
        subcommands: [Serve.self, Demo.self, Migrate.self, TenantCommand.self, MasterKeyCommand.self, Simulate.self, Visit.self, SandboxCommand.self, Bench.self],
        defaultSubcommand: Serve.self)
}

/// Flags every command that touches storage shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "JSON configuration file (also SWITCHBOARD_CONFIG).") var config: String?
    @Option(help: "Address to listen on (default 127.0.0.1).") var host: String?
    @Option(help: "Port to listen on (default 8080).") var port: Int?
    @Option(help: "Data directory for SQLite and the master key (default ./switchboard-data).") var dataDir: String?
    @Option(help: "postgres://user:password@host:port/db to use PostgreSQL instead of SQLite.") var databaseURL: String?
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel: String?

    func resolve() throws -> AppConfig {
        var c = try AppConfig.load(file: config)
        if let host { c.host = host }
        if let port { c.port = port }
        if let dataDir { c.dataDir = dataDir }
        if let databaseURL { c.databaseURL = databaseURL }
        if let logLevel { c.logLevel = logLevel }
        return c
    }
}

/// Prints and flushes at once, so start-up lines reach a log file or pipe immediately.
func say(_ text: String) {
    print(text)
    fflush(nil)
}

func makeLogger(_ config: AppConfig) -> Logger {
    var logger = Logger(label: "switchboard")
    logger.logLevel = Logger.Level(rawValue: config.logLevel) ?? .info
    return logger
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP server and the delivery workers.")
    @OptionGroup var options: CommonOptions
    @Flag(help: "Serve HTTP only; leave delivery to other instances.") var noWorkers = false

    func run() async throws {
        let config = try options.resolve()
        let logger = makeLogger(config)
        let sb = try await Switchboard.open(config: config, logger: logger)
        let app = sb.buildApplication(workers: !noWorkers) { port in
            say("Switchboard listens on http://\(config.host):\(port)")
            say("Data: \(config.storageDescription)")
        }
        try await app.runService()
        await sb.shutdown()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply storage migrations and exit.")
    @OptionGroup var options: CommonOptions

    func run() async throws {
        let config = try options.resolve()
        let sb = try await Switchboard.open(config: config, logger: makeLogger(config))
        print("Storage is up to date: \(config.storageDescription)")
        await sb.shutdown()
    }
}

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tenant", abstract: "Manage tenants.",
                                                    subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant with a cabinet user; prints a first API token.")
        @OptionGroup var options: CommonOptions
        @Option(help: "The business's name.") var name: String
        @Option(help: "The cabinet user's e-mail.") var email: String
        @Option(help: "The cabinet user's password (generated and printed when omitted).") var password: String?

        func run() async throws {
            let config = try options.resolve()
            let sb = try await Switchboard.open(config: config, logger: makeLogger(config))
            defer { Task { await sb.shutdown() } }
            let password = self.password ?? randomPassword()
            let tenant = try await sb.tenants.create(name: name)
            _ = try await sb.tenants.addUser(tenantId: tenant.id, email: email, passwordHash: Passwords.hash(password))
            let (_, token) = try await sb.tenants.createToken(tenantId: tenant.id, name: "first token")
            print("Tenant:    \(tenant.id) (\(tenant.name))")
            print("Cabinet:   \(email)" + (self.password == nil ? " / password \(password)" : ""))
            print("API token: \(token)")
            print("The token is shown once; keep it somewhere safe.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            let config = try options.resolve()
            let sb = try await Switchboard.open(config: config, logger: makeLogger(config))
            for t in try await sb.tenants.list() { print("\(t.id)\t\(t.name)") }
            await sb.shutdown()
        }
    }
}

func randomPassword() -> String {
    let alphabet = Array("abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    return String((0..<14).map { _ in alphabet.randomElement()! })
}
