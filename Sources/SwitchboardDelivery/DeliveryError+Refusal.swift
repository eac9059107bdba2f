import SwitchboardStorage

/// Every failure but a retryable one (a rate limit, a permanent 4xx refusal) means the remote made nothing; a
/// retryable one (5xx, a timeout, an answer without ids) may follow a write that happened, so `WriteLedger` looks
/// before writing again.
extension DeliveryError: RemoteRefusal {
    public var remoteMadeNothing: Bool {
        if case .retryable = self { return false }
        return true
    }
}
