import Foundation
import Hummingbird
import HummingbirdBcrypt
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// The JSON management API under /api/v1: everything the cabinet does. Every query is scoped by the
/// tenant the presented token belongs to.
struct ManagementAPI {
    let sb: Switchboard

    func tenantId(_ request: Request) async throws -> String {
        guard let token = request.bearerToken else {
            throw APIError(.unauthorized, "an API token is required: Authorization: Bearer <token>")
        }
        guard let tenantId = try await sb.tenants.tenantForToken(token) else {
            throw APIError(.unauthorized, "the API token is not valid")
        }
        return tenantId
    }

    func register(on router: Router<AppRequestContext>) {
        let api = router.group("api/v1")
        api.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        api.get("tenant") { req, _ in
            let t = try await tenantId(req)
            guard let tenant = try await sb.tenants.get(t) else { throw APIError(.notFound, "tenant not found") }
            return jsonResponse(tenant)
        }
        registerTokens(api)
        registerUsers(api)
        registerPBX(api)
        registerCredentials(api)
        registerIntegrations(api)
        registerJobs(api)
        registerCalls(api)
        SitesAPI(sb: sb).register(api)
        registerAnalytics(api)
    }

    // MARK: tokens and users

    struct NewToken: Decodable { var name: String }
    struct NewUser: Decodable { var email: String; var password: String; var locale: String? }

