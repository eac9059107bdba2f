import Foundation
import NIOHTTP1
import SwitchboardCore
import SwitchboardPBX

/// A case: a valid request, changed by a few mutations into one the server must refuse clearly (or accept).
struct FuzzCase {
    var template: FuzzTemplate
    var request: FuzzRequest
    var mutations: [String]
}

/// How the native protocol's signature headers are spoilt.
enum SignatureMode: String, CaseIterable {
    case valid, missingBoth, missingSignature, missingTimestamp, garbage, wrongSecret, stale, future, nonNumericTimestamp,
         hugeTimestamp, minTimestamp, otherBody, uppercase, noPrefix, spaces
}

enum FuzzMutator {
    // MARK: nasty values

    static let nastyJSON: [FJ] = [
        .lit("0"), .lit("-1"), .lit("-5"), .lit("9223372036854775807"), .lit("9223372036854775808"), .lit("-9223372036854775809"),
        .lit("1e400"), .lit("-0"), .lit("1.5"), .lit("1E2"), .lit("123456789012345678901234567890"), .lit("true"), .lit("false"), .null,
        .str(""), .str(" "), .str("\u{0}"), .str("a\u{0}b"), .str(String(repeating: "x", count: 10_000)), .str("💥🇷🇺"),
        .str("\u{202E}evil"), .str("<script>alert(1)</script>"), .str("' OR 1=1 --"), .str("../../etc/passwd"),
        .str("9223372036854775808"), .str("-5"), .str("99991231T235959Z"), .str("2024-02-30T25:61:61Z"), .str("0000-00-00T00:00:00Z"),
        .str("\r\nX-Injected: 1"), .bytes([0xFF, 0xFE]), .bytes([0x61, 0xC3, 0x28]), .bytes([0xED, 0xA0, 0x80]), .bytes([0xC0, 0xAF]),
        .lit("\"\\ud800\""), .lit("\"\\u0000\""), .arr([]), .obj([]), .arr([.str("x")]), .obj([("a", .int(1))]),
        .arr([.null, .lit("1e400")]),
    ]

    static let nastyBytes: [[UInt8]] = [
        [], Array("-5".utf8), Array("-1".utf8), Array("0".utf8), Array("9223372036854775808".utf8), Array("99999999999999999999999".utf8),
        Array("1e400".utf8), Array("NaN".utf8), Array("  ".utf8), [0], Array("a\u{0}b".utf8), [0xFF, 0xFE], [0xC0, 0xAF],
        [0xED, 0xA0, 0x80], Array("💥".utf8), Array(String(repeating: "9", count: 100_000).utf8), Array("99991231T235959Z".utf8),
        Array("20240230T256161Z".utf8), Array("INCOMING\r\nX: y".utf8), Array("<img src=x onerror=alert(1)>".utf8),
        Array("' OR 1=1 --".utf8), Array("{\"nested\":true}".utf8),
    ]

    static let oddKeys = ["", "__proto__", "constructor", "\u{0}", "a[b][c]", "cmd", "crm_token", "events", "type",
                          String(repeating: "k", count: 5_000), "ключ", "%"]

    static let contentTypes: [String?] = [
        nil, "application/json", "application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=xyz",
        "application/json; charset=windows-1251", "application/xml", "*/*", "application/x-www-form-urlencoded; charset=utf-8",
        "", "application/jsonx", "text/html; charset=utf-16",
    ]

    // MARK: making a case

