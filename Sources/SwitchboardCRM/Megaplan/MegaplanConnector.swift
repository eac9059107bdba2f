import Foundation
import Logging
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// The Megaplan connector: the password grant's API v3 client, the call jobs, the personal-manager lookup through
/// `callRoute`, the web phone's commands (click-to-call, do-not-disturb, hang-up), the connection test and the users.
public struct MegaplanConnector: Sendable {
    let env: ConnectorEnvironment
    let credentials: CredentialStore
    let integrations: IntegrationStore
    let calls: CallStore
    let entities: CRMEntityStore
    let limiter: any RateLimiter
    /// A test-only seam, nil in production: runs after Megaplan answered a write and before its id is kept.
    var afterWrite: (@Sendable (String) throws -> Void)? = nil
    let logger = Logger(label: "switchboard.megaplan")

    public init(env: ConnectorEnvironment, limiter: (any RateLimiter)? = nil) {
        self.env = env
        self.credentials = CredentialStore(db: env.db, vault: env.vault)
        self.integrations = IntegrationStore(db: env.db)
        self.calls = CallStore(db: env.db)
        self.entities = CRMEntityStore(db: env.db)
        self.limiter = limiter ?? RateLimiters.make(for: env.db)
    }

    public func client(tenantId: String, credential: CRMCredential, log: AttemptLog?) -> MegaplanClient {
        MegaplanClient(tenantId: tenantId, credential: credential, credentials: credentials, http: env.outbound, log: log,
                       observe: { env.observe(.megaplan, $0) }, limiter: limiter)
    }

    public var handlers: [String: any JobHandler] {
        let jobs = MegaplanCallJobs(connector: self)
        return [CallJobKind.ringing(.megaplan): MegaplanRingingHandler(jobs: jobs),
                CallJobKind.answered(.megaplan): MegaplanAnsweredHandler(jobs: jobs),
                CallJobKind.finished(.megaplan): MegaplanFinishedHandler(jobs: jobs)]
    }

    /// Where a client made for a number is remembered, per integration (so two calls never make two clients).
    static func clientScope(_ last10: String) -> String { "megaplan-client:\(last10)" }
    /// Where the web phone's do-not-disturb is kept, per integration: kind = Megaplan employee id, value on/off.
    static let dndScope = "megaplan-dnd"

    // MARK: the web phone's commands (MP-9, CORE-12)

    func key(tenantId: String, credentialId: String) -> String { env.key("\(tenantId).\(credentialId)", purpose: "megaplan-webphone") }

    /// The addresses to enter in Megaplan's telephony settings for these credentials (the account), one per command.
    public func commandURLs(_ c: CRMCredential) -> [String: String] {
        let base = "\(env.baseURL())/crm/megaplan/\(c.tenantId)/\(c.id)/\(key(tenantId: c.tenantId, credentialId: c.id))"
        var out: [String: String] = [:]
        for command in MegaplanFacts.commands { out[command + "URL"] = "\(base)/\(command)" }
        out["dealsURL"] = dealsURL(c)
        return out
    }

    var inbound: [InboundEndpoint] {
        MegaplanFacts.commands.map { command in
            InboundEndpoint(path: "crm/megaplan/:tenant/:credential/:key/\(command)") { req, host in
                try await receive(command, req, host)
            }
        } + [dealsEndpoint]
    }

    /// One command of the account's web phone, for the active integrations on its credentials (the first that maps the
    /// employee places a call; do-not-disturb is kept for every one).
    func receive(_ command: String, _ req: InboundRequest, _ host: HostServices) async throws -> InboundResponse {
        let tenant = req.params["tenant"] ?? "", credentialId = req.params["credential"] ?? ""
        guard Hashing.constantTimeEquals(req.params["key"] ?? "", key(tenantId: tenant, credentialId: credentialId)),
              let credential = try await credentials.get(tenantId: tenant, id: credentialId), credential.crm == .megaplan else {
            return .refused(401, "unknown web phone address")
        }
        let linked = try await integrations.list(tenantId: tenant).filter { $0.credentialId == credentialId && $0.active }
        guard !linked.isEmpty else { return .refused(409, "no active integration uses these Megaplan credentials") }
        guard let c = MegaplanFacts.WebPhoneCommand.read(req.body) else { return .refused(400, "the body is not a JSON object") }
        guard let user = c.employeeId else { return .refused(400, "the command names no Megaplan employee") }
        var mapped: [(Integration, Employee)] = []
        for i in linked {
            let (_, byUser) = try await IntegrationContext<MegaplanSettings>.mapping(tenantId: tenant, integrationId: i.id, db: env.db,
                                                                                    vault: env.vault)
            if let e = byUser[user] { mapped.append((i, e)) }
        }
        switch command {
        case "call":
            guard let (integration, employee) = mapped.first else {
                return .refused(422, "Megaplan employee \(user) is not mapped to an employee of an active integration")
            }
            guard let phone = c.phone, !phone.isEmpty else { return .refused(400, "the command has no phone number") }
            do {
                let pbxCall = try await host.clickToCall(integration, employee.id, phone)
                return .json(["ok": true, "pbxCallId": pbxCall ?? ""])
            } catch {
                logger.warning("Megaplan click-to-call not placed", metadata: ["integration": "\(integration.id)", "error": "\(error)"])
                return .refused(409, "the call was not placed: \(error)")
            }
        case "dnd":
            guard let on = c.dnd else { return .refused(400, "the command does not say whether do-not-disturb is on") }
            // Routing honours it at once (a DND employee is not offered as the personal manager), whatever the PBX says.
            for i in linked {
                try await entities.remember(integrationId: i.id, scope: Self.dndScope, kind: user, crmId: on ? "on" : "off")
                await host.forgetRouting(i.id)
            }
            guard let (integration, employee) = mapped.first else { return .json(["ok": true, "dnd": on, "pbx": "employee not mapped"]) }
            do {
                try await host.setDND(integration, employee.id, on)
                return .json(["ok": true, "dnd": on, "pbx": "sent"])
            } catch {
                return .json(["ok": true, "dnd": on, "pbx": "not sent: \(error)"])
            }
        default:
            var callId = c.providerId
            if callId == nil, let card = c.callInfoId {
                callId = try await client(tenantId: tenant, credential: credential, log: nil)
                    .get("callInfo/\(card)", what: .readCallCard, accept: [404]).object?["providerId"].map { "\($0)" }
            }
            guard let callId else { return .refused(400, "the command names no call (providerId or callInfo)") }
            guard let call = try await calls.get(tenantId: tenant, id: callId) else { return .refused(404, "no such call") }
            guard !call.isOver else { return .json(["ok": true, "ended": true]) }
            do {
                try await host.hangUp(linked[0], call.id)
                return .json(["ok": true])
            } catch {
                return .refused(409, "the call was not ended: \(error)")
            }
        }
    }

