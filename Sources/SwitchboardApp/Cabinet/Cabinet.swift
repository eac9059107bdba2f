import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardStorage

/// Counts failed sign-ins per e-mail and per address in storage, so every instance sees them; five within
/// five minutes lock them out for the rest of the window.
struct SignInLimiter: Sendable {
    let sessions: SessionStore
    let limit = 5
    let window: TimeInterval = 300

    func isLimited(_ keys: [String]) async throws -> Bool {
        try await sessions.failures(keys: keys, since: Date().addingTimeInterval(-window)) >= limit
    }

    func fail(_ keys: [String]) async throws {
        try await sessions.recordFailure(keys: keys, keep: window)
    }

    func clear(_ keys: [String]) async throws {
        try await sessions.clearFailures(keys: keys)
    }
}

/// The tenant's web console: sign-in, integrations, the call journal (with retries), the PBX page.
/// Server-rendered HTML; sessions in HttpOnly SameSite cookies; a CSRF token on every form.
struct Cabinet {
    let sb: Switchboard
    let limiter: SignInLimiter
    var sessions: SessionStore { SessionStore(db: sb.db) }

    static let sessionCookie = "sb_session"
    static let loginCookie = "sb_login"

    func register(on router: Router<AppRequestContext>) {
        router.get("cabinet/login") { req, _ in loginPage(req, error: nil) }
        router.post("cabinet/login") { req, ctx in try await login(req, ctx) }
        router.post("cabinet/logout") { req, _ in
            guard let s = try await session(req) else { return redirect("/cabinet/login") }
            guard let fields = try await checkedForm(req, s.1) else { return forbidden(req) }
            try await sessions.delete(s.0)
            var r = redirect("/cabinet/login")
            r.headers[.setCookie] = cookie(Self.sessionCookie, "", maxAge: 0)
            return r
        }
        router.get("cabinet") { req, _ in try await authed(req) { try await integrationsPage(req, $0) } }
        router.get("cabinet/calls") { req, _ in try await authed(req) { try await callsPage(req, $0) } }
        router.get("cabinet/calls/:id") { req, ctx in try await authed(req) { try await callPage(req, ctx, $0) } }
        router.post("cabinet/jobs/:id/retry") { req, ctx in
            try await authed(req) { s in
                guard let fields = try await checkedForm(req, s) else { return forbidden(req) }
                guard let id = Int64(try ctx.param("id")), let job = try await sb.queue.get(tenantId: s.tenantId, id: id) else {
                    return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
                }
                _ = try await sb.queue.replay(tenantId: s.tenantId, id: id)
                return redirect(job.callId.map { "/cabinet/calls/\($0)" } ?? "/cabinet/calls")
            }
        }
        registerPBX(on: router)
        router.get("cabinet/integrations/:id") { req, ctx in try await authed(req) { try await settingsPage(req, ctx, $0) } }
        router.post("cabinet/integrations/:id") { req, ctx in try await authed(req) { try await saveSettings(req, ctx, $0) } }
        registerCredentials(on: router)
        router.post("cabinet/integrations") { req, _ in
            try await authed(req) { s in
                guard let f = try await checkedForm(req, s) else { return forbidden(req) }
                // Off by default (CORE-2): the tenant sets the rules first, then switches it on.
                let credential = try await sb.credentials.list(tenantId: s.tenantId, crm: .amocrm).first
                let pbx = try await sb.pbx.list(tenantId: s.tenantId).first
                let i = try await sb.integrations.create(tenantId: s.tenantId, crm: .amocrm, name: "amoCRM", credentialId: credential?.id,
                                                         pbxConnectionId: pbx?.id, active: false)
                return redirect("/cabinet/integrations/\(i.id)")
            }
        }
    }

    // MARK: sessions

    func lang(_ req: Request, _ s: SessionStore.Session? = nil) -> Lang {
        if let q = req.uri.queryParameters["lang"], let l = Lang(rawValue: String(q)) { return l }
        if let c = req.cookie("sb_lang"), let l = Lang(rawValue: c) { return l }
        return Lang(rawValue: s?.locale ?? "ru") ?? .ru
    }

