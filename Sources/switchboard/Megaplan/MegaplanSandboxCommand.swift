import ArgumentParser
import Foundation
import Logging
import SwitchboardSandbox

/// `switchboard sandbox megaplan`: a Megaplan account speaking API v3 on this machine.
struct MegaplanSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "megaplan",
        abstract: "A Megaplan account with API v3's paths, envelope, errors, paging, tokens and telephony; /sandbox/state shows its data.")
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8084
    @Option(help: "Seed file (JSON: users, employees, clients, programs, todo categories, extra fields); the demo account when omitted.")
    var seed: String?
    @Option(help: "Access-token lifetime in seconds.") var tokenLifetime = 172_800
    @Option(help: "Requests per second before 429 (0: no limit).") var requestsPerSecond = MegaplanSandbox.Options().requestsPerSecond ?? 0

    func run() async throws {
        var options = MegaplanSandbox.Options()
        options.accessTokenLifetime = TimeInterval(tokenLifetime)
        options.requestsPerSecond = requestsPerSecond > 0 ? requestsPerSecond : nil
        let sandbox = try seed.map { try MegaplanSandbox(seedFile: $0, options: options) } ?? MegaplanSandbox(options: options)
        var logger = Logger(label: "megaplan-sandbox")
        logger.logLevel = .warning
        let app = sandbox.application(host: host, port: port, logger: logger) { port in
            say("Megaplan sandbox on http://\(host):\(port) (API v3 at /api/v3); state at /sandbox/state")
            if let user = sandbox.seed.users.first { print("login: \(user.username) / \(user.password)") }
        }
        try await app.runService()
    }
}
