import Foundation
import Hummingbird
import SwitchboardStorage

/// What the bearer token of a management API request resolved to.
enum TenantAuth: Sendable {
    /// No `TenantAuthMiddleware` saw the request.
    case notChecked
    case noToken
    case unknownToken
    case tenant(String)
    /// Reading the token failed (storage); the route that needs the tenant answers with that failure.
    case failed(any Error)
}

/// The `/api/v1` groups' authentication: resolves the bearer token to its tenant once per request and puts the answer in
/// the context. A route that needs the tenant asks `context.tenant()`, which refuses with 401 when there is none, at
/// the point the route asks (so a public route such as the OpenAPI document needs no token, and a route's own checks
/// that come first still answer first).
struct TenantAuthMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let tenants: TenantStore

    func handle(_ request: Request, context: AppRequestContext,
                next: (Request, AppRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        if let token = request.bearerToken {
            do {
                context.tenantAuth = try await tenants.tenantForToken(token).map { .tenant($0) } ?? .unknownToken
            } catch {
                context.tenantAuth = .failed(error)
            }
        } else {
            context.tenantAuth = .noToken
        }
        return try await next(request, context)
    }
}

extension AppRequestContext {
    /// The tenant the request's API token belongs to, or the API's 401.
    func tenant() throws -> String {
        switch tenantAuth {
        case .tenant(let id): return id
        case .noToken, .notChecked: throw APIError(.unauthorized, "an API token is required: Authorization: Bearer <token>")
        case .unknownToken: throw APIError(.unauthorized, "the API token is not valid")
        case .failed(let error): throw error
        }
    }
}

extension Router<AppRequestContext> {
    /// The management API's `/api/v1` group behind `TenantAuthMiddleware`.
    func managementAPI(_ tenants: TenantStore) -> RouterGroup<AppRequestContext> {
        group("api/v1").add(middleware: TenantAuthMiddleware(tenants: tenants))
    }
}

/// A service's refusal as the API's answer: the same `{"error": {"message", "field"}}` body as `APIError`.
extension ServiceError: HTTPResponseError {
    var status: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .invalid: .unprocessableContent
        case .conflict: .conflict
        case .upstream(_, let retryable): retryable ? .badGateway : .unprocessableContent
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try APIError(status, message, field: field).response(from: request, context: context)
    }
}
