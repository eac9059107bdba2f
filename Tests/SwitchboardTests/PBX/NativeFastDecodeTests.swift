import Foundation
import Testing
import SwitchboardCore
@testable import SwitchboardPBX

/// The native protocol's plain-shape reader gives the decoder's events, or leaves the body to the decoder: on random
/// bodies written many ways (spaces, member order, nulls, escapes, unknown and repeated members, numbers with
/// fractions, other time forms, broken JSON), whatever it reads, the decoder reads the same.
@Suite("Native events read without the decoder: the same events as the decoder's, or left to it")
struct NativeFastDecodeTests {
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return state >> 11
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func chance(_ inN: Int = 2) -> Bool { below(inN) == 0 }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
        mutating func space() -> String { pick(["", "", " ", "\n  ", "\t"]) }

        mutating func text() -> String {
            if chance(4) == false { return pick(["\"abc-1\"", "\"Иван\"", "\"101\"", "\"\""]) }
            return pick(["\"abc-1\"", "\"Иван\"", "\"+7 916 123-45-67\"", "\"\"", "\"a\\\"b\"", "\"https:\\/\\/rec.example\\/1.mp3\"",
                  "\"https://rec.example/1.mp3\"", "\"\\u0041\"", "\"😀\""])
        }
        mutating func number() -> String {
            if chance(4) == false { return pick(["0", "7", "-3", "120"]) }
            return pick(["0", "7", "-3", "120", "015", "1.5", "2e3", "99999999999999999999", "\"5\""])
        }
        mutating func date() -> String {
            if chance(4) == false { return "\"2026-11-2\(below(10))T1\(below(10)):0\(below(10)):5\(below(10))Z\"" }
            return pick(["\"2026-11-27T10:00:00Z\"", "\"2026-11-27T10:00:00Z\"", "\"2026-11-27T10:00:00.250Z\"", "\"2026-11-27T13:00:00+03:00\"",
                  "\"2026-02-30T10:00:00Z\"", "\"1969-12-31T23:59:59Z\"", "\"2026-11-27T10:00:60Z\"", "\"yesterday\"", "1764237600"])
        }

        /// One member of an event: mostly right, sometimes of the wrong type, null or unknown.
        mutating func member(_ key: String) -> String {
            let value: String
            switch key {
            case "type": value = "\"" + pick(["leg.ringing", "leg.answered", "leg.ended", "call.ended", "call.finalized", "call.rated",
                                             "recording.ready", "call.transferred", "ringing"]) + "\""
            case "occurred_at": value = date()
            case "sequence", "rating": value = chance(4) ? "null" : number()
            case "direction": value = chance(4) ? "null" : "\"" + pick(["inbound", "outbound", "internal", "unknown", "sideways"]) + "\""
            case "employee":
                var parts = ["\"login\":\(space())\(text())"]
                if chance() { parts.append("\"extension\":" + (chance(3) ? "null" : text())) }
                if chance(8) { parts.append("\"name\":\"x\"") }
                value = chance(8) ? "null" : "{" + parts.shuffled(using: &self).joined(separator: ",") + "}"
            case "final":
                var parts = ["\"status\":\"" + pick(["answered", "missed", "busy", "no_answer", "weird"]) + "\""]
                if chance() { parts.append("\"started_at\":" + date()) }
                if chance() { parts.append("\"duration_sec\":" + number()) }
                if chance() { parts.append("\"wait_sec\":" + number()) }
                if chance() { parts.append("\"employee\":" + text()) }
                value = chance(8) ? "null" : "{" + parts.shuffled(using: &self).joined(separator: ",") + "}"
            default: value = chance(10) ? "null" : (chance(12) ? number() : text())
            }
            return "\(space())\"\(key)\"\(space()):\(space())\(value)\(space())"
        }

        mutating func event() -> String {
            var keys = ["event_id", "type", "call_id", "occurred_at"].filter { _ in !chance(20) }
            for optional in ["related_call_id", "sequence", "direction", "client_number", "line_number", "employee", "group",
                             "final", "recording_url", "rating"] where chance() {
                keys.append(optional)
            }
            if chance(15) { keys.append("unknown_field") }
            if chance(20), let repeated = keys.first { keys.append(repeated) }
            return "{" + keys.shuffled(using: &self).map { member($0) }.joined(separator: ",") + "}"
        }

