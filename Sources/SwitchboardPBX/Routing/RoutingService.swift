import Foundation
import Logging
import SwitchboardCore
import SwitchboardStorage

/// Answers personal-manager requests (CORE-6) from a cache of phone → responsible CRM user → employee,
/// asks the CRM only within the deadline, and otherwise answers "no preference" so the PBX falls back
/// to its scenario. A lookup that misses the deadline goes on and fills the cache for the next call.
public final class RoutingService: @unchecked Sendable {
    struct Directory {
        var integrations: [Integration]
        /// integration id → CRM user id → employee
        var employees: [String: [String: Employee]]
        var loadedAt: ContinuousClock.Instant
    }

    enum Entry {
        case value(ResponsibleUser?, expires: ContinuousClock.Instant)
        case pending(Task<ResponsibleUser?, any Error>)
    }

    let integrations: IntegrationStore
    let pbx: PBXStore
    let lookups: [CRMKind: any ManagerLookup]
    let logger: Logger
    let positiveTTL: Duration
    let negativeTTL: Duration
    let directoryTTL: Duration
    private let lock = NSLock()
    private var cache: [String: Entry] = [:]
    private var directories: [String: Directory] = [:]

    public init(integrations: IntegrationStore, pbx: PBXStore, lookups: [CRMKind: any ManagerLookup], logger: Logger,
                positiveTTL: Duration = .seconds(600), negativeTTL: Duration = .seconds(120), directoryTTL: Duration = .seconds(5)) {
        self.integrations = integrations
        self.pbx = pbx
        self.lookups = lookups
        self.logger = logger
        self.positiveTTL = positiveTTL
        self.negativeTTL = negativeTTL
        self.directoryTTL = directoryTTL
    }

    /// Forgets what is known of a number (a CRM webhook said the contact's responsible changed), or everything.
    public func invalidate(integrationId: String, phone: PhoneNumber? = nil) {
        lock.withLock {
            if let key = phone.flatMap({ cacheKey(integrationId, $0) }) {
                cache.removeValue(forKey: key)
            } else {
                cache = cache.filter { !$0.key.hasPrefix(integrationId + ":") }
            }
        }
    }

    /// Forgets every cached number.
    public func invalidateAll() {
        lock.withLock { cache = [:] }
    }

    /// How many numbers are cached for an integration.
    public func cachedNumbers(integrationId: String) -> Int {
        lock.withLock { cache.keys.filter { $0.hasPrefix(integrationId + ":") }.count }
    }

    /// Forgets the cached integrations and mappings of a connection (settings changed).
    public func invalidateDirectory(connectionId: String? = nil) {
        lock.withLock {
            if let connectionId { directories.removeValue(forKey: connectionId) } else { directories = [:] }
        }
    }

    func cacheKey(_ integrationId: String, _ phone: PhoneNumber) -> String? {
        phone.last10.map { "\(integrationId):\($0)" }
    }

    func loadDirectory(for connection: PBXConnection) async throws -> Directory {
        let now = ContinuousClock.now
        if let d = lock.withLock({ directories[connection.id] }), now - d.loadedAt < directoryTTL { return d }
        let active = try await integrations.active(pbxConnectionId: connection.id).filter(\.personalManagerRouting)
        let staff = Dictionary(try await pbx.employees(tenantId: connection.tenantId, connectionId: connection.id).map { ($0.id, $0) },
                               uniquingKeysWith: { a, _ in a })
        var employees: [String: [String: Employee]] = [:]
        for integration in active {
            var byUser: [String: Employee] = [:]
            for m in try await integrations.mappings(tenantId: connection.tenantId, integrationId: integration.id)
            where m.useForRouting {
                if let e = staff[m.employeeId] { byUser[m.crmUserId] = e }
            }
            employees[integration.id] = byUser
        }
        let d = Directory(integrations: active, employees: employees, loadedAt: now)
        lock.withLock { directories[connection.id] = d }
        return d
    }

