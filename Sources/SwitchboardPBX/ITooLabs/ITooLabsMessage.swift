import Crypto
import Foundation
import SwitchboardCore
import SwitchboardStorage

/// A request from an ITooLabs-based PBX (MegaFon, Gravitel, Dom.ru, Kcell, Moldcell, …) to its "CRM".
/// Switchboard is that CRM endpoint: `cmd=event|history|contact|rating` with `crm_token`, form or JSON.
public enum ITooLabsMessage: Sendable, Equatable {
    case event(CallEvent)
    /// `cmd=contact`: who is this caller and who is their manager.
    case contact(phone: String, callId: String?, diversion: String?)
}

public struct ITooLabsError: Error, Equatable, CustomStringConvertible {
    public let status: Int
    public let message: String
    public var description: String { message }

    static func invalid(_ why: String) -> ITooLabsError { ITooLabsError(status: 400, message: "Invalid parameters: \(why)") }
    public static let invalidToken = ITooLabsError(status: 401, message: "Invalid token")
}

public enum ITooLabsAdapter {
    /// Reads the body as form fields or, when it looks like JSON, as a JSON object.
    public static func fields(body: [UInt8], contentType: String?) throws(ITooLabsError) -> [String: String] {
        let text = String(decoding: ASCII.trimmed(body), as: UTF8.self)
        if contentType.map({ ASCII.contains($0, "json") }) == true || text.utf8.first == UInt8(ascii: "{") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw .invalid("the body is not a JSON object")
            }
            var out: [String: String] = [:]
            for (k, v) in object {
                switch v {
                case let s as String: out[k] = s
                case let n as NSNumber: out[k] = n.stringValue
                case is NSNull: continue
                default: out[k] = "\(v)"
                }
            }
            return out
        }
        return FormURLEncoding.decode(text)
    }

    /// Translates the fields of one request. `receivedAt` stands in for the time ITooLabs does not send.
    public static func message(_ f: [String: String], receivedAt: Date) throws(ITooLabsError) -> ITooLabsMessage {
        guard let cmd = f["cmd"], !cmd.isEmpty else { throw .invalid("cmd is missing") }
        switch cmd {
        case "contact":
            guard let phone = f["phone"], !phone.isEmpty else { throw .invalid("phone is missing") }
            return .contact(phone: phone, callId: f["callid"], diversion: f["diversion"])
        case "event":
            return .event(try event(f, receivedAt: receivedAt))
        case "history":
            return .event(try history(f, receivedAt: receivedAt))
        case "rating":
            guard let callId = f["callid"], !callId.isEmpty else { throw .invalid("callid is missing") }
            guard let rating = f["rating"].flatMap({ Int($0) }) else { throw .invalid("rating is not a number") }
            return .event(CallEvent(key: key(f), kind: .rated, providerType: "rating", externalCallId: callId,
                                    occurredAt: receivedAt, clientNumberRaw: f["phone"], employeeLogin: f["user"].nonEmpty,
                                    extension_: f["ext"].nonEmpty, rating: rating))
        default:
            throw .invalid("unknown cmd \(cmd)")
        }
    }

    static func event(_ f: [String: String], receivedAt: Date) throws(ITooLabsError) -> CallEvent {
        guard let callId = f["callid"], !callId.isEmpty else { throw .invalid("callid is missing") }
        guard let type = f["type"]?.uppercased(), !type.isEmpty else { throw .invalid("type is missing") }
        let kind: CallEventKind
        var direction = f["direction"].flatMap(Self.direction)
        switch type {
        case "INCOMING": kind = .legRinging; direction = direction ?? .inbound
        case "OUTGOING": kind = .legRinging; direction = direction ?? .outbound
        case "ACCEPTED": kind = .legAnswered
        case "COMPLETED", "CANCELLED": kind = .legEnded
        case "TRANSFERRED": kind = .transferred
        default: throw .invalid("unknown event type \(type)")
        }
        return CallEvent(key: key(f), kind: kind, providerType: type, externalCallId: callId,
                         relatedExternalId: f["second_callid"].nonEmpty, occurredAt: receivedAt, direction: direction,
                         clientNumberRaw: f["phone"].nonEmpty, lineNumber: f["diversion"].nonEmpty,
                         employeeLogin: f["user"].nonEmpty, extension_: f["ext"].nonEmpty, group: f["groupRealName"].nonEmpty)
    }

    static func history(_ f: [String: String], receivedAt: Date) throws(ITooLabsError) -> CallEvent {
        guard let callId = f["callid"], !callId.isEmpty else { throw .invalid("callid is missing") }
        guard let status = f["status"], !status.isEmpty else { throw .invalid("status is missing") }
        let start = f["start"].flatMap(parseTime)
        if let s = f["start"], !s.isEmpty, start == nil { throw .invalid("start is not YYYYmmddTHHMMSSZ") }
        let duration = f["duration"].flatMap { Int($0) }
        if let d = f["duration"], !d.isEmpty, duration == nil { throw .invalid("duration is not a number") }
        let wait = f["wait"].flatMap { Int($0) }
        if let w = f["wait"], !w.isEmpty, wait == nil { throw .invalid("wait is not a number") }
        let final = CallFinal(status: status, result: result(status), startedAt: start, durationSec: duration,
                              waitSec: wait, employeeLogin: f["user"].nonEmpty)
        if let why = PlausibleTimes.problem(final: final, now: receivedAt) { throw .invalid(why) }
        return CallEvent(key: key(f), kind: .finalized, providerType: "history", externalCallId: callId,
                         occurredAt: receivedAt, direction: f["type"].flatMap(Self.direction),
                         clientNumberRaw: f["phone"].nonEmpty, lineNumber: f["diversion"].nonEmpty,
                         employeeLogin: f["user"].nonEmpty, extension_: f["ext"].nonEmpty,
                         group: f["groupRealName"].nonEmpty, final: final, recordingURL: f["link"].nonEmpty,
                         rating: f["rating"].flatMap { Int($0) })
    }

    static func direction(_ s: String) -> CallDirection? {
        switch s.lowercased() {
        case "in", "incoming": return .inbound
        case "out", "outgoing": return .outbound
        case "internal": return .internal
        default: return nil
        }
    }

    /// History statuses; `Cancel` and `NotFound` come from a summary of the ITooLabs document.
    public static func result(_ status: String) -> CallResult {
        switch status.lowercased() {
        case "success": return .answered
        case "missed": return .missed
        case "busy": return .busy
        case "notavailable": return .noAnswer
        case "notallowed": return .notAllowed
        case "cancel": return .cancelled
        case "notfound": return .notFound
        default: return .failed
        }
    }

    /// `YYYYmmddTHHMMSSZ`, UTC.
    public static func parseTime(_ s: String) -> Date? {
        CompactUTC.parse(s)
    }

    public static func formatTime(_ d: Date) -> String {
        CompactUTC.format(d)
    }

    /// ITooLabs sends no event id: a hash of the canonical fields (key order does not matter; the token is left out).
    public static func key(_ f: [String: String]) -> String {
        let canonical = f.filter { $0.key != "crm_token" && $0.key != "token" }
            .sorted { $0.key < $1.key }
            .map { "\($0.key)=\($0.value)" }
            .joined(separator: "\n")
        return "h:" + Hashing.hex(SHA256.hash(data: Array(canonical.utf8)).prefix(16))
    }
}

extension Optional where Wrapped == String {
    var nonEmpty: String? {
        guard let s = self.map(ASCII.trimmed), !s.isEmpty else { return nil }
        return s
    }
}