        mutating func body() -> String {
            switch below(10) {
            case 0: return "{\(space())\"events\":\(space())[" + (0..<below(4)).map { _ in event() }.joined(separator: ",") + "]}"
            case 1: return String(event().dropLast(below(3)))
            default: return space() + event() + space()
            }
        }
    }

    @Test("3,000 random bodies: every body read without the decoder gives the decoder's events; the plain ones are read so")
    func sameAsTheDecoder() {
        var random = Random(state: 0xfa57_dec0de)
        var fast = 0
        for _ in 0..<3000 {
            let body = Array(random.body().utf8)
            guard let read = NativeProtocol.fastEvents(body) else { continue }
            fast += 1
            let decoded = try? NativeProtocol.decodedEvents(body)
            #expect(decoded?.map(\.callEvent) == read.map(\.callEvent), "\(String(decoding: body, as: UTF8.self))")
        }
        // The random bodies are often plain enough for the fast reader, so the comparison above is not empty.
        #expect(fast > 300)
    }

    @Test("edges: trailing data, other shapes, bad UTF-8, number and year limits, repeated members, an escaped key")
    func edges() throws {
        let event = #"{"event_id":"e1","type":"call.rated","call_id":"c1","occurred_at":"2026-11-27T10:00:00Z","rating":5}"#
        func fast(_ text: String) -> [NativeProtocol.Event]? { NativeProtocol.fastEvents(Array(text.utf8)) }
        // Left to the decoder: each guard of the fast reader is needed for one of these.
        for declined in [event + " x", event + event, "[" + event + "]", #"{"events":["# + event + #"],"more":1}"#,
                         event.replacingOccurrences(of: "\"rating\":5", with: "\"rating\":1234567890123456789"),
                         event.replacingOccurrences(of: "2026-11-27", with: "1900-11-27"),
                         event.replacingOccurrences(of: "2026-11-27T10:00:00Z", with: "2026-11-27T10:00:60Z"),
                         event.replacingOccurrences(of: "\"rating\":5", with: "\"rating\":05"),
                         event.replacingOccurrences(of: "\"rating\":5", with: "\"rating\":5,\"rating\":6"),
                         event.replacingOccurrences(of: "\"rating\":5", with: "\"rating\":5,\"employee\":{\"login\":\"a\",\"login\":\"b\"}"),
                         event.replacingOccurrences(of: "\"rating\":5", with: "\"rating\":5,\"final\":{\"status\":\"answered\",\"status\":\"missed\"}")] {
            #expect(fast(declined) == nil, "\(declined)")
        }
        var badUTF8 = Array(event.utf8)
        badUTF8.insert(0xFF, at: badUTF8.firstIndex(of: UInt8(ascii: "1"))!)
        #expect(NativeProtocol.fastEvents(badUTF8) == nil)
        // Read, and as the decoder reads them.
        for accepted in [event.replacingOccurrences(of: "\"rating\":5", with: "\"rating\":-0"),
                         event.replacingOccurrences(of: "\"rating\":5", with: "\"rating\":123456789012345678"),
                         " \n" + event + "\t "] {
            let read = try #require(fast(accepted), "\(accepted)")
            #expect(read.map(\.callEvent) == (try NativeProtocol.decodedEvents(Array(accepted.utf8))).map(\.callEvent))
        }
        // A batch whose key is written with an escape is still a batch.
        let escaped = #"{"\u0065vents":["# + event + "]}"
        #expect(fast(escaped) == nil)
        let events = try NativeProtocol.events(body: Array(escaped.utf8), now: Date(timeIntervalSince1970: 1_795_780_800))
        #expect(events.map(\.event_id) == ["e1"])
    }

    @Test("what a PBX usually sends is read without the decoder")
    func plainBodies() throws {
        let one = #"{"event_id":"e1","type":"leg.ringing","call_id":"c1","occurred_at":"2026-11-27T10:00:00Z","direction":"inbound","client_number":"+79161234567","line_number":"74950000000","employee":{"login":"anna","extension":"101"}}"#
        let read = try #require(NativeProtocol.fastEvents(Array(one.utf8)))
        #expect(read.map(\.callEvent) == (try NativeProtocol.decodedEvents(Array(one.utf8))).map(\.callEvent))
        let batch = #"{"events": [{"event_id":"e2","type":"call.finalized","call_id":"c1","occurred_at":"2026-11-27T10:05:00Z","final":{"status":"answered","duration_sec":280,"wait_sec":12,"employee":"anna"}}, "# +
            #"{"event_id":"e3","type":"call.rated","call_id":"c1","occurred_at":"2026-11-27T10:06:00Z","rating":5}]}"#
        let events = try #require(NativeProtocol.fastEvents(Array(batch.utf8)))
        #expect(events.count == 2 && events[0].final?.duration_sec == 280 && events[1].rating == 5)
        #expect(events.map(\.callEvent) == (try NativeProtocol.decodedEvents(Array(batch.utf8))).map(\.callEvent))
    }
}
