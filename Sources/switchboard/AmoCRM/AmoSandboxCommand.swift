import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardSandbox

/// `switchboard sandbox amocrm`
struct AmoSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "amocrm",
        abstract: "An amoCRM account with API v4's paths, errors, rate limit and tokens; /sandbox/state shows its data.")
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8081
    @Option(help: "Seed file (JSON: users, pipelines, contacts, tokens); the demo account when omitted.") var seed: String?
    @Option(help: "Access-token lifetime in seconds.") var tokenLifetime = 86_400

    func run() async throws {
        var options = AmoSandbox.Options()
        options.accessTokenLifetime = TimeInterval(tokenLifetime)
        let sandbox = try seed.map { try AmoSandbox(seedFile: $0, options: options) } ?? AmoSandbox(options: options)
        var logger = Logger(label: "amocrm-sandbox")
        logger.logLevel = .warning
        let app = sandbox.application(host: host, port: port, logger: logger) { port in
            say("amoCRM sandbox on http://\(host):\(port); state at /sandbox/state")
            print("long-lived token: \(sandbox.seed.long_lived_tokens.first ?? "-"), OAuth client \(sandbox.seed.client_id)")
        }
        try await app.runService()
    }
}

