import Foundation
import Logging
import SwitchboardCore
import SwitchboardDelivery
import SwitchboardPBX
import SwitchboardStorage

/// The MoySklad connector: the telephony application's access key (Phone API) and JSON API access, the call jobs, the
/// personal-manager lookup, and the "Адрес провайдера телефонии" MoySklad posts click-to-call requests to.
public struct MSConnector: Sendable {
    let env: ConnectorEnvironment
    let credentials: CredentialStore
    let integrations: IntegrationStore
    let calls: CallStore
    let entities: CRMEntityStore
    let limiter: any RateLimiter
    let logger = Logger(label: "switchboard.moysklad")
    /// A test-only seam, nil in production: called with a write's kind after MoySklad answered it and before its id is
    /// kept (a crash at the worst moment). See `WriteLedger`.
    public var afterWrite: (@Sendable (String) throws -> Void)? = nil

    public init(env: ConnectorEnvironment, limiter: (any RateLimiter)? = nil) {
        self.env = env
        self.credentials = CredentialStore(db: env.db, vault: env.vault)
        self.integrations = IntegrationStore(db: env.db)
        self.calls = CallStore(db: env.db)
        self.entities = CRMEntityStore(db: env.db)
        self.limiter = limiter ?? RateLimiters.make(for: env.db)
    }

    public func client(tenantId: String, credential: CRMCredential, log: AttemptLog?) -> MoySkladClient {
        MoySkladClient(tenantId: tenantId, credential: credential, credentials: credentials, http: env.outbound, log: log,
                 observe: { env.observe(.moysklad, $0) }, limiter: limiter, ownWebhooks: "\(env.baseURL())/crm/moysklad/")
    }

    public var handlers: [String: any JobHandler] {
        let jobs = MSCallJobs(connector: self)
        return [CallJobKind.ringing(.moysklad): MSRingingHandler(jobs: jobs), CallJobKind.answered(.moysklad): MSAnsweredHandler(jobs: jobs),
                CallJobKind.finished(.moysklad): MSFinishedHandler(jobs: jobs)]
    }

    // MARK: the provider address (MS-2, CORE-12)

    func key(tenantId: String, credentialId: String) -> String { env.vault.mac("\(tenantId).\(credentialId)", purpose: "moysklad-provider") }

    /// The "Webhook URL" the tenant pastes into MoySklad's telephony application as "Адрес провайдера телефонии".
    public func providerURL(_ c: CRMCredential) -> String {
        "\(env.baseURL())/crm/moysklad/\(c.tenantId)/\(c.id)/\(key(tenantId: c.tenantId, credentialId: c.id))"
    }

    /// Where MoySklad's webhook on counterparty changes posts (an owner may have changed: cached managers are stale).
    public func eventsURL(_ c: CRMCredential) -> String { providerURL(c) + "/events" }

    var inbound: [InboundEndpoint] {
        [InboundEndpoint(path: "crm/moysklad/:tenant/:credential/:key") { req, host in try await receive(req, host) },
         InboundEndpoint(path: "crm/moysklad/:tenant/:credential/:key/events") { req, host in try await changed(req, host) },
         InboundEndpoint(path: "crm/moysklad-deals/:tenant/:integration/:key") { req, host in try await ordersChanged(req, host) }]
    }

