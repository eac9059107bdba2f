import Foundation

/// A REST method's parameters as Bitrix24 reads them: PHP-style nested arrays from a query string or form body
/// (`FIELDS[PHONE][0][VALUE]=…`), or a JSON object. Keys are looked up exactly first, then ignoring case, as
/// Bitrix24's CRM methods accept both `fields` and `FIELDS`.
struct B24Params: @unchecked Sendable {
    var raw: [String: Any]

    init(_ raw: [String: Any] = [:]) { self.raw = raw }

    subscript(_ key: String) -> Any? {
        if let v = raw[key] { return v }
        return raw.first { $0.key.caseInsensitiveCompare(key) == .orderedSame }?.value
    }

    func has(_ key: String) -> Bool { self[key] != nil }

    func string(_ key: String) -> String? { Self.scalar(self[key]) }

    func int(_ key: String) -> Int? { string(key).flatMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func dict(_ key: String) -> B24Params? { (self[key] as? [String: Any]).map(B24Params.init) }

    /// A list given as a JSON array, as `x[]=…` / `x[0]=…`, or as a single value.
    func list(_ key: String) -> [Any] { Self.list(self[key]) }

    /// PHP truthiness of a flag (`1`, `Y`, `true`, `True` are on).
    func flag(_ key: String, default value: Bool) -> Bool {
        guard let s = string(key) else { return value }
        return Self.truthy(s)
    }

    static func truthy(_ s: String) -> Bool {
        !["", "0", "n", "false", "no"].contains(s.lowercased())
    }

    static func scalar(_ value: Any?) -> String? {
        switch value {
        case let s as String: return s
        case let b as Bool: return b ? "1" : "0"
        case let n as NSNumber:
            let d = n.doubleValue
            return d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
        case let i as Int: return String(i)
        case let d as Double: return String(d)
        default: return nil
        }
    }

    static func list(_ value: Any?) -> [Any] {
        switch value {
        case nil, is NSNull: return []
        case let a as [Any]: return a
        case let d as [String: Any]:
            return d.sorted { (Int($0.key) ?? Int.max, $0.key) < (Int($1.key) ?? Int.max, $1.key) }.map(\.value)
        case let v?: return [v]
        }
    }

    // MARK: PHP query strings

    static func decode(_ s: Substring) -> String {
        String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
    }

    /// Parses `a[b][c]=1&d[]=2&e=3` into nested dictionaries, as PHP's `parse_str` does.
    static func parseQuery(_ query: String) -> [String: Any] {
        var root: [String: Any] = [:]
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            let value = parts.count > 1 ? decode(parts[1]) : ""
            guard !name.isEmpty else { continue }
            set(&root, path: path(of: name), value: value)
        }
        return root
    }

    /// `a[b][]` → ["a", "b", ""]; a name without brackets is one segment.
    static func path(of name: String) -> [String] {
        guard let open = name.firstIndex(of: "["), open != name.startIndex else { return [name] }
        var segments = [String(name[..<open])]
        var rest = name[open...]
        while rest.first == "[", let close = rest.firstIndex(of: "]") {
            segments.append(String(rest[rest.index(after: rest.startIndex)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        return segments
    }

    static func set(_ node: inout [String: Any], path: [String], value: Any) {
        guard var key = path.first else { return }
        if key.isEmpty {
            key = String((node.keys.compactMap { Int($0) }.max() ?? -1) + 1)
        }
        if path.count == 1 {
            node[key] = value
            return
        }
        var child = node[key] as? [String: Any] ?? [:]
        set(&child, path: Array(path.dropFirst()), value: value)
        node[key] = child
    }

    // MARK: PHP arrays and forms going out

    /// What PHP's `json_encode` makes of an array with these keys: a JSON list when the keys are 0…n-1 in order
    /// (and for an empty array), an object otherwise.
    static func phpArray(_ pairs: [(String, Any)]) -> Any {
        if pairs.enumerated().allSatisfy({ $0.offset == Int($0.element.0) }) { return pairs.map(\.1) }
        return Dictionary(pairs, uniquingKeysWith: { a, _ in a })
    }

    /// Flattens nested values into PHP-style form fields (`auth[access_token]=…`, `data[FIELDS][ID]=…`), in order.
    static func formFields(_ name: String, _ value: Any) -> [(String, String)] {
        switch value {
        case let pairs as [(String, Any)]:
            return pairs.flatMap { formFields("\(name)[\($0.0)]", $0.1) }
        case let d as [String: Any]:
            return d.sorted { $0.key < $1.key }.flatMap { formFields("\(name)[\($0.key)]", $0.value) }
        case let a as [Any]:
            return a.enumerated().flatMap { formFields("\(name)[\($0.offset)]", $0.element) }
        case is NSNull:
            return [(name, "")]
        default:
            return [(name, scalar(value) ?? "")]
        }
    }

    static func formBody(_ pairs: [(String, Any)]) -> String {
        pairs.flatMap { formFields($0.0, $0.1) }.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    // MARK: phones

    /// A phone number as Bitrix24's duplicate index keeps it: digits only, the extension dropped, a Russian
    /// trunk `8` or a bare ten-digit number read as +7.
    static func normalizedPhone(_ phone: String) -> String {
        var s = phone.lowercased()
        for marker in ["доб", "ext", "#", ",", ";", "x"] {
            if let r = s.range(of: marker) { s = String(s[..<r.lowerBound]) }
        }
        var digits = s.filter(\.isASCII).filter(\.isNumber)
        if digits.count == 11, digits.hasPrefix("8") { digits = "7" + digits.dropFirst() }
        if digits.count == 10 { digits = "7" + digits }
        return digits
    }
}