    static func make(_ template: FuzzTemplate, _ ids: FuzzIds, _ rng: inout FuzzRandom) -> FuzzCase {
        var t = template
        var notes: [String] = []
        var byteMutations: [([UInt8]?, inout FuzzRandom) -> [UInt8]?] = []
        var signature = SignatureMode.valid
        var headerOverrides: [(String, String?)] = []
        var pathChanged = false

        let count = rng.chance(0.12) ? 0 : rng.int(1...3)
        for _ in 0..<count {
            var choices: [(Double, String)] = [(1, "contentType"), (2, "auth"), (1, "query")]
            if case .none = t.payload { choices.append((0.5, "bytes")) } else { choices += [(4, "structure"), (2, "bytes")] }
            if t.segments.contains(where: { if case .param = $0 { return true } else { return false } }) && !pathChanged {
                choices.append((1.5, "path"))
            }
            let total = choices.reduce(0) { $0 + $1.0 }
            var roll = Double.random(in: 0..<total, using: &rng)
            let kind = choices.first { roll -= $0.0; return roll < 0 }?.1 ?? "auth"
            switch kind {
            case "contentType":
                let ct = rng.pick(contentTypes)
                t.contentType = ct
                notes.append("content-type \(ct.map { "'\($0)'" } ?? "none")")
            case "auth":
                mutateAuth(&t, ids, &rng, &notes, &signature, &headerOverrides)
            case "query":
                let junk = queryJunk(&rng)
                t.query += junk
                notes.append("query +\(junk.map { "\($0.0)=\($0.1)" }.joined(separator: "&").prefix(80))")
            case "path":
                pathChanged = true
                mutatePath(&t, ids, &rng, &notes)
            case "structure":
                mutateStructure(&t, &rng, &notes)
            default:
                let (note, mutation) = byteMutation(&rng)
                notes.append(note)
                byteMutations.append(mutation)
            }
        }

        // The wire form.
        var target = "/" + t.segments.map { segment -> String in
            switch segment {
            case .lit(let s): return s
            case .param(let s): return fuzzEscape(s)
            }
        }.joined(separator: "/")
        if !t.query.isEmpty { target += "?" + t.query.map { "\(fuzzEscape($0.0))=\(fuzzEscape($0.1))" }.joined(separator: "&") }
        var body: [UInt8]?
        switch t.payload {
        case .none: body = nil
        case .json(let j): body = j.serialized
        case .form(let f): body = formBody(f)
        }
        for m in byteMutations { body = m(body, &rng) }

        var headers: [(String, String)] = []
        if let ct = t.contentType { headers.append(("Content-Type", ct)) }
        switch t.auth {
        case .none: break
        case .bearer(let token): headers.append(("Authorization", "Bearer \(token)"))
        case .session(let s): headers.append(("Cookie", "sb_session=\(s)"))
        case .loginNonce(let n): headers.append(("Cookie", "sb_login=\(n)"))
        case .signed(let secret): headers += signatureHeaders(body ?? [], secret: secret, mode: signature)
        }
        for (name, value) in headerOverrides {
            headers.removeAll { $0.0.lowercased() == name.lowercased() }
            if let value { headers.append((name, value)) }
        }
        return FuzzCase(template: t, request: FuzzRequest(method: t.method, target: target, headers: headers, body: body), mutations: notes)
    }

    static func signatureHeaders(_ body: [UInt8], secret: String, mode: SignatureMode) -> [(String, String)] {
        let now = Int(Date().timeIntervalSince1970)
        let ts = NativeProtocol.timestampHeader, sig = NativeProtocol.signatureHeader
        func signed(_ at: Int, _ b: [UInt8] = body, _ key: String = secret) -> [(String, String)] {
            [(ts, String(at)), (sig, NativeProtocol.sign(body: b, secret: key, timestamp: at))]
        }
        switch mode {
        case .valid: return signed(now)
        case .missingBoth: return []
        case .missingSignature: return [(ts, String(now))]
        case .missingTimestamp: return [signed(now)[1]]
        case .garbage: return [(ts, String(now)), (sig, "sha256=" + String(repeating: "0", count: 64))]
        case .wrongSecret: return signed(now, body, secret + "x")
        case .stale: return signed(now - Int(NativeProtocol.maxSkew) - 30)
        case .future: return signed(now + Int(NativeProtocol.maxSkew) + 30)
        case .nonNumericTimestamp: return [(ts, "\(now)abc"), signed(now)[1]]
        case .hugeTimestamp: return [(ts, "99999999999999999999"), signed(now)[1]]
        case .minTimestamp: return [(ts, String(Int.min)), (sig, NativeProtocol.sign(body: body, secret: secret, timestamp: Int.min))]
        case .otherBody: return signed(now, Array("{}".utf8))
        case .uppercase: return [(ts, String(now)), (sig, signed(now)[1].1.uppercased())]
        case .noPrefix: return [(ts, String(now)), (sig, String(signed(now)[1].1.dropFirst("sha256=".count)))]
        case .spaces: return [(ts, " \(now) "), (sig, " " + signed(now)[1].1)]
        }
    }

