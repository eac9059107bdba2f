import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address, and the kind of network it belongs to.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses the textual forms only (dotted quad, RFC 4291 IPv6, optionally in brackets or with a zone):
    /// `127.1` or `2130706433` are not addresses here, they are names, and are judged after DNS resolution.
    public init?(_ text: String) {
        var s = Substring(text)
        if s.hasPrefix("["), s.hasSuffix("]") { s = s.dropFirst().dropLast() }
        if let percent = s.firstIndex(of: "%") { s = s[..<percent] }
        if s.contains(":") {
            var a = in6_addr()
            guard inet_pton(AF_INET6, String(s), &a) == 1 else { return nil }
            self.bytes = withUnsafeBytes(of: &a) { Array($0) }
        } else {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var out: [UInt8] = []
            for p in parts {
                guard !p.isEmpty, p.count <= 3, p.allSatisfy(\.isASCII), p.allSatisfy(\.isNumber), let v = UInt8(p),
                      p.count == 1 || p.first != "0" else { return nil }
                out.append(v)
            }
            self.bytes = out
        }
    }

    public var description: String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        var a = in6_addr()
        withUnsafeMutableBytes(of: &a) { $0.copyBytes(from: bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &a, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Where an address leads, as far as sending a secret there is concerned.
    public enum Kind: String, Sendable, Equatable {
        case `public`
        /// 127.0.0.0/8, ::1: this machine.
        case loopback
        /// 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier-grade NAT), 198.18/15, fc00::/7 (unique local).
        case `private` = "private network"
        /// 169.254/16, fe80::/10, and the cloud metadata service's IPv6 address fd00:ec2::254.
        case linkLocal = "link-local"
        /// 0.0.0.0/8 and :: (on Linux a connection to 0.0.0.0 reaches this machine).
        case unspecified
        /// 224/4, ff00::/8.
        case multicast
        /// 240/4 (with the broadcast address), and IPv4-compatible IPv6.
        case reserved
    }

    public var kind: Kind {
        if bytes.count == 4 { return Self.kind(v4: bytes) }
        let b = bytes
        if b.allSatisfy({ $0 == 0 }) { return .unspecified }
        if b[0..<15].allSatisfy({ $0 == 0 }) && b[15] == 1 { return .loopback }
        // IPv4-mapped ::ffff:a.b.c.d and NAT64 64:ff9b::a.b.c.d lead where their IPv4 address does.
        if b[0..<10].allSatisfy({ $0 == 0 }) && b[10] == 0xff && b[11] == 0xff { return Self.kind(v4: Array(b[12...])) }
        if b[0..<12].elementsEqual([0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]) { return Self.kind(v4: Array(b[12...])) }
        if b[0..<12].allSatisfy({ $0 == 0 }) { return .reserved }
        if b[0] == 0xff { return .multicast }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return .linkLocal }
        if b == Self.awsMetadataV6 { return .linkLocal }
        if b[0] & 0xfe == 0xfc { return .private }
        return .public
    }

    /// fd00:ec2::254, the instance metadata service on AWS's IPv6 networks: never a CRM.
    static let awsMetadataV6: [UInt8] = [0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54]

    static func kind(v4 b: [UInt8]) -> Kind {
        switch (b[0], b[1]) {
        case (0, _): return .unspecified
        case (127, _): return .loopback
        case (10, _), (172, 16...31), (192, 168), (100, 64...127), (198, 18...19): return .private
        case (169, 254): return .linkLocal
        case (224...239, _): return .multicast
        case (240...255, _): return .reserved
        default: return .public
        }
    }
}

/// Where Switchboard may send a request that carries a tenant's secret (a CRM token, a PBX API key) or the
/// installation's (an OAuth client secret): one rule for every address a tenant sets.
///
/// https only; no user name or password in the address; only http and https (no `http+unix`); never link-local,
/// unspecified, multicast or reserved addresses; private networks only when the installation allows them; this
/// machine only in development mode, where http is accepted for it too (the amoCRM sandbox, test doubles). Names are
/// judged by the addresses they resolve to (`check(resolved:for:)`), right before each request.
public struct OutboundPolicy: Sendable, Equatable {
    /// Development/sandbox mode: this machine's loopback addresses are allowed, over http too.
    public var allowLoopback: Bool
    /// Private networks (a CRM or PBX inside the installation's own network), over https.
    public var allowPrivateNetworks: Bool

    public init(allowLoopback: Bool = false, allowPrivateNetworks: Bool = false) {
        self.allowLoopback = allowLoopback
        self.allowPrivateNetworks = allowPrivateNetworks
    }

    public enum Problem: Error, Equatable, CustomStringConvertible, PhraseCatalog {
        case malformed(String)
        case scheme(String)
        case insecure(String)
        case userinfo(String)
        case address(host: String, address: String, kind: IPAddress.Kind)
        case unresolved(String)

        public var description: String { phrase.en }

