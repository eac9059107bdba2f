import Foundation
import SwitchboardCore
import SwitchboardPBX

extension SimStep {
    /// An event of Switchboard's own protocol; the simulator signs it with the connection's key.
    public static func native(_ event: NativeProtocol.Event) -> SimStep {
        SimStep(isFinal: event.type == .finalized, payload: event) { connectionId, secret in
            NativeScenarios.signed("/pbx/events/\(connectionId)", body: Array(try JSON.encoder.encode(event)), secret: secret)
        }
    }
}

extension ScenarioPlayer {
    /// The native protocol's routing request.
    public func askRoute(phone: String, deadlineMs: Int? = nil) async throws -> Reply {
        let request = NativeProtocol.RoutingRequest(call_id: UUID().uuidString, client_number: phone, line_number: nil,
                                                    deadline_ms: deadlineMs)
        return try await postSigned("/pbx/route/\(connectionId)", body: Array(try JSON.encoder.encode(request)))
    }

    /// A request of Switchboard's own protocol, signed with the connection's key.
    public func postSigned(_ path: String, body: [UInt8]) async throws -> Reply {
        let signed = NativeScenarios.signed(path, body: body, secret: secret)
        return try await post(signed.path, body: signed.body, headers: signed.headers)
    }
}

/// Scenarios in Switchboard's own protocol.
public enum NativeScenarios {
    /// An answered inbound call with provider times, a sequence and a final record.
    public static func answered(client: String = "+79101234580", line: String = "+74951234567", employee: String = "ivan",
                                talk: Int = 33) -> SimScenario {
        let id = "nat-" + UUID().uuidString.prefix(8).lowercased()
        let t0 = Date().addingTimeInterval(-Double(talk + 10))
        func e(_ n: Int, _ type: CallEventKind, _ at: TimeInterval, final: NativeProtocol.Final? = nil, rec: String? = nil) -> SimStep {
            .native(NativeProtocol.Event(event_id: "\(id)-\(n)", type: type, call_id: id, occurred_at: t0.addingTimeInterval(at),
                                         sequence: n, direction: .inbound, client_number: client, line_number: line,
                                         employee: type == .callEnded || type == .finalized || type == .recordingReady
                                             ? nil : .init(login: employee, extension: "101"),
                                         final: final, recording_url: rec))
        }
        return SimScenario(name: "answered (Switchboard protocol)", callId: id, steps: [
            e(1, .legRinging, 0), e(2, .legAnswered, 6), e(3, .legEnded, Double(6 + talk)), e(4, .callEnded, Double(6 + talk)),
            e(5, .finalized, Double(7 + talk), final: .init(status: .answered, started_at: t0, duration_sec: talk, wait_sec: 6)),
            e(6, .recordingReady, Double(9 + talk), rec: "https://pbx.example/rec/\(id).wav"),
        ], expected: SimExpectation(result: .answered, direction: .inbound, talkers: [employee], legs: 1, talkSec: talk,
                                    recording: true))
    }
}

extension NativeScenarios {
    /// `body` posted to `path` with the protocol's timestamp and signature headers.
    static func signed(_ path: String, body: [UInt8], secret: String) -> SimRequest {
        let ts = Int(Date().timeIntervalSince1970)
        return SimRequest(path: path, body: body, headers: [
            "Content-Type": "application/json",
            NativeProtocol.timestampHeader: String(ts),
            NativeProtocol.signatureHeader: NativeProtocol.sign(body: body, secret: secret, timestamp: ts),
        ])
    }
}
