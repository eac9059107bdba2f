import HTTPTypes
import Hummingbird
import NIOCore
import SwitchboardCore

/// The reverse proxies whose `X-Forwarded-For` Switchboard believes (`trustedProxies`: addresses or CIDR ranges).
/// A request from anywhere else is from its socket's peer, whatever headers it carries.
struct TrustedProxies: Sendable {
    struct Range: Sendable, Equatable {
        let network: [UInt8]
        let prefix: Int

        func contains(_ address: IPAddress) -> Bool {
            let bytes = address.unmapped.bytes
            guard bytes.count == network.count else { return false }
            var bits = prefix
            for (a, b) in zip(bytes, network) where bits > 0 {
                let mask: UInt8 = bits >= 8 ? 0xff : ~(0xff >> UInt8(bits))
                if a & mask != b & mask { return false }
                bits -= 8
            }
            return true
        }
    }

    struct Problem: Error, CustomStringConvertible {
        let entry: String
        var description: String { "trustedProxies: \"\(entry)\" is not an IP address or CIDR range such as 10.0.0.0/8" }
    }

    let ranges: [Range]

    init() { ranges = [] }

    /// Parses `10.1.2.3`, `10.0.0.0/8`, `::1`, `fd00::/8`; refuses anything else.
    init(_ entries: [String]) throws(Problem) {
        ranges = try entries.map { (entry: String) throws(Problem) -> Range in
            let parts = entry.trimmingCharacters(in: .whitespaces).split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let address = IPAddress(String(parts[0]))?.unmapped else { throw Problem(entry: entry) }
            let width = address.bytes.count * 8
            guard let prefix = parts.count == 2 ? Int(parts[1]) : width, (0...width).contains(prefix) else { throw Problem(entry: entry) }
            return Range(network: address.bytes, prefix: prefix)
        }
    }

    func trusts(_ address: IPAddress) -> Bool { ranges.contains { $0.contains(address) } }

    /// The client a request comes from, for limits keyed on it. From a trusted proxy: the right-most address in
    /// `X-Forwarded-For` that is not itself a trusted proxy (entries left of it could be made up by the client).
    /// Otherwise the socket's peer; `local` when there is no socket (in-process requests).
    func client(peer: SocketAddress?, forwardedFor: [String]) -> String {
        guard let text = peer?.ipAddress, let peerAddress = IPAddress(text) else { return "local" }
        guard trusts(peerAddress) else { return peerAddress.unmapped.description }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var client = peerAddress
        for hop in hops.reversed() {
            // A hop that is not an address (a proxy's "unknown", garbage) ends what can be believed.
            guard let address = IPAddress(hop) else { break }
            client = address
            if !trusts(address) { break }
        }
        return client.unmapped.description
    }

    func client(of request: Request, peer: SocketAddress?) -> String {
        client(peer: peer, forwardedFor: request.headers[values: .xForwardedFor])
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}

extension IPAddress {
    /// An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, as a dual-stack socket reports IPv4 peers) as IPv4.
    var unmapped: IPAddress {
        guard bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff,
              let v4 = IPAddress(bytes: Array(bytes[12...])) else { return self }
        return v4
    }
}