    /// Whether the web phone put this Megaplan employee in do-not-disturb.
    func isDND(_ user: String, integrationId: String) async throws -> Bool {
        try await entities.all(integrationId: integrationId, scope: Self.dndScope)[user] == "on"
    }

    // MARK: credentials

    /// CORE-1 "test": "account X, N employees" (a password grant, then the employees).
    public func check(_ c: CRMCredential) async -> (ok: Bool, message: Phrase) {
        let api = client(tenantId: c.tenantId, credential: c, log: nil)
        do {
            _ = try await api.accessToken(force: true, password: true)
            let employees = try await api.all("employee", what: .countEmployees)
            try await credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .ok, detail: nil)
            let host = URLComponents(string: c.baseURL)?.host ?? c.baseURL
            let account = host.hasSuffix(".megaplan.ru") ? String(host.dropLast(".megaplan.ru".count)) : host
            return (true, MPSays.works(account: account, employees: employees.count).phrase)
        } catch {
            let message = CRMFailure.phrase(of: error)
            try? await credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .failed, detail: message)
            return (false, message)
        }
    }

    /// CORE-3/MP-2: Megaplan's employees with the extension of their telephony settings ("Пользователи" of
    /// "Подключение к телефонии по API"); employees without one get no cards (the guides' warning).
    public func users(_ c: CRMCredential) async throws -> [CRMUserSummary] {
        let api = client(tenantId: c.tenantId, credential: c, log: nil)
        let employees = try await api.all("employee", what: .listEmployees)
        var extensions: [String: String] = [:]
        for cfg in try await api.all("callUserConfig", what: .readTelephony) {
            guard let e = ((cfg["employee"] as? [String: Any])?["id"]).map({ "\($0)" }), let n = cfg["internalNumber"] as? String else { continue }
            extensions[e] = MegaplanConnector.extensionDigits(n)
        }
        return employees.compactMap { e in
            guard let id = e["id"].map({ "\($0)" }) else { return nil }
            let name = (e["name"] as? String) ?? [e["firstName"], e["lastName"]].compactMap { $0 as? String }.joined(separator: " ")
            let email = (e["contactInfo"] as? [[String: Any]])?.first { $0["type"] as? String == "email" }?["value"] as? String
            let fired = e["fireDay"] != nil && !(e["fireDay"] is NSNull)
            return CRMUserSummary(id: id, name: name.isEmpty ? id : name, email: email, extension_: extensions[id], active: !fired)
        }
    }

    /// "101", or the user part of "sip:101@host".
    static func extensionDigits(_ s: String) -> String {
        var s = s
        if s.hasPrefix("sip:") { s = String(s.dropFirst(4)) }
        return String(s.prefix { $0 != "@" })
    }
}

/// CORE-6/MP-9: the caller's personal manager is the responsible Megaplan offers in `callRoute` for the number,
/// skipping employees the web phone put in do-not-disturb.
struct MegaplanManagerLookup: ManagerLookup {
    let connector: MegaplanConnector

    func responsible(for phone: PhoneNumber, integration: Integration) async throws -> ResponsibleUser? {
        guard let credentialId = integration.credentialId,
              let credential = try await connector.credentials.get(tenantId: integration.tenantId, id: credentialId) else { return nil }
        let api = connector.client(tenantId: integration.tenantId, credential: credential, log: nil)
        let route = try await api.get("callRoute", ["phone": phone.digits], what: .findResponsible)
        let users = route.object?["users"] as? [[String: Any]] ?? []
        for e in route.object?[MegaplanFacts.callRouteEmployees] as? [[String: Any]] ?? [] {
            guard let id = e["id"].map({ "\($0)" }) else { continue }
            if try await connector.isDND(id, integrationId: integration.id) { continue }
            return ResponsibleUser(crmUserId: id, contactName: users.first?["name"] as? String)
        }
        return nil
    }
}
