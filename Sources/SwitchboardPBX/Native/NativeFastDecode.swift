import Foundation
import SwitchboardCore

extension NativeProtocol {
    /// The events of a body in the plain shape almost every PBX sends, read without the generic decoder: one event
    /// object or `{"events": [...]}`, known fields only, strings without escapes, whole numbers, times as
    /// `2026-11-27T10:00:00Z`. Nil for anything else (escapes, unknown or repeated fields, other time forms, errors),
    /// which the decoder then reads, with its own error messages: both readings give the same events
    /// (`NativeFastDecodeTests` compares them).
    static func fastEvents(_ body: [UInt8]) -> [Event]? {
        var reader = FastReader(bytes: body)
        guard reader.skipSpace(), reader.peek() == UInt8(ascii: "{") else { return nil }
        let start = reader.index
        reader.index += 1
        guard reader.skipSpace() else { return nil }
        // A batch names `events` first and only.
        if reader.peek() == UInt8(ascii: "\""), let key = reader.string(), key == "events" {
            guard reader.expect(UInt8(ascii: ":")), reader.expect(UInt8(ascii: "[")) else { return nil }
            var events: [Event] = []
            if reader.skipSpace(), reader.peek() == UInt8(ascii: "]") {
                reader.index += 1
            } else {
                while true {
                    guard let event = reader.event() else { return nil }
                    events.append(event)
                    guard reader.skipSpace() else { return nil }
                    if reader.peek() == UInt8(ascii: ",") { reader.index += 1; continue }
                    guard reader.expect(UInt8(ascii: "]")) else { return nil }
                    break
                }
            }
            guard reader.expect(UInt8(ascii: "}")), reader.atEnd() else { return nil }
            return events
        }
        reader.index = start
        guard let event = reader.event(), reader.atEnd() else { return nil }
        return [event]
    }
}

