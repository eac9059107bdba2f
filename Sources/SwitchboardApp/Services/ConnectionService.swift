import Foundation
import SwitchboardCore
import SwitchboardPBX
import SwitchboardStorage

/// A tenant's PBX connections and their employees, for the management API and the cabinet alike (issue 10's
/// application layer): the checks of a connection's settings, the API key pinned to the address it was entered for, and
/// after every change the cached connection and the routing directory forgotten, here and nowhere else.
struct ConnectionService: Sendable {
    let pbx: PBXStore
    let cache: ConnectionCache
    let routing: RoutingService
    let policy: OutboundPolicy
    /// The PBX protocols this instance serves.
    let adapters: PBXRegistry
    let metrics: HTTPMetrics
    /// Where PBXs reach this instance, read when asked (the port is known once the server listens).
    let baseURL: @Sendable () -> String
    let commandsOf: @Sendable (PBXConnection) async throws -> (any PBXCommands)?

    init(sb: Switchboard) {
        pbx = sb.pbx
        cache = sb.connections
        routing = sb.routing
        policy = sb.config.outboundPolicy
        adapters = sb.pbxAdapters
        metrics = sb.httpMetrics
        baseURL = { [sb] in sb.baseURL }
        commandsOf = { [sb] in try await sb.commands(for: $0) }
    }

    /// What a tenant pastes into the PBX.
    struct Setup: Encodable {
        var connection: PBXConnection
        var webhookURL: String
        var secret: String
    }

    func setup(_ c: PBXConnection, secret: String) -> Setup {
        Setup(connection: c, webhookURL: "\(baseURL())/\(adapters.webhookPath(for: c))", secret: secret)
    }

    func list(tenantId: String) async throws -> [PBXConnection] { try await pbx.list(tenantId: tenantId) }

    func get(tenantId: String, id: String) async throws -> PBXConnection? { try await pbx.get(tenantId: tenantId, id: id) }

    /// The connection with the secret its PBX signs with; nil when the tenant has no such connection.
    func setup(tenantId: String, id: String) async throws -> Setup? {
        guard let c = try await pbx.get(tenantId: tenantId, id: id), let secret = try await pbx.inboundSecret(connectionId: c.id) else {
            return nil
        }
        return setup(c, secret: secret)
    }

