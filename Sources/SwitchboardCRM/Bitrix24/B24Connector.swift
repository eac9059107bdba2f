import Foundation
import Logging
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// The Bitrix24 connector: a local application on the tenant's portal (telephony methods work only for applications),
/// its call jobs, the personal-manager lookup, and the address Bitrix24 posts its installation and events to.
public struct B24Connector: Sendable {
    let env: ConnectorEnvironment
    let credentials: CredentialStore
    let integrations: IntegrationStore
    let calls: CallStore
    let entities: CRMEntityStore
    let limiter: any RateLimiter
    var logger: Logger { env.logger }

    public init(env: ConnectorEnvironment, limiter: (any RateLimiter)? = nil) {
        self.env = env
        self.credentials = CredentialStore(db: env.db, vault: env.vault)
        self.integrations = IntegrationStore(db: env.db)
        self.calls = CallStore(db: env.db)
        self.entities = CRMEntityStore(db: env.db)
        self.limiter = limiter ?? RateLimiters.make(for: env.db)
    }

    public func client(tenantId: String, credential: CRMCredential, log: AttemptLog?) -> B24Client {
        B24Client(tenantId: tenantId, credential: credential, credentials: credentials, http: env.outbound, log: log,
                  observe: { env.observe(.bitrix24, $0) }, limiter: limiter,
                  oauthServer: env.setting(B24OAuthServer.settingName) ?? B24OAuthServer.production,
                  installationApp: env.oauthApp(.bitrix24))
    }

    public var handlers: [String: any JobHandler] {
        let jobs = B24CallJobs(connector: self)
        return [CallJobKind.ringing(.bitrix24): B24RingingHandler(jobs: jobs), CallJobKind.finished(.bitrix24): B24FinishedHandler(jobs: jobs)]
    }

    /// Where a click-to-call from Bitrix24 waits for the PBX's call: the employee and the client's number.
    static func clickScope(login: String, last10: String) -> String { "b24-click:\(login):\(last10)" }

    // MARK: the application's address

    /// The key in the application's handler address (Bitrix24 signs events only with the application token it hands
    /// over at installation, so the installation itself is authenticated by this key).
    func key(tenantId: String, credentialId: String) -> String { env.vault.mac("\(tenantId).\(credentialId)", purpose: "bitrix24-app") }

    /// The address to paste into the local application's form (both "handler" and "installation" paths).
    public func handlerURL(_ c: CRMCredential) -> String {
        "\(env.baseURL())/crm/bitrix24/\(c.tenantId)/\(c.id)/\(key(tenantId: c.tenantId, credentialId: c.id))"
    }

    /// Click-to-call, the changes that make cached personal managers stale, and the deals (CORE-16).
    public static let boundEvents = ["ONEXTERNALCALLSTART", "ONEXTERNALCALLBACKSTART", "ONCRMCONTACTUPDATE", "ONCRMCOMPANYUPDATE",
                                     "ONCRMLEADUPDATE"] + dealEvents

    var inbound: InboundEndpoint {
        InboundEndpoint(path: "crm/bitrix24/:tenant/:credential/:key") { req, host in
            try await receive(req, host)
        }
    }

    func receive(_ req: InboundRequest, _ host: HostServices) async throws -> InboundResponse {
        let tenant = req.params["tenant"] ?? "", credentialId = req.params["credential"] ?? ""
        guard Hashing.constantTimeEquals(req.params["key"] ?? "", key(tenantId: tenant, credentialId: credentialId)),
              let credential = try await credentials.get(tenantId: tenant, id: credentialId), credential.crm == .bitrix24 else {
            return .refused(401, "unknown application address")
        }
        let f = req.fields
        let event = (f["event"] ?? "").uppercased()
        if event == "ONAPPINSTALL" { return try await install(f, credential) }
        // Every other event must carry the application token the installation handed over.
        guard let stored = try await credentials.secret(tenantId: tenant, id: credentialId)?.extra?["application_token"],
              Hashing.constantTimeEquals(f["auth[application_token]"] ?? "", stored) else {
            logger.warning("Bitrix24 event with a wrong application token refused", metadata: ["credential": "\(credentialId)"])
            return .refused(401, "the application token does not match")
        }
        let linked = try await integrations.list(tenantId: tenant).filter { $0.credentialId == credentialId && $0.active }
        switch event {
        case "ONEXTERNALCALLSTART", "ONEXTERNALCALLBACKSTART":
            return try await clickToCall(event: event, f, linked: linked, host: host)
        case let e where Self.dealEvents.contains(e):
            // CORE-16: the event names the deal only; a job reads it (B24 §5).
            guard let id = f["data[FIELDS][ID]"], !id.isEmpty else { return .refused(400, "the event names no deal") }
            for i in linked { try await host.dealsChanged(i, [id]) }
            return .json(["ok": true])
        case let e where e.hasPrefix("ONCRM"):
            // A record's responsible may have changed: every instance forgets the personal managers it cached (B24 §3).
            for i in linked { await host.forgetRouting(i.id) }
            return .json(["ok": true])
        default:
            return .json(["ok": true, "ignored": event])
        }
    }

