import Foundation
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

/// The call ingest reads the integrations a PBX connection feeds through the integration store, in its own batch.
@Suite("Ingest targets")
struct IngestTargetTests {
    @Test("only the active integrations of the connection, read in the caller's transaction", arguments: Backend.available)
    func activeForIngest(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let fx = try await PBXFixture.make(sb)
            let other = try await PBXFixture.make(sb)
            let on = try await sb.integrations.create(tenantId: fx.tenant.id, crm: .amocrm, name: "on", credentialId: nil,
                                                      pbxConnectionId: fx.connection.id, active: true)
            _ = try await sb.integrations.create(tenantId: fx.tenant.id, crm: .amocrm, name: "off", credentialId: nil,
                                                 pbxConnectionId: fx.connection.id, active: false)
            _ = try await sb.integrations.create(tenantId: other.tenant.id, crm: .amocrm, name: "elsewhere", credentialId: nil,
                                                 pbxConnectionId: other.connection.id, active: true)
            let id = fx.connection.id
            let targets = try await sb.db.transaction { tx in
                try await IntegrationStore.activeForIngest(pbxConnectionId: id, in: tx)
            }
            #expect(targets == [IntegrationStore.IngestTarget(id: on.id, crm: .amocrm, credentialId: nil)])
        }
    }
}
