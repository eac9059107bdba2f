import Foundation
import Hummingbird
import NIOCore
import SwitchboardCore
import SwitchboardStorage

/// Limits sign-in attempts per e-mail and, separately, per client address, counted in storage so every instance
/// sees them. An attempt is counted before its password is checked (atomically: a wave of concurrent guesses gets
/// at most the limit checked, the rest are refused), and a successful sign-in takes its own count back. Within five
/// minutes an e-mail gets five attempts; an address (an IPv6 client's /64) gets twenty, since colleagues behind one
/// NAT share it: guesses at made-up e-mails lock out neither other people's e-mails nor other addresses.
struct SignInLimiter: Sendable {
    let sessions: SessionStore
    let proxies: TrustedProxies
    var perEmail = 5
    var perAddress = 20
    var window: TimeInterval = 300

    struct Attempt {
        let email: String
        let address: String
        var at = Date()

        var emailKey: String { "email:" + email }
        var addressKey: String {
            guard let ip = IPAddress(address), ip.bytes.count == 16 else { return "ip:" + address }
            return "ip:" + (IPAddress(bytes: Array(ip.bytes.prefix(8)) + Array(repeating: 0, count: 8))?.description ?? address) + "/64"
        }
    }

    /// Counts the attempt, or returns nil when the e-mail or the address is at its limit.
    func admit(email: String, address: String) async throws -> Attempt? {
        var attempt = Attempt(email: email, address: address)
        guard let at = try await sessions.admitAttempt([(attempt.emailKey, perEmail), (attempt.addressKey, perAddress)],
                                                       window: window) else { return nil }
        attempt.at = at
        return attempt
    }

    func succeeded(_ attempt: Attempt) async throws {
        try await sessions.settleAttempt(at: attempt.at, clear: [attempt.emailKey], uncount: [attempt.addressKey])
    }
}

/// How the cabinet checks a password against a stored hash (tests count the checks through it).
struct PasswordCheck: Sendable {
    var verify: @Sendable (_ password: String, _ hash: String) -> Bool = { Passwords.verify($0, hash: $1) }
}

/// The tenant's web console: sign-in, integrations, the call journal (with retries), the PBX page.
/// Server-rendered HTML; sessions in HttpOnly SameSite cookies; a CSRF token on every form.
struct Cabinet {
    let sb: Switchboard
    let limiter: SignInLimiter
    var passwords = PasswordCheck()
    var sessions: SessionStore { SessionStore(db: sb.db) }

    static let sessionCookie = "sb_session"
    static let loginCookie = "sb_login"

    func register(on router: Router<AppRequestContext>) {
        router.get("cabinet/login") { req, _ in loginPage(req, error: nil) }
        router.post("cabinet/login") { req, ctx in try await login(req, ctx) }
        router.post("cabinet/logout") { req, _ in
            guard let s = try await session(req) else { return redirect("/cabinet/login") }
            guard try await checkedForm(req, s.1) != nil else { return forbidden(req) }
            try await sessions.delete(s.0)
            var r = redirect("/cabinet/login")
            r.headers[.setCookie] = cookie(Self.sessionCookie, "", maxAge: 0)
            return r
        }
        router.get("cabinet") { req, _ in try await authed(req) { try await integrationsPage(req, $0) } }
        router.get("cabinet/calls") { req, _ in try await authed(req) { try await callsPage(req, $0) } }
        router.get("cabinet/calls/:id") { req, ctx in try await authed(req) { try await callPage(req, ctx, $0) } }
        router.get("cabinet/dashboard") { req, _ in try await authed(req) { try await dashboardPage(req, $0) } }
        router.post("cabinet/jobs/:id/retry") { req, ctx in
            try await authed(req) { s in
                guard try await checkedForm(req, s) != nil else { return forbidden(req) }
                let journal = JournalService(sb: sb)
                guard let id = Int64(try ctx.param("id")), let job = try await journal.job(tenantId: s.tenantId, id: id)?.job else {
                    return page(lang(req, s), title: "404", body: "<h1>404</h1>", status: .notFound, csrf: s.csrf, email: s.email)
                }
                do { _ = try await journal.replay(tenantId: s.tenantId, id: id) } catch ServiceError.conflict {
                    // A job that is not dead is left as it is.
                }
                return redirect(job.callId.map { "/cabinet/calls/\($0)" } ?? "/cabinet/calls")
            }
        }
        registerPBX(on: router)
        router.get("cabinet/integrations/:id") { req, ctx in try await authed(req) { try await integrationPage(req, ctx, $0, saving: false) } }
        router.post("cabinet/integrations/:id") { req, ctx in try await authed(req) { try await integrationPage(req, ctx, $0, saving: true) } }
        registerCredentials(on: router)
        registerDeals(on: router)
        registerEmployeeSync(on: router)
        registerSites(on: router)
        registerTextRules(on: router)
        registerWorkspaceLink(on: router)
        router.post("cabinet/integrations") { req, _ in
            try await authed(req) { s in
                guard let form = try await checkedForm(req, s) else { return forbidden(req) }
                // The CRM chosen on its card; only a CRM this build serves can be connected.
                guard let connector = sb.connectors[CRMKind(form["crm"] ?? "")] else { return forbidden(req) }
                // Off by default (CORE-2): the tenant sets the rules first, then switches it on.
                let i = try await integrationService.connect(tenantId: s.tenantId, connector)
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
        guard let attempt = try await limiter.admit(email: email, address: limiter.proxies.client(of: req, peer: ctx.remoteAddress)) else {
            return loginPage(req, error: l.t("signin.limited"), status: .tooManyRequests, email: email)
        }
        let account = try await sb.tenants.userForLogin(email: email)
        // An unknown e-mail is checked against a hash of the same cost, so the answer takes as long as for a known one.
        let valid = passwords.verify(fields["password"] ?? "", account?.1 ?? Passwords.unknownAccountHash)
        guard let (user, _) = account, valid else {
            // The e-mail is whatever the stranger typed: escaped and cut. The attempt limit already bounds how often.
            ctx.logger.notice("cabinet sign-in failed", metadata: ["email": "\(UntrustedText.loggable(email, limit: 100))"])
            return loginPage(req, error: l.t("signin.failed"), status: .unauthorized, email: email)
        }
        try await limiter.succeeded(attempt)
        let (id, _) = try await sessions.create(user: user)
        var r = redirect("/cabinet")
        r.headers[.setCookie] = cookie(Self.sessionCookie, id)
        return r
    }
}
