import Foundation
import Hummingbird
import HummingbirdBcrypt
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// The JSON management API under /api/v1: everything the cabinet does. Every query is scoped by the
/// tenant the presented token belongs to (`TenantAuthMiddleware`). This is the composition of its controllers: each
/// gets the services and stores it uses, not the composition root.
struct ManagementAPI {
    let sb: Switchboard

    func register(on router: Router<AppRequestContext>) {
        let api = router.managementAPI(sb.tenants)
        api.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        TenantController(tenants: sb.tenants).register(api)
        PBXController(connections: ConnectionService(sb: sb)).register(api)
        CredentialsController(credentials: CredentialService(sb: sb)).register(api)
        IntegrationsController(integrations: IntegrationService(sb: sb), mappings: MappingService(sb: sb)).register(api)
        JobsController(journal: JournalService(sb: sb)).register(api)
        CallsController(calls: sb.calls, queue: sb.queue, pbx: sb.pbx, clickToCall: ClickToCallService(sb: sb)).register(api)
        SitesAPI(sites: SiteService(sb: sb), texts: TextStore(db: sb.db, queue: sb.queue)).register(api)
        ChatsAPI(service: TextService(sb: sb)).register(api)
        AnalyticsController(analytics: CallAnalyticsStore(db: sb.db)).register(api)
    }
}

/// `/api/v1/tenant`, its API tokens and its cabinet users.
struct TenantController {
    let tenants: TenantStore

    func register(_ api: RouterGroup<AppRequestContext>) {
        api.get("tenant") { req, ctx in
            let t = try ctx.tenant()
            guard let tenant = try await tenants.get(t) else { throw APIError(.notFound, "tenant not found") }
            return jsonResponse(tenant)
        }
        registerTokens(api)
        registerUsers(api)
    }

    // MARK: tokens and users

    struct NewToken: Decodable { var name: String }
    struct NewUser: Decodable { var email: String; var password: String; var locale: String? }

    func registerTokens(_ api: RouterGroup<AppRequestContext>) {
        api.get("tokens") { req, ctx in jsonResponse(try await tenants.tokens(tenantId: try ctx.tenant())) }
        api.post("tokens") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(NewToken.self)
            let (token, secret) = try await tenants.createToken(tenantId: t, name: body.name)
            struct Created: Encodable { var token: TenantStore.APIToken; var secret: String }
            return jsonResponse(Created(token: token, secret: secret), status: .created)
        }
        api.delete("tokens/:id") { req, ctx in
            guard try await tenants.deleteToken(tenantId: try ctx.tenant(), id: try ctx.param("id")) else {
                throw APIError(.notFound, "token not found")
            }
            return Response(status: .noContent)
        }
    }

    func registerUsers(_ api: RouterGroup<AppRequestContext>) {
        api.get("users") { req, ctx in jsonResponse(try await tenants.users(tenantId: try ctx.tenant())) }
        api.post("users") { req, ctx in
            let t = try ctx.tenant()
            let body = try await req.decodeJSON(NewUser.self)
            guard body.email.contains("@") else { throw APIError(.unprocessableContent, "e-mail is not valid", field: "email") }
            guard body.password.count >= 8 else {
                throw APIError(.unprocessableContent, "the password needs at least 8 characters", field: "password")
            }
            let user = try await mapStoreError {
                try await tenants.addUser(tenantId: t, email: body.email, passwordHash: Passwords.hash(body.password),
                                             locale: body.locale ?? "ru")
            }
            return jsonResponse(user, status: .created)
        }
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