    /// Answers within `deadline` of `start` (when the PBX's request arrived), whatever the CRM does.
    public func route(connection: PBXConnection, client: PhoneNumber, deadline: Duration,
                      since start: ContinuousClock.Instant = .now) async -> RoutingDecision {
        guard client.last10 != nil else { return .noPreference("the caller's number is hidden or too short") }
        let directory: Directory
        do {
            directory = try await loadDirectory(for: connection)
        } catch {
            logger.error("routing: cannot read integrations", metadata: ["error": "\(error)"])
            return .noPreference("storage unavailable")
        }
        guard !directory.integrations.isEmpty else { return .noPreference("personal-manager forwarding is off") }
        var reasons: [String] = []
        for integration in directory.integrations {
            guard let lookup = lookups[integration.crm] else {
                reasons.append("\(integration.crm.rawValue) has no manager lookup")
                continue
            }
            let remaining = deadline - (ContinuousClock.now - start)
            let (user, source) = await responsible(integration: integration, client: client, lookup: lookup, within: remaining)
            switch source {
            case .timedOut:
                reasons.append("\(integration.crm.rawValue) did not answer within \(deadline.milliseconds) ms")
                continue
            case .failed(let why):
                reasons.append("\(integration.crm.rawValue) lookup failed: \(why)")
                continue
            case .cache, .crm:
                guard let user else {
                    reasons.append("no contact with this number in \(integration.crm.rawValue)")
                    continue
                }
                guard let employee = directory.employees[integration.id]?[user.crmUserId] else {
                    reasons.append("the responsible user \(user.crmUserId) is not mapped to an employee")
                    continue
                }
                return RoutingDecision(employee: employee, crmUserId: user.crmUserId, contactName: user.contactName,
                                       reason: source == .cache ? "cache" : "crm", integrationId: integration.id)
            }
        }
        return .noPreference(reasons.joined(separator: "; "))
    }

    enum Source: Equatable {
        case cache, crm, timedOut
        case failed(String)
    }

    func responsible(integration: Integration, client: PhoneNumber, lookup: any ManagerLookup,
                     within remaining: Duration) async -> (ResponsibleUser?, Source) {
        guard let key = cacheKey(integration.id, client) else { return (nil, .failed("no number")) }
        let now = ContinuousClock.now
        enum Found { case cached(ResponsibleUser?), waiting(Task<ResponsibleUser?, any Error>) }
        let found: Found = lock.withLock {
            switch cache[key] {
            case .value(let user, let expires)? where expires > now:
                return .cached(user)
            case .pending(let t)?:
                return .waiting(t)
            default:
                let t = Task<ResponsibleUser?, any Error> { [weak self] in
                    do {
                        let user = try await lookup.responsible(for: client, integration: integration)
                        self?.store(key, user)
                        return user
                    } catch {
                        self?.forget(key)
                        throw error
                    }
                }
                cache[key] = .pending(t)
                return .waiting(t)
            }
        }
        let task: Task<ResponsibleUser?, any Error>
        switch found {
        case .cached(let user): return (user, .cache)
        case .waiting(let t): task = t
        }
        guard remaining > .zero else { return (nil, .timedOut) }
        // Whichever comes first, the CRM's answer or the deadline, answers; a late CRM answer still fills the cache.
        return await withCheckedContinuation { (c: CheckedContinuation<(ResponsibleUser?, Source), Never>) in
            let once = Once()
            let timer = Task {
                try? await Task.sleep(for: remaining)
                if once.claim() { c.resume(returning: (nil, .timedOut)) }
            }
            Task {
                let outcome: (ResponsibleUser?, Source)
                do { outcome = (try await task.value, .crm) } catch { outcome = (nil, .failed("\(error)")) }
                if once.claim() {
                    timer.cancel()
                    c.resume(returning: outcome)
                }
            }
        }
    }

    func forget(_ key: String) {
        lock.withLock { _ = cache.removeValue(forKey: key) }
    }

    func store(_ key: String, _ user: ResponsibleUser?) {
        let ttl = user == nil ? negativeTTL : positiveTTL
        lock.withLock { cache[key] = .value(user, expires: .now + ttl) }
    }
}

extension Duration {
    var milliseconds: Int64 { Int64(seconds * 1000) }
}

/// The one rule for how long Switchboard spends on a routing answer, whatever the protocol: the PBX's deadline less a
/// margin for the network and for writing the answer, so the answer (from the CRM, the cache or "no preference")
/// reaches the PBX before it gives up and follows its own scenario.
public enum RoutingBudget {
    /// The margin kept before a deadline: a tenth of it, and at least 50 ms.
    public static func margin(deadlineMs: Int) -> Int { max(50, deadlineMs / 10) }

    /// The time to answer in. `connectionDeadlineMs` is the connection's setting; a request may ask for less.
    public static func answerWithin(connectionDeadlineMs: Int, askedMs: Int? = nil) -> Duration {
        let deadline = min(askedMs ?? connectionDeadlineMs, connectionDeadlineMs)
        return .milliseconds(Int64(max(0, deadline - margin(deadlineMs: deadline))))
    }
}

/// True for the first caller only.
final class Once: @unchecked Sendable {
    private let lock = NSLock()
    private var done = false

    func claim() -> Bool {
        lock.withLock {
            if done { return false }
            done = true
            return true
        }
    }
}
