import Foundation
import Testing
import SwitchboardCore

/// The byte-level helpers the PBX request path uses instead of Foundation's, held to Foundation's answers.
@Suite("Fast text helpers agree with Foundation")
struct FastTextTests {
    /// Strings with what JSON must escape, non-ASCII text, and white space at the ends.
    static func samples(seed: UInt64, count: Int) -> [String] {
        var rng = SeededRandom(seed: seed)
        let pieces = ["a", "Z", "0", " ", "\t", "\n", "\r", "\"", "\\", "/", "\u{01}", "\u{1F}", "\u{7F}", "я", "☎", "🙂", "=", "&", "%"]
        return (0..<count).map { _ in
            String((0..<Int(rng.next() % 12)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined())
        }
    }

    @Test("JSON.object reads back as the fields it was given, keys sorted like the encoder's")
    func objectRoundTrip() throws {
        let texts = Self.samples(seed: 42, count: 400)
        for i in stride(from: 0, to: texts.count - 8, by: 8) {
            var fields: [String: String] = [:]
            for j in 0..<4 { fields[texts[i + j] + "k\(j)"] = texts[i + 4 + j] }
            let written = JSON.object(fields)
            let read = try JSONSerialization.jsonObject(with: Data(written.utf8)) as? [String: String]
            #expect(read == fields, "\(written)")
            let keys = try JSON.decode([String: String].self, from: written).keys.sorted()
            #expect(keys == fields.keys.sorted())
        }
        #expect(JSON.object([:]) == "{}")
        #expect(JSON.object(["b": "1", "a": "x\"y"]) == #"{"a":"x\"y","b":"1"}"#)
    }

    @Test("ASCII.trimmed and ASCII.contains answer as Foundation does for ASCII white space and letters")
    func trimAndContains() {
        for text in Self.samples(seed: 7, count: 500) {
            let foundation = text.trimmingCharacters(in: CharacterSet(charactersIn: " \t\n\r\u{0B}\u{0C}"))
            #expect(ASCII.trimmed(text) == foundation, "\(Array(text.utf8))")
            #expect(String(decoding: ASCII.trimmed(Array(text.utf8)), as: UTF8.self) == foundation)
            for needle in ["a", "Z0", "я", "\"\\", ""] {
                #expect(ASCII.contains(text, needle) == (needle.isEmpty || text.lowercased().contains(needle.lowercased())),
                        "\(text) ∋ \(needle)")
            }
        }
        #expect(ASCII.contains("Application/JSON; charset=utf-8", "json"))
        #expect(!ASCII.contains("application/x-www-form-urlencoded", "json"))
    }

    @Test("ordered identifiers sort by the time they were made, never repeat, and keep the usual shape")
    func orderedIdentifiers() {
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let ids = (0..<5000).map { Identifier.ordered("call", at: start.addingTimeInterval(Double($0 / 10) / 1000)) }
        #expect(Set(ids).count == ids.count)
        let byTime = (0..<500).map { ids[$0 * 10] }
        #expect(zip(byTime, byTime.dropFirst()).allSatisfy { $0 < $1 }, "ids one millisecond apart sort in order")
        #expect(ids.allSatisfy { $0.wholeMatch(of: /call_[0-9a-f]{27}/) != nil })
        let random = (0..<5000).map { _ in Identifier.make("ten") }
        #expect(Set(random).count == random.count)
        #expect(random.allSatisfy { $0.wholeMatch(of: /ten_[0-9a-f]{20}/) != nil })
    }
}
