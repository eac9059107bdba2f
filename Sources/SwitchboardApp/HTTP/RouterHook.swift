import Hummingbird

/// Middleware put in front of every route of every router an instance builds, outside all others. The test suite
/// sets it once, to check each exchange against the OpenAPI document (docs/decisions/0007-api-contract.md);
/// nothing sets it in a running Switchboard.
package enum RouterHook {
    package static let middleware = LockedValue<(any MiddlewareProtocol<Request, Response, AppRequestContext>)?>(nil)
}