/// A cursor over a JSON body for `fastEvents`: every method returns nil (or false) where the plain shape ends.
private struct FastReader {
    let bytes: [UInt8]
    var index = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    /// Skips whitespace; false at the end of the body.
    mutating func skipSpace() -> Bool {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return true
            }
        }
        return false
    }

    mutating func expect(_ byte: UInt8) -> Bool {
        guard skipSpace(), bytes[index] == byte else { return false }
        index += 1
        return true
    }

    mutating func atEnd() -> Bool { !skipSpace() }

    /// A string's bytes, without escapes or control characters (those are the decoder's).
    mutating func rawString() -> ArraySlice<UInt8>? {
        guard skipSpace(), bytes[index] == UInt8(ascii: "\"") else { return nil }
        let start = index + 1
        var i = start
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                index = i + 1
                return bytes[start..<i]
            }
            if b == UInt8(ascii: "\\") || b < 0x20 { return nil }
            i += 1
        }
        return nil
    }

    /// A string without escapes or control characters, in valid UTF-8.
    mutating func string() -> String? {
        rawString().flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// `null`: true, and the cursor after it.
    mutating func null() -> Bool {
        guard skipSpace(), index + 4 <= bytes.count, bytes[index] == UInt8(ascii: "n"), bytes[index + 1] == UInt8(ascii: "u"),
              bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l") else { return false }
        index += 4
        return true
    }

    /// A whole number of at most 18 digits, without fraction or exponent.
    mutating func int() -> Int? {
        guard skipSpace() else { return nil }
        var i = index
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var value = 0, digits = 0
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            guard digits < 18 else { return nil }
            value = value * 10 + Int(bytes[i] - UInt8(ascii: "0"))
            digits += 1
            i += 1
        }
        guard digits > 0, !(digits > 1 && bytes[negative ? index + 1 : index] == UInt8(ascii: "0")) else { return nil }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") || bytes[i] | 0x20 == UInt8(ascii: "e") { return nil }
        index = i
        return negative ? -value : value
    }

    /// `2026-11-27T10:00:00Z` exactly, from 1970 on and without a leap second: anything else is left to the decoder.
    mutating func date() -> Date? {
        guard let b = rawString(), b.count == 20, !b.prefix(4).lexicographicallyPrecedes(Self.epochYear),
              b[b.startIndex + 17] < UInt8(ascii: "6") else { return nil }
        return CompactUTC.parse(b, .extended)
    }

    private static let epochYear = Array("1970".utf8)

    /// Reads an object's members, calling `member` with each key; nil when a member is refused, a key repeats, or
    /// the object is not well formed.
    mutating func object(_ member: (inout FastReader, String) -> Bool) -> Bool {
        guard expect(UInt8(ascii: "{")) else { return false }
        guard skipSpace() else { return false }
        if bytes[index] == UInt8(ascii: "}") { index += 1; return true }
        var seen: Set<String> = []
        while true {
            guard let key = string(), seen.insert(key).inserted, expect(UInt8(ascii: ":")), member(&self, key) else { return false }
            guard skipSpace() else { return false }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            guard bytes[index] == UInt8(ascii: "}") else { return false }
            index += 1
            return true
        }
    }

    /// An optional string member: the string, or nil for `null`.
    mutating func optionalString(_ out: inout String?) -> Bool {
        if null() { out = nil; return true }
        guard let s = string() else { return false }
        out = s
        return true
    }

    mutating func optionalInt(_ out: inout Int?) -> Bool {
        if null() { out = nil; return true }
        guard let n = int() else { return false }
        out = n
        return true
    }

    mutating func event() -> NativeProtocol.Event? {
        var eventId: String?, type: CallEventKind?, callId: String?, related: String?, occurredAt: Date?, sequence: Int?
        var direction: CallDirection?, client: String?, line: String?, employee: NativeProtocol.Employee?, group: String?
        var final: NativeProtocol.Final?, recording: String?, rating: Int?
        let read = object { r, key in
            switch key {
            case "event_id": eventId = r.string(); return eventId != nil
            case "type": type = r.string().flatMap(CallEventKind.init(rawValue:)); return type != nil
            case "call_id": callId = r.string(); return callId != nil
            case "related_call_id": return r.optionalString(&related)
            case "occurred_at": occurredAt = r.date(); return occurredAt != nil
            case "sequence": return r.optionalInt(&sequence)
            case "direction":
                if r.null() { return true }
                direction = r.string().flatMap(CallDirection.init(rawValue:))
                return direction != nil
            case "client_number": return r.optionalString(&client)
            case "line_number": return r.optionalString(&line)
            case "group": return r.optionalString(&group)
            case "recording_url": return r.optionalString(&recording)
            case "rating": return r.optionalInt(&rating)
            case "employee":
                if r.null() { return true }
                employee = r.employee()
                return employee != nil
            case "final":
                if r.null() { return true }
                final = r.final()
                return final != nil
            default: return false
            }
        }
        guard read, let eventId, let type, let callId, let occurredAt else { return nil }
        return NativeProtocol.Event(event_id: eventId, type: type, call_id: callId, related_call_id: related, occurred_at: occurredAt,
                                    sequence: sequence, direction: direction, client_number: client, line_number: line,
                                    employee: employee, group: group, final: final, recording_url: recording, rating: rating)
    }

    mutating func employee() -> NativeProtocol.Employee? {
        var login: String?, ext: String?
        let read = object { r, key in
            switch key {
            case "login": login = r.string(); return login != nil
            case "extension": return r.optionalString(&ext)
            default: return false
            }
        }
        guard read, let login else { return nil }
        return NativeProtocol.Employee(login: login, extension: ext)
    }

    mutating func final() -> NativeProtocol.Final? {
        var status: CallResult?, startedAt: Date?, duration: Int?, wait: Int?, employee: String?
        let read = object { r, key in
            switch key {
            case "status": status = r.string().flatMap(CallResult.init(rawValue:)); return status != nil
            case "started_at":
                if r.null() { return true }
                startedAt = r.date()
                return startedAt != nil
            case "duration_sec": return r.optionalInt(&duration)
            case "wait_sec": return r.optionalInt(&wait)
            case "employee": return r.optionalString(&employee)
            default: return false
            }
        }
        guard read, let status else { return nil }
        return NativeProtocol.Final(status: status, started_at: startedAt, duration_sec: duration, wait_sec: wait, employee: employee)
    }
}
