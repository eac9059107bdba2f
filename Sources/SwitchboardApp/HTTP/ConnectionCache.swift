import Foundation
import SwitchboardCore
import SwitchboardStorage

/// PBX connections and their inbound secrets, kept briefly in memory: every PBX request needs them.
final class ConnectionCache: @unchecked Sendable {
    struct Entry {
        let connection: PBXConnection
        let secret: String
        let loadedAt: ContinuousClock.Instant
    }

    let pbx: PBXStore
    let ttl: Duration
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]

    init(pbx: PBXStore, ttl: Duration = .seconds(10)) {
        self.pbx = pbx
        self.ttl = ttl
    }

    func get(_ id: String) async throws -> (PBXConnection, String)? {
        if let e = lock.withLock({ entries[id] }), ContinuousClock.now - e.loadedAt < ttl { return (e.connection, e.secret) }
        guard let connection = try await pbx.find(id: id), let secret = try await pbx.inboundSecret(connectionId: id) else {
            lock.withLock { _ = entries.removeValue(forKey: id) }
            return nil
        }
        lock.withLock { entries[id] = Entry(connection: connection, secret: secret, loadedAt: .now) }
        return (connection, secret)
    }

    func invalidate(_ id: String) {
        lock.withLock { _ = entries.removeValue(forKey: id) }
    }
}
