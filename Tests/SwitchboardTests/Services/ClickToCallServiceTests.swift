import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSimulator
import SwitchboardStorage

@Suite("ClickToCallService: the API's click-to-call and a CRM's, one path to the PBX")
struct ClickToCallServiceTests {
    @Test("the management API and a connector's HostServices place the same call with the same caller ID; a CRM's call needs the integration on, and a bad number is refused in each caller's words", arguments: Backend.available)
    func onePath(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let pbx = SimulatedPBXServer(key: "pbx-api-key", accounts: [])
            try await withLiveApplication({ pbx.application(logger: testLogger(), onRunning: $0) }) { pbxBase in
                let fx = try await PBXFixture.make(sb, apiURL: pbxBase, apiKey: "pbx-api-key")
                let ivan = try await sb.pbx.upsertEmployee(tenantId: fx.tenant.id, connectionId: fx.connection.id, login: "ivan",
                                                           extension_: "101", name: "Ivan", email: nil, directNumber: nil, hasSIP: false)
                let integration = try await sb.integrations.create(
                    tenantId: fx.tenant.id, crm: .amocrm, name: "amo", credentialId: nil, pbxConnectionId: fx.connection.id, active: true,
                    settings: .object(["clickToCall": .object(["callerId": .string("+7 495 000-11-22"), "overrideCallerId": .bool(false)])]))
                let service = ClickToCallService(sb: sb)
                let placed = try await service.originate(tenantId: fx.tenant.id, employeeId: ivan.id, phone: "+7 910 765-43-21",
                                                         integrationId: integration.id)
                #expect(placed.callerId == "+7 495 000-11-22")
                let host = HostServices.live(sb)
                _ = try await host.clickToCall(integration, ivan.id, "89107654321")
                let calls = pbx.commands.filter { $0.cmd == "makeCall" }
                #expect(calls.count == 2)
                #expect(calls.map { $0.fields["clid"] } == ["74950001122", "74950001122"])
                #expect(calls.map { $0.fields["phone"] } == ["79107654321", "79107654321"])

                var off = integration
                off.active = false
                await #expect(throws: ClickToCallService.Refusal.switchedOff) {
                    try await service.originate(for: off, employeeId: ivan.id, phone: "89107654321")
                }
                do {
                    _ = try await host.clickToCall(integration, ivan.id, "12")
                    Issue.record("a bad number was placed")
                } catch let refusal as ClickToCallRefusal {
                    #expect(refusal.description == "12 is not a phone number")
                }
                await #expect(throws: ClickToCallService.Refusal.notAPhone("12")) {
                    try await service.originate(tenantId: fx.tenant.id, employeeId: ivan.id, phone: "12")
                }
                #expect(pbx.commands.filter { $0.cmd == "makeCall" }.count == 2)
            }
        }
    }
}
