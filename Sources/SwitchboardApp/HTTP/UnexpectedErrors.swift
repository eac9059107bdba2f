import Foundation
import Hummingbird
import Logging
import SwitchboardCore
import SwitchboardStorage

/// Answers what no route turned into an answer of its own, so no request ever gets a bare 500 with nothing logged:
/// a storage failure (the pool timed out, the database restarts, the instance is overloaded) is a 503 with
/// Retry-After, since sending the request again later is safe — a transaction that failed wrote nothing; anything
/// else is a 500 with a body. Both are logged with the error, a few lines a minute per route.
struct UnexpectedErrorsMiddleware<Context: RequestContext>: RouterMiddleware {
    let throttle = LogThrottle(burst: 5, window: .seconds(60))

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            let unavailable = StorageFailure.isUnavailable(error)
            let key = (unavailable ? "503 " : "500 ") + request.method.rawValue + " " + request.uri.path.prefix(80)
            if case .log(let suppressed) = throttle.admit(String(key)) {
                var metadata: Logger.Metadata = ["error": "\(error)", "path": "\(UntrustedText.loggable(request.uri.path, limit: 120))"]
                if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
                context.logger.error(unavailable ? "request refused: storage unavailable" : "request failed", metadata: metadata)
            }
            guard unavailable else {
                return jsonResponse(["error": ["message": "Switchboard could not answer this request; it has been logged"]],
                                    status: .internalServerError)
            }
            var response = jsonResponse(["error": ["message": "Switchboard's storage is busy or unavailable; nothing was changed, try again shortly"]],
                                        status: .serviceUnavailable)
            response.headers[.retryAfter] = "1"
            return response
        }
    }
}
