import Foundation
import Testing
import SwitchboardCore
@testable import SwitchboardPBX
@testable import SwitchboardStorage

/// The hand-written JSON of the values written on every PBX event is the encoder's, byte for byte, on random values:
/// every optional present or absent, text with quotes, slashes, control characters and non-ASCII letters, dates with
/// fractions of a second, before 1970 and far ahead.
@Suite("JSON written by hand: the call, its event, the job payload and the native answer, as the encoder writes them")
struct JSONWriterTests {
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance() -> Bool { below(2) == 0 }

        static let pieces = ["a", "Z", "7", "+7 (916) 123-45-67", "\"", "\\", "/", "\n", "\r", "\t", "\u{0}", "\u{1}",
                             "\u{8}", "\u{c}", "\u{1f}", "\u{7f}", "Иван", "é", "😀", " ", "{}", "https://rec.example/a?b=c&d"]

        mutating func text() -> String { (0..<below(6)).map { _ in Self.pieces[below(Self.pieces.count)] }.joined() }
        mutating func maybeText() -> String? { chance() ? text() : nil }
        mutating func maybeInt() -> Int? { chance() ? below(100_000) - 50 : nil }
        mutating func date() -> Date {
            // From 1900 to 2200, with a fraction of a second.
            Date(timeIntervalSince1970: Double(below(9_500_000_000)) - 2_208_988_800 + Double(below(1000)) / 1000)
        }
        mutating func maybeDate() -> Date? { chance() ? date() : nil }
        mutating func pick<T: CaseIterable>(_ type: T.Type) -> T { let all = Array(T.allCases); return all[below(all.count)] }

        mutating func final() -> CallFinal {
            CallFinal(status: text(), result: pick(CallResult.self), startedAt: maybeDate(), durationSec: maybeInt(),
                      waitSec: maybeInt(), employeeLogin: maybeText())
        }

        mutating func call() -> Call {
            var call = Call(id: text(), tenantId: text(), pbxConnectionId: text(), externalIds: (0..<below(3)).map { _ in text() },
                            createdAt: date())
            call.direction = pick(CallDirection.self)
            call.client = chance() ? PhoneNumber(e164: maybeText(), raw: text()) : nil
            call.lineNumber = maybeText()
            call.state = pick(CallState.self)
            call.legs = (0..<below(3)).map { _ in
                var leg = Leg(id: text(), employeeLogin: maybeText(), extension_: maybeText(), group: maybeText(),
                              state: [LegState.ringing, .connected, .ended][below(3)], startedAt: date(),
                              answeredAt: maybeDate(), endedAt: maybeDate(), endReason: maybeText())
                leg.segment = maybeText()
                return leg
            }
            call.talkers = (0..<below(3)).map { _ in text() }
            call.answeredAt = maybeDate()
            call.endedAt = maybeDate()
            call.final = chance() ? final() : nil
            call.recordingURL = maybeText()
            call.rating = maybeInt()
            call.origin = text()
            call.transferPending = chance()
            call.transfers = (0..<below(3)).map { _ in [text(), text()] }
            return call
        }

        mutating func event() -> CallEvent {
            CallEvent(key: text(), kind: [.legRinging, .legAnswered, .legEnded, .transferred, .callEnded][below(5)],
                      providerType: text(), externalCallId: text(), relatedExternalId: maybeText(), occurredAt: date(),
                      occurredAtIsProviderTime: chance(), direction: chance() ? pick(CallDirection.self) : nil,
                      clientNumberRaw: maybeText(), lineNumber: maybeText(), employeeLogin: maybeText(),
                      extension_: maybeText(), group: maybeText(), final: chance() ? final() : nil,
                      recordingURL: maybeText(), rating: maybeInt(), sequence: maybeInt())
        }
    }

    @Test("dates at the edges: before and after the Gregorian cutover, 1970, the last second of 9999 and past it")
    func edgeDates() throws {
        for text in ["1500-01-01T00:00:00Z", "1582-10-14T12:00:00Z", "1582-10-15T00:00:00Z", "1582-12-31T23:59:59Z",
                     "1583-01-01T00:00:00Z", "1969-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2024-02-29T12:34:56Z",
                     "9999-12-31T23:59:59Z"] {
            let date = try #require(try? JSON.decoder.decode(Date.self, from: Data("\"\(text)\"".utf8)), "\(text)")
            var call = Call(id: "c", tenantId: "t", pbxConnectionId: "p", externalIds: [], createdAt: date)
            call.endedAt = date.addingTimeInterval(0.75)
            #expect(JSON.written(call) == JSON.string(call), "\(text)")
        }
        for seconds in [-62_135_596_800.0, 253_402_300_800, 400_000_000_000] {
            let call = Call(id: "c", tenantId: "t", pbxConnectionId: "p", externalIds: [], createdAt: Date(timeIntervalSince1970: seconds))
            #expect(JSON.written(call) == JSON.string(call), "\(seconds)")
        }
    }

    @Test("500 random calls, events, stored events, job payloads and answers: the same bytes as the encoder's, and read back equal")
    func sameAsTheEncoder() throws {
        var random = Random(state: 0x5eed_1234)
        for _ in 0..<500 {
            let call = random.call()
            #expect(JSON.written(call) == JSON.string(call))
            let read = try JSON.decode(Call.self, from: JSON.written(call))
            #expect(read.id == call.id && read.legs.count == call.legs.count && read.final?.status == call.final?.status)
            #expect(Int(read.createdAt.timeIntervalSince1970) == Int(call.createdAt.timeIntervalSince1970.rounded(.down)))

            let event = random.event()
            #expect(JSON.written(event) == JSON.string(event))
            let stored = CallStore.StoredEvent(event: event, raw: random.text())
            #expect(JSON.written(stored) == JSON.string(stored))

            let payload = CallJobPayload(callId: random.text(), integrationId: random.text(), employeeLogin: random.maybeText())
            #expect(JSON.written(payload) == JSON.string(payload))
            #expect(try JSON.decode(CallJobPayload.self, from: JSON.written(payload)) == payload)

            let ack = NativeProtocol.Ack(accepted: random.below(5), duplicates: random.below(5), calls: (0..<random.below(3)).map { _ in random.text() })
            #expect(try InboundResponse.json(ack).json == Array(JSON.encoder.encode(ack)))
        }
    }
}