    /// ONAPPINSTALL: the tokens, the portal's id and the application token, kept sealed; then the events are bound.
    func install(_ f: [String: String], _ credential: CRMCredential) async throws -> InboundResponse {
        guard let access = f["auth[access_token]"], let refresh = f["auth[refresh_token]"], let token = f["auth[application_token]"] else {
            return .refused(400, "the installation carries no tokens")
        }
        // The portal that installed must be the one the tenant named: tokens never follow another address.
        let expected = URLComponents(string: credential.baseURL).map { c in (c.host ?? "") + (c.port.map { ":\($0)" } ?? "") } ?? ""
        guard (f["auth[domain]"] ?? "").lowercased() == expected.lowercased() else {
            return .refused(422, "installed on \(f["auth[domain]"] ?? "?"), but these credentials are for \(expected)")
        }
        var secret = try await credentials.secret(tenantId: credential.tenantId, id: credential.id) ?? CRMSecret()
        secret.accessToken = access
        secret.refreshToken = refresh
        secret.accessTokenExpiresAt = Date().addingTimeInterval(Double(f["auth[expires_in]"].flatMap { Int($0) } ?? 3600))
        var extra = secret.extra ?? [:]
        extra["application_token"] = token
        extra["member_id"] = f["auth[member_id]"]
        secret.extra = extra
        try await credentials.storeRefreshed(tenantId: credential.tenantId, id: credential.id, secret: secret, status: "ok", detail: nil)
        logger.info("Bitrix24 application installed", metadata: ["credential": "\(credential.id)"])
        // Bound after the answer: Bitrix24 waits for the installation handler before the application works.
        let connector = self
        Task {
            do { try await connector.bindEvents(credential) } catch {
                connector.logger.warning("Bitrix24 events not bound", metadata: ["credential": "\(credential.id)", "error": "\(error)"])
            }
        }
        return .json(["ok": true])
    }

    /// `event.bind` for click-to-call and for the changes that make cached personal managers stale; bound already is fine.
    public func bindEvents(_ credential: CRMCredential) async throws {
        let api = client(tenantId: credential.tenantId, credential: credential, log: nil)
        let commands = Self.boundEvents.enumerated().map { i, e in
            B24Command(String(format: "e%02d", i), "event.bind", ["event": .string(e), "handler": .string(handlerURL(credential))])
        }
        let answer = try await api.batch(commands, what: .bindEvents)
        for (key, failure) in answer.errors where !failure.text.contains("already binded") {
            throw DeliveryError.permanent(B24Says.bindRefused(key: key, failure: "\(failure)").phrase)
        }
    }

    /// CORE-12: a click on a number in Bitrix24 (or a CRM form's callback): the PBX calls the employee, then the
    /// client. Bitrix24 registered the call itself; its CALL_ID waits for the PBX's call, which then finishes it.
    func clickToCall(event: String, _ f: [String: String], linked: [Integration], host: HostServices) async throws -> InboundResponse {
        guard let phone = f["data[PHONE_NUMBER]"], !phone.isEmpty else { return .refused(400, "the event has no phone number") }
        for integration in linked {
            let settings = (try? JSON.decode(B24Settings.self, from: JSON.string(integration.settings))) ?? B24Settings()
            let user = event == "ONEXTERNALCALLSTART" ? f["data[USER_ID]"] : settings.incoming.defaultResponsible.map(String.init)
            let (_, byUser) = try await IntegrationContext<B24Settings>.mapping(tenantId: integration.tenantId, integrationId: integration.id,
                                                                              db: env.db, vault: env.vault)
            guard let user, let employee = byUser[user] else { continue }
            if let callId = f["data[CALL_ID]"], !callId.isEmpty,
               let last10 = PhoneNumber.parse(phone, region: "RU").last10 {
                try await entities.remember(integrationId: integration.id, scope: Self.clickScope(login: employee.login, last10: last10),
                                            kind: "call", crmId: callId)
            }
            do {
                let pbxCall = try await host.clickToCall(integration, employee.id, phone)
                return .json(["ok": true, "pbxCallId": pbxCall ?? ""])
            } catch {
                logger.warning("Bitrix24 click-to-call not placed", metadata: ["integration": "\(integration.id)", "error": "\(error)"])
                return .refused(409, "the call was not placed: \(error)")
            }
        }
        return .refused(422, "Bitrix24 user \(f["data[USER_ID]"] ?? "?") is not mapped to an employee of an active integration")
    }

