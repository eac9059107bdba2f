import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization
import SwitchboardApp
import SwitchboardCore
import SwitchboardCRM
import SwitchboardDelivery
import SwitchboardOutbound
import SwitchboardPBX
import SwitchboardStorage
import Testing

/// The outbound client of every CRM and PBX request is a value a test replaces (issue 10): `.scripted` answers from
/// the test, `.failing` reports any request as a test failure. A connector's or a PBX client's handling of answers is
/// tested here with no network and no sandbox.
@Suite struct StubbedClientTests {
    /// What a scripted client saw: method, URL and the Authorization / X-API-KEY headers.
    final class Seen: Sendable {
        let requests = Mutex<[String]>([])
        func add(_ r: HTTPClientRequest) {
            let auth = r.headers.first(name: "Authorization") ?? r.headers.first(name: "X-API-KEY") ?? "-"
            requests.withLock { $0.append("\(r.method.rawValue) \(r.url) [\(auth)]") }
        }
        var all: [String] { requests.withLock { $0 } }
    }

    static func contacts(_ list: [(id: Int, phone: String)]) -> String {
        let items = list.map { c in
            """
            {"id":\(c.id),"name":"C\(c.id)","responsible_user_id":5,"custom_fields_values":[{"field_code":"PHONE","values":[{"value":"\(c.phone)"}]}],"_embedded":{"leads":[{"id":\(c.id * 10)}]}}
            """
        }
        return #"{"_embedded":{"contacts":["# + items.joined(separator: ",") + "]}}"
    }

    func amoClient(_ sb: Switchboard, outbound: OutboundHTTP, token: String = "long-lived") async throws -> (AmoClient, CRMCredential) {
        let tenant = try await TestTenant.make(sb)
        let credential = try await sb.credentials.create(tenantId: tenant.id, crm: .amocrm, name: "acme",
                                                         baseURL: "https://acme.amocrm.ru", authKind: .token,
                                                         secret: CRMSecret(token: token))
        let client = AmoClient(tenantId: tenant.id, credential: credential, credentials: sb.credentials, oauth: nil,
                               http: outbound, log: AttemptLog(), limiter: LocalRateLimiter())
        return (client, credential)
    }

    @Test("a scripted CRM answer: the contact whose PHONE matches is chosen among the query's hits, with the stored token",
          arguments: Backend.available)
    func scriptedContactSearch(_ backend: Backend) async throws {
        let seen = Seen()
        // amoCRM's `query` matches every field: contact 7 was found by another field, 9 has the number.
        let outbound = OutboundHTTP.scripted { request in
            seen.add(request)
            return (200, [("Content-Type", "application/json")], Self.contacts([(7, "+7 495 000-00-00"), (9, "8 (916) 123-45-67")]))
        }
        try await withSwitchboard(backend) { sb in
            let (client, _) = try await amoClient(sb, outbound: outbound)
            let contact = try await AmoAPI(client: client).contact(byPhone: PhoneNumber.parse("+79161234567"))
            #expect(contact?.id == 9)
            #expect(contact?.leadIds == [90])
            #expect(seen.all == ["GET https://acme.amocrm.ru/api/v4/contacts?query=9161234567&with=leads [Bearer long-lived]"])
        }
    }

    @Test("scripted CRM refusals: 429 is rate-limited with its Retry-After, 401 marks the credential for reconnection",
          arguments: Backend.available)
    func scriptedRefusals(_ backend: Backend) async throws {
        let status = LockedValue(429)
        let outbound = OutboundHTTP.scripted { _ in
            (status.value, [("Retry-After", "3")], #"{"title":"Too Many Requests"}"#)
        }
        try await withSwitchboard(backend) { sb in
            let (client, credential) = try await amoClient(sb, outbound: outbound)
            do {
                _ = try await client.call(.GET, "/api/v4/users", what: .listUsers)
                Issue.record("a 429 answer came back as a success")
            } catch DeliveryError.rateLimited(_, let after) {
                #expect(after == .seconds(3))
            }
            status.value = 401
            do {
                _ = try await client.call(.GET, "/api/v4/users", what: .listUsers)
                Issue.record("a 401 answer came back as a success")
            } catch DeliveryError.permanent {
                let stored = try await sb.credentials.get(tenantId: credential.tenantId, id: credential.id)
                #expect(stored?.status == "reconnect")
            }
        }
    }

    @Test("the failing client reports a stray CRM request and fails it", arguments: Backend.available)
    func failingReports(_ backend: Backend) async throws {
        let reports = LockedValue<[String]>([])
        let outbound = OutboundHTTP.failing { message in reports.value.append(message) }
        try await withSwitchboard(backend, outbound: outbound) { sb in
            let (client, _) = try await amoClient(sb, outbound: sb.outbound)
            // A hidden number is answered without asking amoCRM.
            #expect(try await AmoAPI(client: client).contact(byPhone: PhoneNumber.parse("anonymous")) == nil)
            #expect(reports.value.isEmpty)
            await #expect(throws: DeliveryError.self) { _ = try await client.call(.GET, "/api/v4/account", what: .readAccount) }
            #expect(reports.value == ["unexpected outbound request: GET https://acme.amocrm.ru/api/v4/account"])
        }
    }

    @Test func scriptedPBXCommands() async throws {
        let seen = Seen()
        let status = LockedValue(200)
        let outbound = OutboundHTTP.scripted { request in
            seen.add(request)
            return (status.value, [], #"{"callid":"pbx-77"}"#)
        }
        let commands = ITooLabsCommands(baseURL: "https://pbx.example/", key: "k-1", flavor: .v1, http: outbound)
        #expect(try await commands.originate(employeeLogin: "anna", clientNumber: PhoneNumber.parse("+79161234567"), callerId: nil) == "pbx-77")
        #expect(seen.all == ["POST https://pbx.example/crmapi/v1/makecall [k-1]"])
        status.value = 503
        do {
            _ = try await commands.originate(employeeLogin: "anna", clientNumber: PhoneNumber.parse("+79161234567"), callerId: nil)
            Issue.record("a 503 answer came back as a success")
        } catch let error as PBXCommandError {
            #expect(error.retryable && error.status == 503)
            // The API keeps its English; the cabinet reads the same failure in Russian.
            #expect(error.message == #"PBX refused /makecall: HTTP 503 {"callid":"pbx-77"}"#)
            #expect(error.phrase.ru == #"АТС отказала (/makecall): HTTP 503 {"callid":"pbx-77"}"#)
        }
    }

    @Test func failingPBXCommandsReport() async throws {
        let reports = LockedValue<[String]>([])
        let commands: any PBXCommands = FailingPBXCommands { message in reports.value.append(message) }
        await #expect(throws: PBXCommandError.self) { try await commands.setDND(employeeLogin: "anna", on: true) }
        #expect(reports.value == ["unexpected PBX command: setDND anna true"])
    }
}
