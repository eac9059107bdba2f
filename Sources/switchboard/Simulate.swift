import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SwitchboardCore
import SwitchboardPBX
import SwitchboardSimulator

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Play call scenarios against a running Switchboard, as a PBX would.",
        discussion: "Scenarios: \(DemoPBX.Scenarios.names.joined(separator: ", ")). " +
            "With --pbx-port, also serve the PBX's API for Switchboard's commands (click-to-call calls come back as outgoing calls).")

    @Option(help: "Switchboard's address.") var url = "http://127.0.0.1:8080"
    @Option(help: "The PBX connection id (from the management API).") var connection: String
    @Option(help: "The connection's inbound secret (the token its PBX sends, or the signing key).") var secret: String
    @Option(help: "Client number to call from.") var client = "79101234567"
    @Option(help: "The employee (PBX login) who answers.") var employee = "ivan"
    @Option(help: "Serve the simulated PBX API on this port and keep running.") var pbxPort: Int?
    @Option(help: "The simulated PBX API's key.") var pbxKey = "simulator-key"
    @Argument(help: "Scenarios to play, in order.") var scenarios: [String] = ["answered"]

    func run() async throws {
        let player = ScenarioPlayer(baseURL: url, connectionId: connection, secret: secret)
        for name in scenarios {
            let steps: [SimStep]
            switch name {
            case "overlapping": steps = DemoPBX.Scenarios.overlapping(client: client).2
            case "native": steps = NativeScenarios.answered(client: "+" + client.filter(\.isNumber), employee: employee).steps
            case "answered": steps = DemoPBX.Scenarios.answered(client: client, employee: employee).steps
            case "click-to-call":
                print("click-to-call: POST /api/v1/calls/originate; the simulated PBX (--pbx-port) plays the call back")
                continue
            default:
                guard let s = DemoPBX.Scenarios.named(name) else {
                    throw ValidationError("unknown scenario \(name); known: \(DemoPBX.Scenarios.names.joined(separator: ", "))")
                }
                steps = s.steps
            }
            try await player.play(steps)
            print("played \(name): \(steps.count) requests")
        }
        if let pbxPort {
            let pbx = SimulatedPBXServer(key: pbxKey, accounts: [PBXAccount(login: employee, name: employee, extension: "101")])
            pbx.player = player
            var logger = Logger(label: "simulated-pbx")
            logger.logLevel = .warning
            let app = pbx.application(port: pbxPort, logger: logger) { port in
                print("Simulated PBX API on http://127.0.0.1:\(port) (key \(pbxKey)); Ctrl-C to stop")
            }
            try await app.runService()
        }
    }
}
