import Foundation

/// A value that writes its own JSON, byte for byte what `JSON.string(_:)` (Foundation's encoder with sorted keys and
/// ISO 8601 dates) writes for it, without the encoder's generic machinery. For the few values written on every PBX
/// event (the call, the stored event, the job payload); `JSONWriterTests` holds each to the encoder's output.
public protocol JSONWritable: Encodable {
    func write(to json: inout JSONWriter)
}

extension JSON {
    /// `value`'s JSON, written by hand: the same text as `string(_:)`.
    public static func written<T: JSONWritable>(_ value: T) -> String {
        var json = JSONWriter()
        value.write(to: &json)
        return json.text
    }
}

/// Writes one JSON value into bytes. Objects take their members in the order given: callers give them sorted, as the
/// encoder sorts them (by their UTF-8 bytes), and leave out absent optionals, as the encoder does.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    public init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func object(_ members: (inout JSONWriter) -> Void) {
        comma()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        members(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    public mutating func array<S: Sequence>(_ elements: S, _ element: (inout JSONWriter, S.Element) -> Void) {
        comma()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        for e in elements { element(&self, e) }
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// A member's key; its value is written next.
    public mutating func key(_ name: StaticString) {
        comma()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func string(_ value: String) {
        comma()
        Self.appendQuoted(value, to: &bytes)
        needsComma = true
    }

    public mutating func int(_ value: Int) {
        comma()
        bytes.append(contentsOf: String(value).utf8)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        comma()
        bytes.append(contentsOf: value ? "true".utf8 : "false".utf8)
        needsComma = true
    }

    /// `2026-11-27T10:00:00Z`: whole seconds in UTC, as the encoder's ISO 8601 strategy writes a date. Outside the
    /// years 1583–9999 (where the encoder's calendar turns Julian, or years take more than four digits) the encoder
    /// itself writes it.
    public mutating func date(_ value: Date) {
        comma()
        let t = value.timeIntervalSince1970
        if t.isFinite, t >= Self.plainDates.lowerBound, t < Self.plainDates.upperBound {
            bytes.append(UInt8(ascii: "\""))
            Self.appendISO8601(value, to: &bytes)
            bytes.append(UInt8(ascii: "\""))
        } else {
            bytes += (try? JSON.encoder.encode(value)).map(Array.init) ?? Array("null".utf8)
        }
        needsComma = true
    }

    /// 1583-01-01 to the end of 9999, in seconds since 1970.
    static let plainDates: Range<Double> =
        Double(CompactUTC.days(year: 1583, month: 1, day: 1) * 86_400)..<Double(CompactUTC.days(year: 10_000, month: 1, day: 1) * 86_400)

    public mutating func value<T: JSONWritable>(_ value: T) {
        value.write(to: &self)
    }

    // Members whose value may be absent: nothing is written for nil.
    public mutating func member(_ name: StaticString, _ value: String?) { if let value { key(name); string(value) } }
    public mutating func member(_ name: StaticString, _ value: Int?) { if let value { key(name); int(value) } }
    public mutating func member(_ name: StaticString, _ value: Bool?) { if let value { key(name); bool(value) } }
    public mutating func member(_ name: StaticString, _ value: Date?) { if let value { key(name); date(value) } }
    public mutating func member<T: JSONWritable>(_ name: StaticString, _ value: T?) { if let value { key(name); value.write(to: &self) } }
    public mutating func member(_ name: StaticString, strings: [String]) { key(name); array(strings) { $0.string($1) } }

    private mutating func comma() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// `text` quoted as the encoder quotes it: `"`, `\` and `/` escaped, the usual short escapes, other control
    /// characters as `\u00XX`, everything else as UTF-8.
    static func appendQuoted(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "/"): out += [UInt8(ascii: "\\"), UInt8(ascii: "/")]
            case 0x08: out += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: out += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20: out += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"),
                                   hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// The UTC date and time of `date` to the second, `yyyy-MM-ddTHH:mm:ssZ`.
    static func appendISO8601(_ date: Date, to out: inout [UInt8]) {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        var days = seconds / 86_400, secondOfDay = seconds % 86_400
        if secondOfDay < 0 { secondOfDay += 86_400; days -= 1 }
        let (year, month, day) = CompactUTC.civil(fromDays: days)
        func digits(_ value: Int, _ width: Int) {
            var divisor = width == 4 ? 1000 : 10
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        digits(year, 4)
        out.append(UInt8(ascii: "-"))
        digits(month, 2)
        out.append(UInt8(ascii: "-"))
        digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        out.append(UInt8(ascii: "Z"))
    }
}