    var secureCookies: Bool { sb.baseURL.hasPrefix("https") }

    func cookie(_ name: String, _ value: String, maxAge: Int? = nil, path: String = "/cabinet") -> String {
        var c = "\(name)=\(value); Path=\(path); HttpOnly; SameSite=Lax"
        if let maxAge { c += "; Max-Age=\(maxAge)" }
        if secureCookies { c += "; Secure" }
        return c
    }

    /// The posted form, or nil when its CSRF token is not this session's (every cabinet form carries one).
    func checkedForm(_ req: Request, _ s: SessionStore.Session) async throws -> [String: String]? {
        let fields = try await formFields(req)
        return Hashing.constantTimeEquals(fields["csrf"] ?? "", s.csrf) ? fields : nil
    }

    func redirect(_ to: String) -> Response { Response(status: .seeOther, headers: [.location: to]) }

    func forbidden(_ req: Request) -> Response {
        page(lang(req), title: "403", nav: false, body: "<h1>403</h1><p>CSRF</p>", status: .forbidden)
    }

    func session(_ req: Request) async throws -> (String, SessionStore.Session)? {
        guard let id = req.cookie(Self.sessionCookie), !id.isEmpty, let s = try await sessions.get(id) else { return nil }
        return (id, s)
    }

    func authed(_ req: Request, _ body: (SessionStore.Session) async throws -> Response) async throws -> Response {
        guard let (_, s) = try await session(req) else { return redirect("/cabinet/login") }
        var response = try await body(s)
        if let q = req.uri.queryParameters["lang"], Lang(rawValue: String(q)) != nil {
            response.headers[.setCookie] = cookie("sb_lang", String(q), path: "/")
        }
        return response
    }

    // MARK: sign-in

    func loginPage(_ req: Request, error: String?, status: HTTPResponse.Status = .ok, email: String = "") -> Response {
        let l = lang(req)
        let nonce = Hashing.randomToken(prefix: "", bytes: 18)
        var r = page(l, title: l.t("signin"), nav: false, body: """
            <div class="login"><h1>Switchboard</h1>
            \(error.map { "<p class=\"error\" role=\"alert\">\(esc($0))</p>" } ?? "")
            <form method="post" action="/cabinet/login">
              <input type="hidden" name="csrf" value="\(nonce)">
              <label for="email">\(l.t("email"))<input id="email" name="email" type="email" autocomplete="username" required value="\(esc(email))"></label>
              <label for="password">\(l.t("password"))<input id="password" name="password" type="password" autocomplete="current-password" required></label>
              <button type="submit">\(l.t("signin.button"))</button>
            </form>
            <p><a href="?lang=\(l == .ru ? "en" : "ru")">\(l.t("lang.other"))</a></p></div>
            """, status: status)
        // Sign-in CSRF: the form's token must match this cookie (double submit).
        r.headers[.setCookie] = cookie(Self.loginCookie, nonce)
        return r
    }

    func login(_ req: Request, _ ctx: AppRequestContext) async throws -> Response {
        let fields = try await formFields(req)
        let l = lang(req)
        guard let nonce = req.cookie(Self.loginCookie), Hashing.constantTimeEquals(fields["csrf"] ?? "", nonce) else {
            return forbidden(req)
        }
        let email = (fields["email"] ?? "").lowercased()
        let address = req.headers[.init("X-Forwarded-For")!] ?? "direct"
        let keys = ["email:" + email, "ip:" + address]
        if try await limiter.isLimited(keys) {
            return loginPage(req, error: l.t("signin.limited"), status: .tooManyRequests, email: email)
        }
        guard let (user, hash) = try await sb.tenants.userForLogin(email: email),
              Passwords.verify(fields["password"] ?? "", hash: hash) else {
            try await limiter.fail(keys)
            ctx.logger.notice("cabinet sign-in failed", metadata: ["email": "\(email)"])
            return loginPage(req, error: l.t("signin.failed"), status: .unauthorized, email: email)
        }
        try await limiter.clear(keys)
        let (id, _) = try await sessions.create(user: user)
        var r = redirect("/cabinet")
        r.headers[.setCookie] = cookie(Self.sessionCookie, id)
        return r
    }
}