    /// A webhook delivery: `{"auditContext":…, "events":[{"meta":{"type":"counterparty",…}, "action":"UPDATE"}]}`. MoySklad
    /// signs no webhook (UNCONFIRMED that it cannot), so the key in the address is the proof. Every instance forgets the
    /// personal managers it cached for the active integrations on these credentials; the answer comes at once (MoySklad
    /// waits 1500 ms).
    func changed(_ req: InboundRequest, _ host: HostServices) async throws -> InboundResponse {
        let tenant = req.params["tenant"] ?? "", credentialId = req.params["credential"] ?? ""
        guard Hashing.constantTimeEquals(req.params["key"] ?? "", key(tenantId: tenant, credentialId: credentialId)),
              let credential = try await credentials.get(tenantId: tenant, id: credentialId), credential.crm == .moysklad else {
            return .refused(401, "unknown webhook address")
        }
        let events = ((try? JSONSerialization.jsonObject(with: Data(req.body))) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        let types = Set(events.compactMap { ($0["meta"] as? [String: Any])?["type"] as? String })
        guard types.contains("counterparty") else { return .json(["ok": true, "ignored": types.sorted().joined(separator: ",")]) }
        for i in try await integrations.list(tenantId: tenant) where i.credentialId == credentialId && i.active {
            await host.forgetRouting(i.id)
        }
        return .json(["ok": true])
    }

    /// On save of an active integration that forwards to personal managers: MoySklad's webhook on counterparty changes,
    /// made once (listed first: MoySklad refuses a second one with the same url, entityType and action).
    public func subscribe(_ integration: Integration) async throws {
        guard integration.active, integration.personalManagerRouting, let id = integration.credentialId,
              let credential = try await credentials.get(tenantId: integration.tenantId, id: id) else { return }
        let api = client(tenantId: integration.tenantId, credential: credential, log: nil)
        guard try await api.hasJSONAccess() else { return }
        try await Self.ensureWebhooks(api, url: eventsURL(credential), entityType: "counterparty", actions: ["UPDATE"],
                                      what: .subscribeCounterparties)
    }

    /// MoySklad's webhooks to `url` on `entityType` for each action, made when missing (MoySklad refuses a second one with
    /// the same url, entityType and action).
    static func ensureWebhooks(_ api: MoySkladClient, url: String, entityType: String, actions: [String], what: MSRequest) async throws {
        let hooks = try await api.json(.GET, "/entity/webhook?limit=1000", what: .listWebhooks).rows
        for action in actions where !hooks.contains(where: {
            $0["url"] as? String == url && $0["entityType"] as? String == entityType && $0["action"] as? String == action
        }) {
            _ = try await api.json(.POST, "/entity/webhook", ["url": url, "action": action, "entityType": entityType], what: what)
        }
    }

    /// A click in MoySklad: `{"srcNumber", "destNumber", "uid"}` signed with `Lognex-Content-MD5`. Only a signature made
    /// with the credentials' access key is accepted (`MSClickToCallSignature`); then the PBX calls the employee, then
    /// the client.
    func receive(_ req: InboundRequest, _ host: HostServices) async throws -> InboundResponse {
        let tenant = req.params["tenant"] ?? "", credentialId = req.params["credential"] ?? ""
        guard Hashing.constantTimeEquals(req.params["key"] ?? "", key(tenantId: tenant, credentialId: credentialId)),
              let credential = try await credentials.get(tenantId: tenant, id: credentialId), credential.crm == .moysklad else {
            return .refused(401, "unknown provider address")
        }
        var f = req.fields
        if f.isEmpty, let object = try? JSONSerialization.jsonObject(with: Data(req.body)) as? [String: Any] {
            f = object.compactMapValues { v in (v as? String) ?? (v as? NSNumber).map { "\($0)" } }
        }
        guard let src = f["srcNumber"], !src.isEmpty, let dest = f["destNumber"], !dest.isEmpty else {
            return .refused(400, "the request has no srcNumber or destNumber")
        }
        let uid = f["uid"] ?? ""
        guard let accessKey = try await credentials.secret(tenantId: tenant, id: credentialId)?.token, !accessKey.isEmpty else {
            return .refused(409, "the credentials have no access key to check the signature with")
        }
        let signature = req.headers["lognex-content-md5"] ?? ""
        guard let matched = MSClickToCallSignature.match(signature: signature, accessKey: accessKey, srcNumber: src, destNumber: dest,
                                                         uid: uid, rawBody: req.text) else {
            let tried = MSClickToCallSignature.candidates(accessKey: "", srcNumber: "", destNumber: "", uid: "", rawBody: "").map(\.name)
            let reason = signature.isEmpty
                ? "the click-to-call request carries no Lognex-Content-MD5 signature"
                : "the Lognex-Content-MD5 signature matches none of the ways Switchboard knows MoySklad signs (\(tried.joined(separator: "; "))): check the access key in the credentials"
            logger.warning("MoySklad click-to-call refused", metadata: ["credential": "\(credentialId)", "reason": "\(reason)"])
            return .refused(401, reason)
        }
        logger.info("MoySklad click-to-call signature accepted", metadata: ["credential": "\(credentialId)", "candidate": "\(matched)"])
        let linked = try await integrations.list(tenantId: tenant).filter { $0.credentialId == credentialId && $0.active }
        for integration in linked {
            guard let employee = try await employee(extension: src, integration: integration, credential: credential) else { continue }
            do {
                let pbxCall = try await host.clickToCall(integration, employee.id, dest)
                return .json(["ok": true, "pbxCallId": pbxCall ?? ""])
            } catch {
                logger.warning("MoySklad click-to-call not placed", metadata: ["integration": "\(integration.id)", "error": "\(error)"])
                return .refused(409, "the call was not placed: \(error)")
            }
        }
        return .refused(422, "extension \(src) (\(uid)) is not mapped to an employee of an active MoySklad integration")
    }

    /// The PBX employee who clicked: the mapped employee with this extension in the PBX directory, else the one mapped to
    /// the MoySklad employee the telephony application gives this extension.
    func employee(extension src: String, integration: Integration, credential: CRMCredential) async throws -> Employee? {
        let (_, byUser) = try await IntegrationContext<MSSettings>.mapping(tenantId: integration.tenantId, integrationId: integration.id,
                                                                          db: env.db, vault: env.vault)
        if let direct = byUser.values.first(where: { $0.extension_ == src }) { return direct }
        let api = client(tenantId: integration.tenantId, credential: credential, log: nil)
        let found = try await api.phone(.GET, "/employee?filter=extention=\(FormURLEncoding.escape(src))", what: .findExtension)
        for e in found.object["employees"] as? [[String: Any]] ?? [] where (e["extention"] as? String) == src {
            if let id = MoySkladClient.id(of: e), let employee = byUser[id] { return employee }
        }
        return nil
    }

    // MARK: credentials

    /// CORE-1 "test": "account X, N employees, M with extensions".
    public func check(_ c: CRMCredential) async -> (ok: Bool, message: Phrase) {
        let api = client(tenantId: c.tenantId, credential: c, log: nil)
        do {
            if c.authKind == .password {
                // MS-1: the deals import's own login and password reach the JSON API only.
                let org = try await api.json(.GET, "/entity/organization?limit=1", what: .readAccount).rows.first?["name"] as? String
                try await credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .ok, detail: nil)
                return (true, MSSays.loginWorks(account: org ?? "?").phrase)
            }
            let phone = try await api.phone(.GET, "/employee", what: .testAccessKey)
            let withExtensions = (phone.object["employees"] as? [[String: Any]] ?? []).count
            let message: Phrase
            if try await api.hasJSONAccess() {
                let org = try await api.json(.GET, "/entity/organization?limit=1", what: .readAccount).rows.first?["name"] as? String
                let people = try await api.json(.GET, "/entity/employee?limit=1", what: .countEmployees)
                let total = (people.object["meta"] as? [String: Any])?["size"] as? Int ?? people.rows.count
                message = MSSays.works(account: org ?? "?", employees: total, withExtensions: withExtensions).phrase
            } else {
                message = MSSays.keyWorks(withExtensions: withExtensions).phrase
            }
            try await credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .ok, detail: nil)
            return (true, message)
        } catch {
            let message = CRMFailure.phrase(of: error)
            let stored = try? await credentials.get(tenantId: c.tenantId, id: c.id)
            if stored?.status != "reconnect" {
                try? await credentials.setStatus(tenantId: c.tenantId, id: c.id, status: .failed, detail: message)
            }
            return (false, message)
        }
    }

    /// CORE-3: MoySklad's employees with the extensions the telephony application gives them (Phone API, `extention`),
    /// named from the JSON API when the credentials reach it.
    public func users(_ c: CRMCredential) async throws -> [CRMUserSummary] {
        let api = client(tenantId: c.tenantId, credential: c, log: nil)
        var extensions: [String: String] = [:]
        for e in try await api.phone(.GET, "/employee", what: .listExtensions).object["employees"] as? [[String: Any]] ?? [] {
            if let id = MoySkladClient.id(of: e), let ext = e["extention"] as? String, !ext.isEmpty { extensions[id] = ext }
        }
        guard try await api.hasJSONAccess() else {
            return extensions.sorted { $0.value < $1.value }.map { CRMUserSummary(id: $0.key, name: $0.value, extension_: $0.value) }
        }
        var out: [CRMUserSummary] = []
        var offset = 0
        while true {
            let page = try await api.json(.GET, "/entity/employee?limit=1000&offset=\(offset)", what: .listEmployees)
            for e in page.rows {
                guard let id = e["id"] as? String else { continue }
                let name = (e["fullName"] as? String) ?? (e["name"] as? String) ?? (e["uid"] as? String) ?? id
                out.append(CRMUserSummary(id: id, name: name, email: e["email"] as? String, extension_: extensions[id],
                                          active: (e["archived"] as? Bool) != true))
            }
            let size = (page.object["meta"] as? [String: Any])?["size"] as? Int ?? 0
            offset += 1000
            if page.rows.isEmpty || offset >= size { break }
        }
        return out
    }
}

/// CORE-6: the caller's personal manager is the owner of their counterparty (one JSON API search).
struct MSManagerLookup: ManagerLookup {
    let connector: MSConnector

    func responsible(for phone: PhoneNumber, integration: Integration) async throws -> ResponsibleUser? {
        guard let credentialId = integration.credentialId,
              let credential = try await connector.credentials.get(tenantId: integration.tenantId, id: credentialId) else { return nil }
        let api = connector.client(tenantId: integration.tenantId, credential: credential, log: nil)
        guard try await api.hasJSONAccess(),
              let found = try await MSCallJobs(connector: connector).counterparty(phone, api: api), let owner = found.ownerId else { return nil }
        return ResponsibleUser(crmUserId: owner, contactName: found.name)
    }
}