    /// A new connection with a fresh inbound secret, shown once in the answer.
    func create(tenantId: String, name: String, protocol proto: PBXProtocol, apiURL: String?, apiKey: String?,
                apiFlavor: String?, routingDeadlineMs: Int?, region: String?) async throws -> Setup {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ServiceError.invalid(field: "name", InputProblem.nameRequired.phrase) }
        try check(deadline: routingDeadlineMs, flavor: apiFlavor)
        try check(apiURL: apiURL)
        let (c, secret) = try await pbx.create(tenantId: tenantId, name: name, protocol: proto, apiURL: apiURL, apiKey: apiKey,
                                               apiFlavor: apiFlavor ?? "legacy", routingDeadlineMs: routingDeadlineMs ?? 1500,
                                               region: region ?? "RU")
        return setup(c, secret: secret)
    }

    /// Changes what is given (nil keeps it; an empty `apiURL` clears it). Moving the API address needs the API key again:
    /// a stored key is sent only to the address it was entered for. Nil when the tenant has no such connection.
    func update(tenantId: String, id: String, name: String?, apiURL: String?, apiKey: String?, apiFlavor: String?,
                routingDeadlineMs: Int?, region: String?) async throws -> PBXConnection? {
        try check(deadline: routingDeadlineMs, flavor: apiFlavor)
        try check(apiURL: apiURL)
        guard let current = try await pbx.get(tenantId: tenantId, id: id) else { return nil }
        if SecretPinning.apiKeyMissing(current, newURL: apiURL, apiKey: apiKey) {
            throw ServiceError.invalid(field: "apiKey", SecretMoved(field: "apiKey").phrase)
        }
        guard let c = try await pbx.update(tenantId: tenantId, id: id, name: name, apiURL: apiURL, apiKey: apiKey,
                                           apiFlavor: apiFlavor, routingDeadlineMs: routingDeadlineMs, region: region) else {
            return nil
        }
        forget(c.id)
        return c
    }

    func delete(tenantId: String, id: String) async throws -> Bool {
        guard try await pbx.delete(tenantId: tenantId, id: id) else { return false }
        forget(id)
        return true
    }

    // MARK: employees

    /// The connection's employees; nil when the tenant has no such connection.
    func employees(tenantId: String, connectionId: String) async throws -> [Employee]? {
        guard try await pbx.get(tenantId: tenantId, id: connectionId) != nil else { return nil }
        return try await pbx.employees(tenantId: tenantId, connectionId: connectionId)
    }

    /// Adds an employee, or changes the one with this login.
    func saveEmployee(tenantId: String, connectionId: String, login: String, extension_: String?, name: String?, email: String?,
                      directNumber: String?, hasSIP: Bool = true) async throws -> Employee {
        guard !login.isEmpty else { throw ServiceError.invalid(field: "login", InputProblem.loginRequired.phrase) }
        let e = try await pbx.upsertEmployee(tenantId: tenantId, connectionId: connectionId, login: login, extension_: extension_,
                                             name: name ?? login, email: email, directNumber: directNumber, hasSIP: hasSIP)
        routing.invalidateDirectory(connectionId: e.pbxConnectionId)
        return e
    }

    func deleteEmployee(tenantId: String, id: String) async throws -> Bool {
        let employee = try await pbx.employees(tenantId: tenantId).first { $0.id == id }
        guard let employee, try await pbx.deleteEmployee(tenantId: tenantId, id: id) else { return false }
        routing.invalidateDirectory(connectionId: employee.pbxConnectionId)
        return true
    }

    /// The PBX's own list of employees, added or updated by login; how many there were.
    func importEmployees(tenantId: String, connection c: PBXConnection) async throws -> Int {
        let accounts = try await command(c) { try await $0.accounts() }
        for a in accounts {
            _ = try await pbx.upsertEmployee(tenantId: tenantId, connectionId: c.id, login: a.login, extension_: a.extension,
                                             name: a.name ?? a.login, email: a.email, directNumber: a.directNumber)
        }
        routing.invalidateDirectory(connectionId: c.id)
        return accounts.count
    }

    // MARK: commands

    /// Runs a command at the connection's PBX: `conflict` when it has no API address and key, `upstream` when the PBX
    /// refused (retryable when trying again may help). Every answer is counted in the outbound metrics.
    @discardableResult
    func command<T: Sendable>(_ connection: PBXConnection, _ body: (any PBXCommands) async throws -> T) async throws -> T {
        guard let commands = try await commandsOf(connection) else {
            throw ServiceError.conflict(Self.noCommands)
        }
        do {
            let value = try await body(commands)
            metrics.countOutbound(target: "pbx", status: "ok")
            return value
        } catch let error as PBXCommandError {
            metrics.countOutbound(target: "pbx", status: error.status.map(String.init) ?? "error")
            throw ServiceError.upstream(error.phrase, retryable: error.retryable)
        }
    }

    static let noCommands = "the PBX connection has no API address and key for commands"

    // MARK: checks and side effects

    func check(deadline: Int?, flavor: String?) throws {
        if let deadline, !PBXConnection.routingDeadlineRange.contains(deadline) {
            throw ServiceError.invalid(field: "routingDeadlineMs", InputProblem.routingDeadline.phrase)
        }
        if let flavor, !PBXConnection.apiFlavors.contains(flavor) {
            throw ServiceError.invalid(field: "apiFlavor", InputProblem.apiFlavor.phrase)
        }
    }

    /// The PBX's API address, when given, must pass the outbound policy (its API key is sent there).
    func check(apiURL: String?) throws {
        guard let apiURL, !apiURL.isEmpty else { return }
        do { _ = try policy.check(apiURL) } catch { throw ServiceError.invalid(field: "apiURL", error.phrase) }
    }

    /// After a connection changed: its cached copy and its routing directory are stale.
    func forget(_ connectionId: String) {
        cache.invalidate(connectionId)
        routing.invalidateDirectory(connectionId: connectionId)
    }
}
