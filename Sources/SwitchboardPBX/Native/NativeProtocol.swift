import Foundation
import SwitchboardCore
import SwitchboardStorage

/// Switchboard's own JSON webhook protocol for any PBX: signed with HMAC-SHA256, one event or a batch
/// per request, `event_id` for idempotency, and a synchronous routing request with an explicit deadline.
///
/// Signature: `X-Switchboard-Timestamp: <unix seconds>` and
/// `X-Switchboard-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`.
public enum NativeProtocol {
    public static let signatureHeader = "X-Switchboard-Signature"
    public static let timestampHeader = "X-Switchboard-Timestamp"
    /// Requests older or newer than this are refused (replays).
    public static let maxSkew: TimeInterval = 300

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public let status: Int
        public let message: String
        public var description: String { message }
        public init(_ status: Int, _ message: String) {
            self.status = status
            self.message = message
        }
    }

    public static func sign(body: [UInt8], secret: String, timestamp: Int) -> String {
        "sha256=" + Hashing.hmacSHA256Hex(key: secret, message: [Array("\(timestamp).".utf8), body])
    }

    public static func verify(body: [UInt8], secret: String, timestamp: String?, signature: String?,
                              now: Date = Date()) throws(Problem) {
        guard let timestamp, let ts = Int(timestamp) else { throw Problem(401, "\(timestampHeader) header is missing") }
        guard let signature else { throw Problem(401, "\(signatureHeader) header is missing") }
        guard abs(now.timeIntervalSince1970 - Double(ts)) <= maxSkew else {
            throw Problem(401, "timestamp is more than \(Int(maxSkew)) s away from Switchboard's clock")
        }
        guard Hashing.constantTimeEquals(sign(body: body, secret: secret, timestamp: ts), signature) else {
            throw Problem(401, "signature does not match")
        }
    }

    public struct Employee: Codable, Sendable {
        public var login: String
        public var `extension`: String?
        public init(login: String, extension: String? = nil) {
            self.login = login
            self.extension = `extension`
        }
    }

    public struct Final: Codable, Sendable {
        public var status: CallResult
        public var started_at: Date?
        public var duration_sec: Int?
        public var wait_sec: Int?
        public var employee: String?
        public init(status: CallResult, started_at: Date? = nil, duration_sec: Int? = nil, wait_sec: Int? = nil,
                    employee: String? = nil) {
            self.status = status
            self.started_at = started_at
            self.duration_sec = duration_sec
            self.wait_sec = wait_sec
            self.employee = employee
        }
    }

    /// One event on the wire.
    public struct Event: Codable, Sendable {
        public var event_id: String
        public var type: CallEventKind
        public var call_id: String
        public var related_call_id: String?
        public var occurred_at: Date
        public var sequence: Int?
        public var direction: CallDirection?
        public var client_number: String?
        public var line_number: String?
        public var employee: Employee?
        public var group: String?
        public var final: Final?
        public var recording_url: String?
        public var rating: Int?

        public init(event_id: String, type: CallEventKind, call_id: String, related_call_id: String? = nil,
                    occurred_at: Date, sequence: Int? = nil, direction: CallDirection? = nil, client_number: String? = nil,
                    line_number: String? = nil, employee: Employee? = nil, group: String? = nil, final: Final? = nil,
                    recording_url: String? = nil, rating: Int? = nil) {
            self.event_id = event_id
            self.type = type
            self.call_id = call_id
            self.related_call_id = related_call_id
            self.occurred_at = occurred_at
            self.sequence = sequence
            self.direction = direction
            self.client_number = client_number
            self.line_number = line_number
            self.employee = employee
            self.group = group
            self.final = final
            self.recording_url = recording_url
            self.rating = rating
        }

        public var callEvent: CallEvent {
            CallEvent(key: "id:" + event_id, kind: type, providerType: type.rawValue, externalCallId: call_id,
                      relatedExternalId: related_call_id, occurredAt: occurred_at, occurredAtIsProviderTime: true,
                      direction: direction, clientNumberRaw: client_number, lineNumber: line_number,
                      employeeLogin: employee?.login, extension_: employee?.extension, group: group,
                      final: final.map { CallFinal(status: $0.status.rawValue, result: $0.status, startedAt: $0.started_at,
                                                   durationSec: $0.duration_sec, waitSec: $0.wait_sec, employeeLogin: $0.employee) },
                      recordingURL: recording_url, rating: rating, sequence: sequence)
        }
    }

    struct Batch: Decodable { var events: [Event] }
    static let eventsKey = Array("\"events\"".utf8)

    /// A body is one event object or `{"events": [...]}` (at most 1000).
    public static func events(body: [UInt8], now: Date = Date()) throws(Problem) -> [Event] {
        var events: [Event]
        if let fast = fastEvents(body) { events = fast } else { events = try decodedEvents(body) }
        guard events.count <= 1000 else { throw Problem(413, "at most 1000 events per request") }
        for e in events { try validate(e, now: now) }
        return events
    }

    /// The events as the generic decoder reads them, with its reasons for what it cannot read.
    static func decodedEvents(_ body: [UInt8]) throws(Problem) -> [Event] {
        let data = Data(body)
        let decoder = JSON.decoder
        // A body without the word is read as one event first (a batch whose key is written with escapes is tried
        // after that fails).
        let namesEvents = body.firstRange(of: Self.eventsKey) != nil
        if namesEvents, let batch = try? decoder.decode(Batch.self, from: data) {
            return batch.events
        }
        do {
            return [try decoder.decode(Event.self, from: data)]
        } catch {
            if !namesEvents, let batch = try? decoder.decode(Batch.self, from: data) { return batch.events }
            throw problem(error)
        }
    }

    /// The decoder's reason for refusing an event, in the protocol's words.
    static func problem(_ error: any Error) -> Problem {
        switch error {
        case DecodingError.keyNotFound(let key, _):
            return Problem(400, "field \(key.stringValue) is required")
        case DecodingError.dataCorrupted(let ctx):
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            return Problem(400, path.isEmpty ? "the body is not valid JSON" : "field \(path) is invalid")
        case DecodingError.typeMismatch(_, let ctx):
            return Problem(400, "field \(ctx.codingPath.map(\.stringValue).joined(separator: ".")) has the wrong type")
        default:
            return Problem(400, "the body is not an event: \(error)")
        }
    }

    static func validate(_ e: Event, now: Date) throws(Problem) {
        if e.event_id.isEmpty { throw Problem(400, "event_id must not be empty") }
        if e.call_id.isEmpty { throw Problem(400, "call_id must not be empty") }
        let event = e.callEvent
        if let why = PlausibleTimes.problem(occurredAt: event.occurredAt, final: event.final, now: now) {
            throw Problem(400, "event \(e.event_id): \(why)")
        }
        switch e.type {
        case .legRinging, .legAnswered, .legEnded, .transferred:
            if e.employee == nil { throw Problem(400, "\(e.type.rawValue) needs employee") }
        case .finalized:
            if e.final == nil { throw Problem(400, "call.finalized needs final") }
        case .rated:
            if e.rating == nil { throw Problem(400, "call.rated needs rating") }
        case .recordingReady:
            if e.recording_url == nil { throw Problem(400, "recording.ready needs recording_url") }
        case .callEnded: break
        }
    }

    /// The synchronous routing request.
    public struct RoutingRequest: Codable, Sendable {
        public var call_id: String?
        public var client_number: String
        public var line_number: String?
        /// How long the PBX will wait, in milliseconds; Switchboard answers within it.
        public var deadline_ms: Int?
        public init(call_id: String?, client_number: String, line_number: String?, deadline_ms: Int?) {
            self.call_id = call_id
            self.client_number = client_number
            self.line_number = line_number
            self.deadline_ms = deadline_ms
        }
    }

    public struct RoutingAnswer: Codable, Sendable, Equatable {
        /// `employee` or `no_preference`.
        public var decision: String
        public var employee: Employee?
        public var crm_user_id: String?
        public var contact_name: String?
        public var reason: String

        public init(decision: String, employee: Employee?, crm_user_id: String?, contact_name: String?, reason: String) {
            self.decision = decision
            self.employee = employee
            self.crm_user_id = crm_user_id
            self.contact_name = contact_name
            self.reason = reason
        }
    }
}

extension NativeProtocol.Employee: Equatable {}