    static func mutateAuth(_ t: inout FuzzTemplate, _ ids: FuzzIds, _ rng: inout FuzzRandom, _ notes: inout [String],
                           _ signature: inout SignatureMode, _ overrides: inout [(String, String?)]) {
        switch t.auth {
        case .bearer(let token):
            let options: [(String, String?)] = [
                ("no Authorization", nil), ("token + x", "Bearer \(token)x"), ("another tenant's token", "Bearer \(ids.otherToken)"),
                ("Basic", "Basic dXNlcjpwYXNz"), ("Bearer alone", "Bearer"), ("bearer, lower case, spaces", "bearer    \(token)"),
                ("a 10 kB token", "Bearer " + String(repeating: "a", count: 10_000)), ("made-up token", "Bearer sb_nonsense"),
                ("token without scheme", token), ("non-ASCII token", "Bearer токен"),
            ]
            let o = rng.pick(options)
            overrides.append(("Authorization", o.1))
            notes.append("auth: \(o.0)")
        case .signed:
            signature = rng.pick(SignatureMode.allCases.filter { $0 != .valid })
            notes.append("signature: \(signature.rawValue)")
        case .session(let s):
            let options: [(String, String?)] = [("no cookie", nil), ("made-up session", "sb_session=nope"),
                                                ("empty session", "sb_session="), ("session twice", "sb_session=nope; sb_session=\(s)"),
                                                ("garbage cookie", "sb_session=%%%; =; ;;")]
            if case .form(var f) = t.payload, let i = f.firstIndex(where: { $0.0 == "csrf" }), rng.chance(0.6) {
                let bad: [[UInt8]] = [[], Array("forged".utf8), Array((ids.csrf + "x").utf8), [0xFF], Array(ids.logoutCsrf.utf8)]
                if rng.chance(0.3) { f.remove(at: i); notes.append("csrf: removed") } else {
                    f[i].1 = rng.pick(bad)
                    notes.append("csrf: \(FuzzText.shown(f[i].1, limit: 20))")
                }
                t.payload = .form(f)
            } else {
                let o = rng.pick(options)
                overrides.append(("Cookie", o.1))
                notes.append("session: \(o.0)")
            }
        case .loginNonce(let n):
            let options: [(String, String?)] = [("no nonce cookie", nil), ("other nonce", "sb_login=other"),
                                                ("empty nonce", "sb_login="), ("nonce and session", "sb_login=\(n); sb_session=x")]
            let o = rng.pick(options)
            overrides.append(("Cookie", o.1))
            notes.append("sign-in cookie: \(o.0)")
        case .none:
            if t.family == .itoolabs {
                let bad: [FJ] = [.str(""), .str(ids.itoolabsSecret + "x"), .str(ids.nativeSecret), .str(" " + ids.itoolabsSecret),
                                 .lit("12345"), .null, .arr([.str(ids.itoolabsSecret)]), .bytes([0xFF])]
                let choice = rng.pick(bad)
                switch t.payload {
                case .json(.obj(var entries)):
                    if rng.chance(0.3) { entries.removeAll { $0.0 == "crm_token" }; notes.append("crm_token: removed") } else {
                        for i in entries.indices where entries[i].0 == "crm_token" { entries[i].1 = choice }
                        notes.append("crm_token: \(FuzzText.shown(choice.serialized, limit: 40))")
                    }
                    t.payload = .json(.obj(entries))
                case .form(var f):
                    if rng.chance(0.3) { f.removeAll { $0.0 == "crm_token" }; notes.append("crm_token: removed") } else {
                        let value: [UInt8] = {
                            if case .str(let s) = choice { return Array(s.utf8) }
                            return choice.serialized
                        }()
                        for i in f.indices where f[i].0 == "crm_token" { f[i].1 = value }
                        notes.append("crm_token: \(FuzzText.shown(value, limit: 40))")
                    }
                    t.payload = .form(f)
                default: break
                }
            } else if t.family == .widget, case .json(.obj(var entries)) = t.payload {
                let spoilt: [FJ] = [.str(""), .str(ids.webhookKey), .lit("1")]
                for i in entries.indices where entries[i].0 == "key" { entries[i].1 = rng.pick(spoilt) }
                t.payload = .json(.obj(entries))
                notes.append("widget key spoilt")
            } else {
                let value = rng.pick(["Bearer \(ids.token)", "Bearer nonsense", "Basic Og=="])
                overrides.append(("Authorization", value))
                notes.append("auth: added \(value.prefix(12))")
            }
        }
    }

