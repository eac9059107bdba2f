import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import SwitchboardApp
import SwitchboardCore
import SwitchboardStorage

@Suite("Storage failures reach clients as 503 with Retry-After, never a bare 500")
struct StorageFailureTests {
    @Test("a management API request whose storage fails is refused with 503, Retry-After and a reason; logged",
          arguments: Backend.available)
    func managementAPIStorageFailure(_ backend: Backend) async throws {
        try await withSwitchboard(backend) { sb in
            let a = try await TestTenant.make(sb)
            try await sb.buildApplication(workers: false).test(.router) { client in
                try await client.execute(uri: "/api/v1/integrations", method: .get, headers: a.auth) { #expect($0.status == .ok) }
                // The storage fails under the route (a table gone stands for a database that cannot answer).
                _ = try await sb.db.transaction { tx in try await tx.execute("ALTER TABLE integrations RENAME TO integrations_away") }
                try await client.execute(uri: "/api/v1/integrations", method: .get, headers: a.auth) { res in
                    #expect(res.status == .serviceUnavailable)
                    #expect(res.headers[.retryAfter] == "1")
                    #expect(res.body.j["error"]?["message"]?.stringValue?.contains("try again") == true)
                }
                _ = try await sb.db.transaction { tx in try await tx.execute("ALTER TABLE integrations_away RENAME TO integrations") }
                try await client.execute(uri: "/api/v1/integrations", method: .get, headers: a.auth) { #expect($0.status == .ok) }
            }
        }
    }

    @Test("which errors are the storage's")
    func classification() {
        #expect(StorageFailure.isUnavailable(DatabaseError("PostgreSQL: the pool timed out")))
        #expect(StorageFailure.isUnavailable(StorageBusy("the ingest queue is full")))
        #expect(!StorageFailure.isUnavailable(DatabaseError("duplicate key", isUniqueViolation: true)))
        #expect(!StorageFailure.isUnavailable(DatabaseError("invalid byte sequence", isDataRefused: true)))
        struct Other: Error {}
        #expect(!StorageFailure.isUnavailable(Other()))
    }
}
