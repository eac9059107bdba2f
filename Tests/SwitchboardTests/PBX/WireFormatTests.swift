import Foundation
import Testing
import SwitchboardCore

@Suite("Wire formats: form bodies and ITooLabs times")
struct WireFormatTests {
    @Test("form bodies decode +, %XX and UTF-8; malformed escapes stay as written")
    func form() {
        let f = FormURLEncoding.decode("cmd=event&type=INCOMING&phone=%2B7+916+555&name=%D0%9E%D0%BB%D1%8C%D0%B3%D0%B0&bad=100%&odd=%zz1&empty=&flag")
        #expect(f["phone"] == "+7 916 555")
        #expect(f["name"] == "Ольга")
        #expect(f["bad"] == "100%" && f["odd"] == "%zz1")
        #expect(f["empty"] == "" && f["flag"] == "")
        // What encode writes, decode reads back.
        let fields = ["a b": "c&d=e", "ru": "Привет, мир!", "plus": "+1%2"]
        #expect(FormURLEncoding.decode(FormURLEncoding.encode(fields)) == fields)
    }

    @Test("ITooLabs times: parsed and written by hand the same as a DateFormatter would")
    func compactTimes() {
        let reference = DateFormatter()
        reference.locale = Locale(identifier: "en_US_POSIX")
        reference.timeZone = TimeZone(identifier: "UTC")
        reference.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            // 1901…2099, whole seconds.
            let date = Date(timeIntervalSince1970: TimeInterval(Int64.random(in: -2_177_452_800...4_102_444_799, using: &rng)))
            let text = reference.string(from: date)
            #expect(CompactUTC.format(date) == text)
            #expect(CompactUTC.parse(text) == date)
        }
        #expect(CompactUTC.parse("20240229T235959Z") == reference.date(from: "20240229T235959Z"))
        for bad in ["20230229T120000Z", "20231301T000000Z", "2023-01-01T00:00:00Z", "20230101T250000Z", "20230101T000000", ""] {
            #expect(CompactUTC.parse(bad) == nil, "\(bad) accepted")
        }
    }
}