    static func queryJunk(_ rng: inout FuzzRandom) -> [(String, String)] {
        let pairs: [(String, String)] = [
            ("limit", "-1"), ("limit", "99999999999999999999"), ("limit", "abc"), ("limit", "0"), ("limit", ""),
            ("from", "not-a-date"), ("from", "2024-13-45T99:99:99Z"), ("to", "0000-00-00T00:00:00Z"), ("to", "9999-12-31T23:59:59Z"),
            ("state", "zombie"), ("state", "dead"), ("result", "answered"), ("result", "exploded"), ("crm", "nope"), ("lang", "xx"),
            ("lang", "en"), ("number", "\u{0}"), ("number", "%"), ("callId", "'; DROP TABLE jobs;--"), ("employee", String(repeating: "e", count: 3000)),
            ("a[b][c]", "1"), ("", ""), ("code", ""), ("state", "a.b.c"), ("pbxConnectionId", "\u{FFFF}"), ("limit", "1e3"),
        ]
        return (0..<rng.int(1...3)).map { _ in rng.pick(pairs) }
    }

    static func mutatePath(_ t: inout FuzzTemplate, _ ids: FuzzIds, _ rng: inout FuzzRandom, _ notes: inout [String]) {
        let params = t.segments.indices.filter { if case .param = t.segments[$0] { return true } else { return false } }
        guard let i = params.isEmpty ? nil : rng.pick(params) else { return }
        let values: [String] = [
            UUID().uuidString, "nope", String(repeating: "x", count: 300), "\u{0}", "\u{FF}", "..", "/", "-1", "0",
            "99999999999999999999", "9223372036854775807", "тест", "' OR 1=1 --", "%", "%00", " ", "null",
        ] + ids.foreignIds + [ids.itoolabs, ids.native, ids.integration, ids.credential]
        let v = rng.pick(values)
        t.segments[i] = .param(v)
        notes.append("path parameter \(i): \(FuzzText.shown(Array(v.utf8), limit: 40))")
    }

    static func mutateStructure(_ t: inout FuzzTemplate, _ rng: inout FuzzRandom, _ notes: inout [String]) {
        switch t.payload {
        case .none: break
        case .json(let root):
            let paths = root.paths
            let op = rng.pick(["drop", "retype", "retype", "add", "duplicate", "nest", "root"])
            switch op {
            case "drop" where !paths.isEmpty:
                let p = rng.pick(paths)
                notes.append("JSON: drop \(root.key(at: p) ?? "an item")")
                t.payload = .json(root.updating(p) { _ in nil })
            case "retype" where !paths.isEmpty:
                let p = rng.pick(paths)
                let v = rng.pick(nastyJSON)
                notes.append("JSON: \(root.key(at: p) ?? "an item") = \(FuzzText.shown(v.serialized, limit: 40))")
                t.payload = .json(root.updating(p) { _ in v })
            case "add", "duplicate":
                // Into the root object, or into a nested one.
                let objects = [[]] + paths.filter { if case .obj? = root.value(at: $0) { return true } else { return false } }
                let p = rng.pick(objects)
                guard case .obj(let entries)? = root.value(at: p) else {
                    notes.append("JSON: root is not an object, left")
                    return
                }
                let key = op == "duplicate" && !entries.isEmpty ? rng.pick(entries).0 : rng.pick(oddKeys)
                let v = rng.pick(nastyJSON)
                notes.append("JSON: \(op) key \(FuzzText.shown(Array(key.utf8), limit: 20)) = \(FuzzText.shown(v.serialized, limit: 30))")
                t.payload = .json(root.updating(p) { _ in .obj(entries + [(key, v)]) })
            case "nest":
                let depth = rng.chance(0.1) ? rng.int(500...5000) : rng.int(1...40)
                let p = paths.isEmpty ? [] : rng.pick(paths)
                notes.append("JSON: nest \(root.key(at: p) ?? "root") \(depth) deep")
                t.payload = .json(root.updating(p) { v in
                    var out = v
                    for d in 0..<depth { out = d % 2 == 0 ? .arr([out]) : .obj([("n", out)]) }
                    return out
                })
            default:
                let v = rng.pick(nastyJSON)
                notes.append("JSON: root = \(FuzzText.shown(v.serialized, limit: 40))")
                t.payload = .json(v)
            }
        case .form(var f):
            let op = rng.pick(["drop", "retype", "retype", "add", "duplicate"])
            switch op {
            case "drop" where !f.isEmpty:
                let i = rng.int(0...(f.count - 1))
                notes.append("form: drop \(f[i].0)")
                f.remove(at: i)
            case "retype" where !f.isEmpty:
                let i = rng.int(0...(f.count - 1))
                f[i].1 = rng.pick(nastyBytes)
                notes.append("form: \(f[i].0) = \(FuzzText.shown(f[i].1, limit: 40))")
            case "duplicate" where !f.isEmpty:
                let i = rng.int(0...(f.count - 1))
                let v = rng.pick(nastyBytes)
                f.insert((f[i].0, v), at: rng.chance(0.5) ? 0 : f.count)
                notes.append("form: duplicate \(f[i].0) = \(FuzzText.shown(v, limit: 30))")
            default:
                let k = rng.pick(oddKeys)
                let v = rng.pick(nastyBytes)
                f.append((k, v))
                notes.append("form: add \(FuzzText.shown(Array(k.utf8), limit: 20)) = \(FuzzText.shown(v, limit: 30))")
            }
            t.payload = .form(f)
        }
    }

