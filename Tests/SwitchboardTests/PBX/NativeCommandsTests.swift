import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardPBX
import SwitchboardSimulator
import SwitchboardStorage

/// Switchboard's own protocol carries commands too (signed like its events): the simulator answers them and plays the
/// calls they start and end back to Switchboard.
@Suite("Native protocol commands: originate, hang-up and DND against the simulated PBX")
struct NativeCommandsTests {
    @Test("a call started by originate is ended by hang-up; DND is set and read; a forged command is refused",
          arguments: Backend.available)
    func commands(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let pbx = SimulatedPBXServer(key: "pbx-key", accounts: [])
            try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxURL in
                try await withLiveSwitchboard(sb) { base in
                    let fx = try await PBXFixture.make(sb, protocol: .switchboard, apiURL: pbxURL, apiKey: "pbx-key")
                    pbx.player = fx.player(base)
                    _ = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id, login: "anna",
                                                        extension_: "101", name: "Анна", email: nil, directNumber: nil)
                    let commands = try #require(try await sb.commands(for: fx.connection))
                    let pbxCallId = try #require(try await commands.originate(employeeLogin: "anna",
                                                                              clientNumber: PhoneNumber.parse("+79161112233"), callerId: nil))
                    let started = try #require(pbx.commands.first { $0.cmd == "originate" })
                    #expect(started.fields["employee"] == "anna" && started.fields["phone"] == "+79161112233")
                    var call: Call?
                    try await eventually("the originated call to be connected in Switchboard") {
                        call = try await sb.calls.find(connectionId: fx.connection.id, externalId: pbxCallId)
                        return call?.state == .connected
                    }
                    let id = try #require(call?.id)

                    // The host's hang-up (what a CRM's "end call" asks for) reaches the PBX by the PBX's own call id.
                    let integration = try await sb.integrations.create(tenantId: fx.tenant.id, crm: CRMKind("any"), name: "crm",
                                                                       credentialId: nil, pbxConnectionId: fx.connection.id,
                                                                       active: true, settings: .object([:]))
                    try await ConnectorRoutes(sb: sb).hostServices.hangUp(integration, id)
                    #expect(pbx.commands.last?.cmd == "hangup" && pbx.commands.last?.fields["call_id"] == pbxCallId)
                    try await eventually("the call to end") { try await sb.calls.get(tenantId: fx.tenant.id, id: id)?.isOver == true }
                    // A call that is over cannot be hung up again: the PBX says why.
                    do {
                        try await commands.hangup(callId: pbxCallId)
                        Issue.record("a second hang-up was accepted")
                    } catch let e as PBXCommandError {
                        #expect(e.status == 409 && e.message.contains("no such call"))
                    }

                    try await commands.setDND(employeeLogin: "anna", on: true)
                    #expect(pbx.isDND("anna"))
                    #expect(try await commands.getDND(employeeLogin: "anna"))

                    // Unsigned or badly signed commands are refused.
                    let forged = try await ScenarioPlayer(baseURL: pbxURL, connectionId: "", secret: "")
                        .post("/commands", body: Array(#"{"command":"hangup","call_id":"x"}"#.utf8),
                              headers: ["Content-Type": "application/json", "X-Switchboard-Timestamp": String(Int(Date().timeIntervalSince1970)),
                                        "X-Switchboard-Signature": "sha256=00"])
                    #expect(forged.status == 401)
                }
            }
        }
    }
}