    // MARK: credentials

    /// CORE-1 "test": "portal X, N users, CRM mode leads/deals", in one batch.
    public func check(_ c: CRMCredential) async -> (ok: Bool, message: Phrase) {
        let api = client(tenantId: c.tenantId, credential: c, log: nil)
        do {
            let answer = try await api.batch([B24Command("mode", "crm.settings.mode.get", [:]),
                                              B24Command("users", "user.get", ["FILTER": .map(["ACTIVE": "true"])])],
                                             what: .testConnection)
            if let failure = answer.errors.values.first { throw failure }
            let total = try await api.envelope("user.get", ["FILTER": .map(["ACTIVE": "true"]), "start": "0"], what: .countUsers)["total"]
            let dealsMode = "\(answer.results["mode"] ?? "")" == "2"
            let host = URLComponents(string: c.baseURL)?.host ?? c.baseURL
            try await credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .ok, detail: nil)
            return (true, B24Says.works(portal: host, users: Int("\(total ?? 0)") ?? 0, dealsMode: dealsMode).phrase)
        } catch {
            let message = CRMFailure.phrase(of: error)
            let stored = try? await credentials.get(tenantId: c.tenantId, id: c.id)
            if stored?.status != "reconnect" {
                try? await credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .failed, detail: message)
            }
            return (false, message)
        }
    }

    /// CORE-3: the portal's users with their inner numbers, page by page.
    public func users(_ c: CRMCredential) async throws -> [CRMUserSummary] {
        let api = client(tenantId: c.tenantId, credential: c, log: nil)
        var out: [CRMUserSummary] = []
        var start = 0
        while true {
            let page = try await api.envelope("user.get", ["start": .int(start)], what: .listUsers)
            for u in page["result"] as? [[String: Any]] ?? [] {
                guard let id = u["ID"].map({ "\($0)" }) else { continue }
                let name = [u["NAME"], u["LAST_NAME"]].compactMap { $0 as? String }.filter { !$0.isEmpty }.joined(separator: " ")
                out.append(CRMUserSummary(id: id, name: name.isEmpty ? (u["EMAIL"] as? String ?? id) : name, email: u["EMAIL"] as? String,
                                          extension_: (u["UF_PHONE_INNER"] as? String).flatMap { $0.isEmpty ? nil : $0 },
                                          active: (u["ACTIVE"] as? Bool) ?? ((u["ACTIVE"] as? String) != "N")))
            }
            guard let next = page["next"] as? Int, next > start else { break }
            start = next
        }
        return out
    }
}

/// CORE-6/B24-6: the caller's personal manager: the responsible user of their Bitrix24 record
/// (`telephony.externalCall.searchCrmEntities`: contacts, companies, then leads). Routing keeps only users whose
/// mapping says "use for personal-manager lookup".
struct B24ManagerLookup: ManagerLookup {
    let connector: B24Connector

    func responsible(for phone: PhoneNumber, integration: Integration) async throws -> ResponsibleUser? {
        guard let credentialId = integration.credentialId,
              let credential = try await connector.credentials.get(tenantId: integration.tenantId, id: credentialId) else { return nil }
        let api = connector.client(tenantId: integration.tenantId, credential: credential, log: nil)
        let found = try await api.call("telephony.externalCall.searchCrmEntities", ["PHONE_NUMBER": .string(phone.e164 ?? phone.display)],
                                       what: .findResponsible)
        guard let first = (found as? [[String: Any]])?.first, let assigned = first["ASSIGNED_BY_ID"].map({ "\($0)" }),
              assigned != "0" else { return nil }
        return ResponsibleUser(crmUserId: assigned, contactName: first["NAME"] as? String)
    }
}
