import ArgumentParser
import Foundation
import Hummingbird
import Logging
import SwitchboardSandbox

/// `switchboard sandbox bitrix24`: a Bitrix24 portal with Switchboard installed as a local application.
struct Bitrix24SandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bitrix24",
        abstract: "A Bitrix24 portal: REST methods, batch, OAuth server, leaky-bucket limit and events; /sandbox/state shows its data.")
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8083
    @Option(help: "Seed file (JSON: portal, application, users, CRM records); the demo portal when omitted.") var seed: String?
    @Option(help: "Access-token lifetime in seconds.") var tokenLifetime = 3600
    @Option(help: "Requests the leaky bucket holds before QUERY_LIMIT_EXCEEDED (50; Enterprise 250).") var burst = 50.0
    @Option(help: "Requests a second the bucket drains (2; Enterprise 5).") var drain = 2.0
    @Option(help: "The address clients reach the sandbox at, for client_endpoint (default: the bound address).") var publicURL: String?

    func run() async throws {
        var options = B24Sandbox.Options()
        options.accessTokenLifetime = TimeInterval(tokenLifetime)
        options.burst = burst
        options.drainPerSecond = drain
        options.publicURL = publicURL
        let sandbox = try seed.map { try B24Sandbox(seedFile: $0, options: options) } ?? B24Sandbox(options: options)
        var logger = Logger(label: "bitrix24-sandbox")
        logger.logLevel = .warning
        let app = sandbox.application(host: host, port: port, logger: logger) { port in
            say("Bitrix24 sandbox on http://\(host):\(port); REST at /rest/<method>, OAuth at /oauth/token/, state at /sandbox/state")
            say("application \(sandbox.seed.client_id); POST /sandbox/code or /sandbox/install for first tokens")
        }
        try await app.runService()
    }
}
