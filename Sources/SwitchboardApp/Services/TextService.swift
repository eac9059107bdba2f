import Foundation
import SwitchboardCore
import SwitchboardStorage

/// CORE-15's part of the application layer: what the public form and chat routes, the operators' chat API, the live
/// sockets and the cabinet's workspace link share. A request or a chat is stored with the CRM jobs it starts (for the
/// job kinds this instance handles, read when it is stored), its changes are signalled to the live sockets, and the
/// visitors' and workspaces' tokens are keyed tags only this installation can make.
struct TextService: Sendable {
    let texts: TextStore
    let tenants: TenantStore
    let signals: ChatSignals
    let vault: CredentialVault
    /// The job kinds a text may start here (the instance's handlers, known once they are registered).
    let handledKinds: @Sendable () -> Set<String>
    /// Where browsers reach this instance (known once the server listens).
    let baseURL: @Sendable () -> String

    init(sb: Switchboard) {
        texts = TextStore(db: sb.db, queue: sb.queue, signals: sb.chatSignals)
        tenants = sb.tenants
        signals = sb.chatSignals
        vault = sb.vault
        let ingestor = sb.ingestor
        handledKinds = { ingestor.handledKinds }
        baseURL = { sb.baseURL }
    }

    /// The visitor's proof that a chat is theirs: a keyed tag of the chat's id, handed out when it starts.
    func visitorToken(_ chatId: String) -> String { vault.mac(chatId, purpose: "chat-visitor") }
}
