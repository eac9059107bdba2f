import Foundation
import SwitchboardCore

/// The PBX protocols this build serves. Generic code iterates `all`; nothing outside a protocol's folder names one.
public struct PBXRegistry: Sendable {
    public var all: [PBXAdapter]

    public init(all: [PBXAdapter]) { self.all = all }

    /// The one list.
    public static let live = PBXRegistry(all: [ITooLabsAdapter.adapter, NativeProtocol.adapter])

    /// The registry with `extra` adapters beside these (tests add protocols of their own).
    public func adding(_ extra: [PBXAdapter]) -> PBXRegistry { PBXRegistry(all: all + extra) }

    public func adapter(for id: PBXProtocol) -> PBXAdapter? {
        all.first { $0.id == id }
    }

    /// The path a tenant pastes into the PBX for a connection (`pbx/<protocol>/<id>` for a protocol no adapter serves).
    public func webhookPath(for connection: PBXConnection) -> String {
        adapter(for: connection.protocol)?.webhookPath(connectionId: connection.id) ?? "pbx/\(connection.protocol)/\(connection.id)"
    }
}
