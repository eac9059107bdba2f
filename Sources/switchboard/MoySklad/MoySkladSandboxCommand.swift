import ArgumentParser
import Foundation
import Logging
import SwitchboardSandbox

/// `switchboard sandbox moysklad`: a MoySklad account on a local port.
struct MoySkladSandboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moysklad",
        abstract: "A MoySklad account with JSON API 1.2 and Phone API 1.0 (errors, limits, gzip, tokens); /sandbox/state shows its data.")
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8083
    @Option(help: "Seed file (JSON: employees, organizations, counterparties, order states, keys); the demo account when omitted.")
    var seed: String?
    @Option(help: "Weight of a login/password or user-token request (default: MoySklad's published schedule for today).")
    var userWeight: Int?

    func run() async throws {
        var options = MoySkladSandbox.Options()
        if let userWeight { options.userAuthWeight = max(1, userWeight) }
        let sandbox = try seed.map { try MoySkladSandbox(seedFile: $0, options: options) } ?? MoySkladSandbox(options: options)
        var logger = Logger(label: "moysklad-sandbox")
        logger.logLevel = .warning
        let app = sandbox.application(host: host, port: port, logger: logger) { port in
            say("MoySklad sandbox on http://\(host):\(port) (JSON API /api/remap/1.2, Phone API /api/phone/1.0); state at /sandbox/state")
            let admin = sandbox.seed.employees.first { $0.isAdmin } ?? sandbox.seed.employees[0]
            print("login \(admin.uid) / \(admin.password), solution token \(sandbox.seed.solutionTokens.first ?? "-"), "
                + "telephony access key \(sandbox.seed.phoneAccessKey)")
        }
        try await app.runService()
    }
}