    static func byteMutation(_ rng: inout FuzzRandom) -> (String, ([UInt8]?, inout FuzzRandom) -> [UInt8]?) {
        let op = rng.pick(["truncate", "flip", "invalidUTF8", "nul", "replace", "bom", "utf16", "huge", "junkTail"])
        switch op {
        case "truncate":
            return ("bytes: truncated", { b, r in
                guard let b, !b.isEmpty else { return b }
                return Array(b.prefix(r.int(0...(b.count - 1))))
            })
        case "flip":
            return ("bytes: one byte flipped", { b, r in
                guard var b, !b.isEmpty else { return b }
                let i = r.int(0...(b.count - 1))
                b[i] ^= UInt8(truncatingIfNeeded: r.int(1...255))
                return b
            })
        case "invalidUTF8":
            return ("bytes: invalid UTF-8 inserted", { b, r in
                var b = b ?? []
                b.insert(contentsOf: r.pick([[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xF0, 0x28, 0x8C, 0x28], [0xC0, 0x80]]),
                         at: b.isEmpty ? 0 : r.int(0...b.count))
                return b
            })
        case "nul":
            return ("bytes: NUL inserted", { b, r in
                var b = b ?? []
                b.insert(0, at: b.isEmpty ? 0 : r.int(0...b.count))
                return b
            })
        case "replace":
            let bodies: [[UInt8]] = [[], Array("null".utf8), Array("[]".utf8), Array("\"s\"".utf8), Array("{".utf8), Array("}".utf8),
                                     Array("1e400".utf8), Array("cmd=event".utf8), Array("{\"events\":{}}".utf8),
                                     Array("{\"events\":[1,2,3]}".utf8), Array("<xml/>".utf8), [0, 0, 0, 0]]
            return ("bytes: replaced", { _, r in
                r.chance(0.3) ? (0..<r.int(1...200)).map { _ in UInt8.random(in: 0...255, using: &r) } : r.pick(bodies)
            })
        case "bom":
            return ("bytes: UTF-8 BOM", { b, _ in [0xEF, 0xBB, 0xBF] + (b ?? []) })
        case "utf16":
            return ("bytes: UTF-16", { b, _ in
                [0xFF, 0xFE] + String(decoding: b ?? [], as: UTF8.self).utf16.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
            })
        case "huge":
            return ("bytes: 1.5 MB", { b, _ in
                let b = b ?? Array("x".utf8)
                return Array(repeating: b, count: (1_500_000 / max(b.count, 1)) + 1).flatMap { $0 }
            })
        default:
            return ("bytes: junk after the body", { b, r in (b ?? []) + Array(r.pick([" garbage", "}}}", "&&&", "\n\n{}", "\u{0}", "&bare&&=&"]).utf8) })
        }
    }
}