    func registerTokens(_ api: RouterGroup<AppRequestContext>) {
        api.get("tokens") { req, _ in jsonResponse(try await sb.tenants.tokens(tenantId: try await tenantId(req))) }
        api.post("tokens") { req, _ in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(NewToken.self)
            let (token, secret) = try await sb.tenants.createToken(tenantId: t, name: body.name)
            struct Created: Encodable { var token: TenantStore.APIToken; var secret: String }
            return jsonResponse(Created(token: token, secret: secret), status: .created)
        }
        api.delete("tokens/:id") { req, ctx in
            guard try await sb.tenants.deleteToken(tenantId: try await tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "token not found")
            }
            return Response(status: .noContent)
        }
    }

    func registerUsers(_ api: RouterGroup<AppRequestContext>) {
        api.get("users") { req, _ in jsonResponse(try await sb.tenants.users(tenantId: try await tenantId(req))) }
        api.post("users") { req, _ in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(NewUser.self)
            guard body.email.contains("@") else { throw APIError(.unprocessableContent, "e-mail is not valid", field: "email") }
            guard body.password.count >= 8 else {
                throw APIError(.unprocessableContent, "the password needs at least 8 characters", field: "password")
            }
            let user = try await mapStoreError {
                try await sb.tenants.addUser(tenantId: t, email: body.email, passwordHash: Passwords.hash(body.password),
                                             locale: body.locale ?? "ru")
            }
            return jsonResponse(user, status: .created)
        }
    }

    // MARK: PBX connections and employees

    struct NewPBX: Decodable {
        var name: String
        var `protocol`: PBXProtocol
        var apiURL: String?
        var apiKey: String?
        var apiFlavor: String?
        var routingDeadlineMs: Int?
        var region: String?
    }

    struct PBXPatch: Decodable {
        var name: String?
        var apiURL: String?
        var apiKey: String?
        var apiFlavor: String?
        var routingDeadlineMs: Int?
        var region: String?
    }

    /// What a tenant pastes into the PBX.
    struct PBXSetup: Encodable {
        var connection: PBXConnection
        var webhookURL: String
        var secret: String
    }

    func setup(_ c: PBXConnection, secret: String) -> PBXSetup {
        let path = PBXRegistry.live.webhookPath(for: c)
        return PBXSetup(connection: c, webhookURL: "\(sb.baseURL)/\(path)", secret: secret)
    }

    func validate(deadline: Int?, flavor: String?) throws {
        if let deadline, !PBXConnection.routingDeadlineRange.contains(deadline) {
            throw APIError(.unprocessableContent, "routing deadline must be between 100 and 10000 ms", field: "routingDeadlineMs")
        }
        if let flavor, !PBXConnection.apiFlavors.contains(flavor) {
            throw APIError(.unprocessableContent, "apiFlavor is legacy or v1", field: "apiFlavor")
        }
    }

    /// The PBX's API address, when given, must pass the outbound policy (its API key is sent there).
    func validate(apiURL: String?) throws {
        guard let apiURL, !apiURL.isEmpty else { return }
        do { _ = try sb.config.outboundPolicy.check(apiURL) } catch {
            throw APIError(.unprocessableContent, error.description, field: "apiURL")
        }
    }

    func registerPBX(_ api: RouterGroup<AppRequestContext>) {
        api.get("pbx-connections") { req, _ in jsonResponse(try await sb.pbx.list(tenantId: try await tenantId(req))) }
        api.post("pbx-connections") { req, _ in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(NewPBX.self)
            guard PBXRegistry.live.adapter(for: body.protocol) != nil else {
                throw APIError(.badRequest, "field protocol is invalid: Cannot initialize PBXProtocol from invalid String value "
                               + body.protocol.rawValue, field: "protocol")
            }
            guard !body.name.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw APIError(.unprocessableContent, "name is required", field: "name")
            }
            try validate(deadline: body.routingDeadlineMs, flavor: body.apiFlavor)
            try validate(apiURL: body.apiURL)
            let (c, secret) = try await sb.pbx.create(
                tenantId: t, name: body.name, protocol: body.protocol, apiURL: body.apiURL, apiKey: body.apiKey,
                apiFlavor: body.apiFlavor ?? "legacy", routingDeadlineMs: body.routingDeadlineMs ?? 1500,
                region: body.region ?? "RU")
            return jsonResponse(setup(c, secret: secret), status: .created)
        }
        api.get("pbx-connections/:id") { req, ctx in
            guard let c = try await sb.pbx.get(tenantId: try await tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(c)
        }
        api.get("pbx-connections/:id/setup") { req, ctx in
            guard let c = try await sb.pbx.get(tenantId: try await tenantId(req), id: try ctx.param("id")),
                  let secret = try await sb.pbx.inboundSecret(connectionId: c.id) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            return jsonResponse(setup(c, secret: secret))
        }
        api.patch("pbx-connections/:id") { req, ctx in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(PBXPatch.self)
            try validate(deadline: body.routingDeadlineMs, flavor: body.apiFlavor)
            try validate(apiURL: body.apiURL)
            guard let current = try await sb.pbx.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            if SecretPinning.apiKeyMissing(current, newURL: body.apiURL, apiKey: body.apiKey) {
                throw APIError(.unprocessableContent, SecretPinning.message(field: "apiKey"), field: "apiKey")
            }
            guard let c = try await sb.pbx.update(tenantId: t, id: try ctx.param("id"), name: body.name, apiURL: body.apiURL,
                                                  apiKey: body.apiKey, apiFlavor: body.apiFlavor,
                                                  routingDeadlineMs: body.routingDeadlineMs, region: body.region) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            sb.connections.invalidate(c.id)
            sb.routing.invalidateDirectory(connectionId: c.id)
            return jsonResponse(c)
        }
        api.delete("pbx-connections/:id") { req, ctx in
            guard try await sb.pbx.delete(tenantId: try await tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "PBX connection not found")
            }
            sb.connections.invalidate(try ctx.param("id"))
            return Response(status: .noContent)
        }
        struct NewEmployee: Decodable {
            var login: String
            var `extension`: String?
            var name: String?
            var email: String?
            var directNumber: String?
            var hasSIP: Bool?
        }
        api.get("pbx-connections/:id/employees") { req, ctx in
            let t = try await tenantId(req)
            let id = try ctx.param("id")
            guard try await sb.pbx.get(tenantId: t, id: id) != nil else { throw APIError(.notFound, "PBX connection not found") }
            return jsonResponse(try await sb.pbx.employees(tenantId: t, connectionId: id))
        }
        api.post("pbx-connections/:id/employees") { req, ctx in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(NewEmployee.self)
            guard !body.login.isEmpty else { throw APIError(.unprocessableContent, "login is required", field: "login") }
            let e = try await mapStoreError {
                try await sb.pbx.upsertEmployee(tenantId: t, connectionId: try ctx.param("id"), login: body.login,
                                                extension_: body.extension, name: body.name ?? body.login, email: body.email,
                                                directNumber: body.directNumber, hasSIP: body.hasSIP ?? true)
            }
            sb.routing.invalidateDirectory(connectionId: e.pbxConnectionId)
            return jsonResponse(e, status: .created)
        }
        api.delete("employees/:id") { req, ctx in
            guard try await sb.pbx.deleteEmployee(tenantId: try await tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "employee not found")
            }
            return Response(status: .noContent)
        }
    }

    // MARK: CRM credentials (CORE-1)

    struct NewCredential: Decodable {
        var crm: CRMKind
        var name: String?
        var baseURL: String
        var authKind: CRMAuthKind
        var login: String?
        var password: String?
        var token: String?
        /// An OAuth application of the tenant's own (a local application's code and key); kept as login and password.
        var clientId: String?
        var clientSecret: String?
    }

    struct CredentialPatch: Decodable {
        var name: String?
        var baseURL: String?
        var login: String?
        var password: String?
        var token: String?
        var clientId: String?
        var clientSecret: String?
    }

    func normalized(_ url: String) throws -> String {
        do { return try AccountURL.normalize(url, policy: sb.config.outboundPolicy) } catch {
            throw APIError(.unprocessableContent, error.description, field: "baseURL")
        }
    }

    func registerCredentials(_ api: RouterGroup<AppRequestContext>) {
        api.get("credentials") { req, _ in
            var crm: CRMKind?
            if let v = try req.query("crm") {
                crm = CRMKind(v)
                try known(CRMKind(v))
            }
            return jsonResponse(try await sb.credentials.list(tenantId: try await tenantId(req), crm: crm))
        }
        api.post("credentials") { req, _ in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(NewCredential.self)
            let url = try normalized(body.baseURL)
            let secret = CRMSecret(login: body.clientId ?? body.login, password: body.clientSecret ?? body.password, token: body.token)
            switch body.authKind {
            case .password where (body.login ?? "").isEmpty || (body.password ?? "").isEmpty:
                throw APIError(.unprocessableContent, "login and password are required", field: "login")
            case .token where (body.token ?? "").isEmpty:
                throw APIError(.unprocessableContent, "the token is required", field: "token")
            default: break
            }
            try known(body.crm)
            let c = try await sb.credentials.create(tenantId: t, crm: body.crm, name: body.name ?? "", baseURL: url,
                                                    authKind: body.authKind, secret: secret)
            return jsonResponse(c, status: .created)
        }
        api.get("credentials/:id") { req, ctx in
            guard let c = try await sb.credentials.get(tenantId: try await tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "credentials not found")
            }
            return jsonResponse(c)
        }
        api.patch("credentials/:id") { req, ctx in
            let t = try await tenantId(req)
            let id = try ctx.param("id")
            var body = try await req.decodeJSON(CredentialPatch.self)
            body.login = body.clientId ?? body.login
            body.password = body.clientSecret ?? body.password
            let url = try body.baseURL.map(normalized)
            guard let current = try await sb.credentials.get(tenantId: t, id: id) else { throw APIError(.notFound, "credentials not found") }
            let moving = url != nil && url != current.baseURL
            var secret: CRMSecret?
            if body.login != nil || body.password != nil || body.token != nil {
                // A secret moving to a new address is built from this request alone, never from the stored one.
                var s = moving ? CRMSecret() : try await sb.credentials.secret(tenantId: t, id: id) ?? CRMSecret()
                if let v = body.login { s.login = v }
                if let v = body.password { s.password = v }
                if let v = body.token { s.token = v }
                secret = s
            }
            if let field = SecretPinning.missingField(current, newURL: url, secret: secret) {
                throw APIError(.unprocessableContent, SecretPinning.message(field: field), field: field)
            }
            guard let c = try await sb.credentials.update(tenantId: t, id: id, name: body.name, baseURL: url, secret: secret) else {
                throw APIError(.notFound, "credentials not found")
            }
            return jsonResponse(c)
        }
        api.delete("credentials/:id") { req, ctx in
            guard try await sb.credentials.delete(tenantId: try await tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "credentials not found")
            }
            return Response(status: .noContent)
        }
    }

    // MARK: integrations and mappings

    struct NewIntegration: Decodable {
        var crm: CRMKind
        var name: String?
        var credentialId: String?
        var pbxConnectionId: String?
        var active: Bool?
        var settings: JSONValue?
    }

    struct IntegrationPatch: Decodable {
        var name: String?
        var credentialId: String?
        var pbxConnectionId: String?
        var active: Bool?
        var settings: JSONValue?
    }

    func registerIntegrations(_ api: RouterGroup<AppRequestContext>) {
        api.get("integrations") { req, _ in jsonResponse(try await sb.integrations.list(tenantId: try await tenantId(req))) }
        api.post("integrations") { req, _ in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(NewIntegration.self)
            let settings = body.settings ?? .object([:])
            guard settings.isObject else { throw APIError(.unprocessableContent, "settings must be an object", field: "settings") }
            try known(body.crm)
            try validateSettings(crm: body.crm, settings: settings, given: body.settings != nil, active: body.active ?? false)
            let i = try await mapStoreError {
                try await sb.integrations.create(tenantId: t, crm: body.crm, name: body.name ?? body.crm.rawValue,
                                                 credentialId: body.credentialId, pbxConnectionId: body.pbxConnectionId,
                                                 active: body.active ?? false, settings: settings)
            }
            await sb.integrationSaved(i)
            return jsonResponse(i, status: .created)
        }
        api.get("integrations/:id") { req, ctx in
            guard let i = try await sb.integrations.get(tenantId: try await tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            return jsonResponse(i)
        }
        api.patch("integrations/:id") { req, ctx in
            let t = try await tenantId(req)
            let body = try await req.decodeJSON(IntegrationPatch.self)
            guard var i = try await sb.integrations.get(tenantId: t, id: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            if let v = body.name { i.name = v }
            if let v = body.credentialId { i.credentialId = v.isEmpty ? nil : v }
            if let v = body.pbxConnectionId { i.pbxConnectionId = v.isEmpty ? nil : v }
            if let v = body.active { i.active = v }
            if let v = body.settings {
                guard v.isObject else { throw APIError(.unprocessableContent, "settings must be an object", field: "settings") }
                i.settings = v
            }
            try validateSettings(crm: i.crm, settings: i.settings, given: body.settings != nil, active: i.active)
            let updated = try await mapStoreError { try await sb.integrations.update(i) }
            guard let updated else { throw APIError(.notFound, "integration not found") }
            await sb.integrationSaved(updated)
            return jsonResponse(updated)
        }
        api.delete("integrations/:id") { req, ctx in
            guard try await sb.integrations.delete(tenantId: try await tenantId(req), id: try ctx.param("id")) else {
                throw APIError(.notFound, "integration not found")
            }
            return Response(status: .noContent)
        }
        api.get("integrations/:id/mappings") { req, ctx in
            let t = try await tenantId(req)
            let id = try ctx.param("id")
            guard try await sb.integrations.get(tenantId: t, id: id) != nil else { throw APIError(.notFound, "integration not found") }
            return jsonResponse(try await sb.integrations.mappings(tenantId: t, integrationId: id))
        }
        api.put("integrations/:id/mappings") { req, ctx in
            let t = try await tenantId(req)
            let id = try ctx.param("id")
            let body = try await req.decodeJSON([EmployeeMapping].self)
            try await mapStoreError { try await sb.integrations.replaceMappings(tenantId: t, integrationId: id, body) }
            sb.routing.invalidateDirectory()
            return jsonResponse(try await sb.integrations.mappings(tenantId: t, integrationId: id))
        }
    }

    // MARK: delivery jobs (dead letters and replay)

    func registerJobs(_ api: RouterGroup<AppRequestContext>) {
        api.get("jobs") { req, _ in
            let t = try await tenantId(req)
            var state: JobState?
            if let s = try req.query("state") {
                guard let parsed = JobState(rawValue: s) else {
                    throw APIError(.badRequest, "state is one of queued, running, done, dead", field: "state")
                }
                state = parsed
            }
            return jsonResponse(try await sb.queue.list(tenantId: t, state: state, callId: try req.query("callId"),
                                                        limit: try req.limit()))
        }
        api.get("jobs/:id") { req, ctx in
            let t = try await tenantId(req)
            guard let id = Int64(try ctx.param("id")), let job = try await sb.queue.get(tenantId: t, id: id) else {
                throw APIError(.notFound, "job not found")
            }
            struct Detail: Encodable { var job: Job; var attempts: [JobAttempt] }
            return jsonResponse(Detail(job: job, attempts: try await sb.queue.attempts(tenantId: t, jobId: id)))
        }
        api.post("jobs/:id/replay") { req, ctx in
            let t = try await tenantId(req)
            guard let id = Int64(try ctx.param("id")), try await sb.queue.get(tenantId: t, id: id) != nil else {
                throw APIError(.notFound, "job not found")
            }
            guard try await sb.queue.replay(tenantId: t, id: id) else {
                throw APIError(.conflict, "only dead jobs can be replayed")
            }
            return jsonResponse(try await sb.queue.get(tenantId: t, id: id))
        }
    }
}

extension ManagementAPI {
    /// A CRM the registry serves or announces; anything else is refused.
    func known(_ crm: CRMKind) throws {
        let kinds = sb.connectors.kinds + sb.connectors.planned.map(\.kind)
        guard kinds.contains(crm) else {
            throw APIError(.badRequest, "crm is one of \(kinds.map(\.rawValue).joined(separator: ", "))", field: "crm")
        }
    }

    /// Settings are checked when they are written, and before an integration is switched on, by the CRM's connector.
    func validateSettings(crm: CRMKind, settings: JSONValue, given: Bool, active: Bool) throws {
        guard given || active, let connector = sb.connectors[crm] else { return }
        let problems = connector.settingsProblems(settings)
        if let first = problems.first { throw SettingsError(problems: problems, first: first) }
    }
}

/// Every settings problem at once, each with its field, so a form can mark them all.
struct SettingsError: HTTPResponseError {
    let problems: [SettingsProblem]
    let first: SettingsProblem
    var status: HTTPResponse.Status { .unprocessableContent }

    struct Body: Encodable {
        struct Err: Encodable { var message: String; var field: String; var problems: [Item] }
        struct Item: Encodable { var field: String; var message: String }
        var error: Err
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse(Body(error: .init(message: first.description, field: Self.path(first.field),
                                              problems: problems.map { .init(field: Self.path($0.field), message: $0.message) })),
                            status: status)
    }

    /// A problem's field as a path in the request: the settings document itself, or a field inside it.
    static func path(_ field: String) -> String { field.isEmpty ? "settings" : "settings." + field }
}

/// Cabinet passwords: bcrypt.
public enum Passwords {
    public static func hash(_ password: String) -> String { Bcrypt.hash(password, cost: 11) }
    public static func verify(_ password: String, hash: String) -> Bool { Bcrypt.verify(password, hash: hash) }
    /// What a sign-in with an unknown e-mail is checked against: a hash of the same cost, of a password nobody knows.
    static let unknownAccountHash = hash(Hashing.randomToken(prefix: ""))
}