        public var phrase: Phrase {
            switch self {
            case .malformed(let url):
                Phrase(code: "outbound.malformed", en: "\"\(url)\" is not an http(s) address with a host", ru: "«\(url)» — не адрес http(s) с именем хоста")
            case .scheme(let s):
                Phrase(code: "outbound.scheme", en: "the \(s) scheme is not allowed: use https", ru: "схема \(s) не допускается: используйте https")
            case .insecure(let url):
                Phrase(code: "outbound.insecure", en: "\(url) must use https (http is accepted only on this machine's loopback addresses)",
                       ru: "\(url): нужен https (http допускается только для адресов этой машины)")
            case .userinfo(let url):
                Phrase(code: "outbound.userinfo", en: "\(url) must not carry a user name or password",
                       ru: "\(url): в адресе не должно быть имени пользователя и пароля")
            case .address(let host, let address, let kind) where host == address:
                Phrase(code: "outbound.address", en: "\(host) is a \(kind.rawValue) address, where Switchboard does not send requests",
                       ru: "\(host) — адрес \(kind.russian), туда Switchboard запросы не отправляет")
            case .address(let host, let address, let kind):
                Phrase(code: "outbound.addressVia", en: "\(host) leads to \(address), a \(kind.rawValue) address, where Switchboard does not send requests",
                       ru: "\(host) ведёт на \(address) — адрес \(kind.russian), туда Switchboard запросы не отправляет")
            case .unresolved(let host):
                Phrase(code: "outbound.unresolved", en: "\(host) does not resolve to any address", ru: "у имени \(host) нет ни одного адреса")
            }
        }

        public static var samples: [Problem] {
            [.malformed("x"), .scheme("ftp"), .insecure("http://a.example"), .userinfo("https://u@a.example"),
             .address(host: "a", address: "a", kind: .loopback), .address(host: "a", address: "b", kind: .private), .unresolved("a")]
        }
    }

    /// An address that passed the checks that need no network.
    public struct Destination: Sendable, Equatable {
        public var scheme: String
        /// Lower-cased, without IPv6 brackets or zone.
        public var host: String
        /// The host when it is written as an address.
        public var literal: IPAddress?
        public var isLocalhostName: Bool
    }

    /// Scheme, user info and a host written as an address. A name still needs `check(resolved:for:)`.
    public func check(_ url: String) throws(Problem) -> Destination {
        // Parsed as the HTTP client parses it, so both see the same host.
        guard let u = URL(string: url), let rawScheme = u.scheme else { throw .malformed(url) }
        let scheme = rawScheme.lowercased()
        guard scheme == "https" || scheme == "http" else { throw .scheme(rawScheme) }
        guard var host = u.host?.lowercased(), !host.isEmpty else { throw .malformed(url) }
        guard u.user == nil, u.password == nil else { throw .userinfo(url) }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if let percent = host.firstIndex(of: "%") { host = String(host[..<percent]) }
        let literal = IPAddress(host)
        let destination = Destination(scheme: scheme, host: host, literal: literal, isLocalhostName: Self.isLocalhostName(host))
        if let literal {
            try admit(literal, destination)
        } else if destination.isLocalhostName {
            guard allowLoopback else { throw .address(host: host, address: host, kind: IPAddress.Kind.loopback) }
        } else if scheme == "http" {
            throw .insecure(url)
        }
        return destination
    }

    /// The addresses the destination's host resolved to: every one must be allowed.
    public func check(resolved addresses: [IPAddress], for destination: Destination) throws(Problem) {
        guard !addresses.isEmpty else { throw .unresolved(destination.host) }
        for address in addresses { try admit(address, destination) }
    }

    func admit(_ address: IPAddress, _ d: Destination) throws(Problem) {
        let kind = address.kind
        let refused = Problem.address(host: d.host, address: address.description, kind: kind)
        switch kind {
        case .public:
            break
        case .loopback:
            guard allowLoopback else { throw refused }
            return
        case .private:
            guard allowPrivateNetworks else { throw refused }
        case .linkLocal, .unspecified, .multicast, .reserved:
            throw refused
        }
        if d.scheme != "https" { throw .insecure("\(d.scheme)://\(d.host)") }
    }

    /// `localhost` and names under it (RFC 6761), which resolve to this machine.
    public static func isLocalhostName(_ host: String) -> Bool {
        let h = host.lowercased()
        return h == "localhost" || h.hasSuffix(".localhost")
    }

    /// Whether the host is this machine by its spelling: a loopback address or `localhost`; a name that merely starts
    /// with "127." is not.
    public static func isLoopback(host: String) -> Bool {
        if isLocalhostName(host) { return true }
        return IPAddress(host)?.kind == .loopback
    }
}

/// The domains a CRM's own services live on. The installation's secrets for that CRM (an OAuth application's client
/// secret) go only there, or to this machine in development mode. Each CRM declares its list in its own folder.
public struct CRMDomains: Sendable, Equatable {
    /// Registrable domains; their subdomains qualify (`example.amocrm.ru` for `amocrm.ru`).
    public let suffixes: [String]

    public init(suffixes: [String]) {
        self.suffixes = suffixes.map { $0.lowercased() }
    }

    /// https to one of the domains' subdomains, or (in development mode) this machine by its spelling.
    public func admits(_ url: String, policy: OutboundPolicy) -> Bool {
        guard let u = URL(string: url), let scheme = u.scheme?.lowercased(), let host = u.host?.lowercased(),
              u.user == nil, u.password == nil else { return false }
        if policy.allowLoopback && OutboundPolicy.isLoopback(host: host) && (scheme == "http" || scheme == "https") { return true }
        return scheme == "https" && suffixes.contains { host.hasSuffix("." + $0) }
    }

    public var listed: String { suffixes.map { "*." + $0 }.joined(separator: ", ") }
}

extension IPAddress.Kind {
    /// The kind in a Russian sentence ("адрес <kind>").
    public var russian: String {
        switch self {
        case .public: "публичный"
        case .loopback: "этой машины (loopback)"
        case .private: "частной сети"
        case .linkLocal: "локального сегмента (link-local)"
        case .unspecified: "неопределённый"
        case .multicast: "групповой рассылки"
        case .reserved: "зарезервированный"
        }
    }
}
