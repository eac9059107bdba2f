import Foundation

/// `YYYYMMDDTHHMMSSZ` (ISO 8601 basic format, UTC), as ITooLabs writes times; parsed and written by hand,
/// since a `DateFormatter` costs more to make than an event costs to store.
public enum CompactUTC {
    public static func parse(_ s: String) -> Date? {
        parse(Array(s.utf8)[...], .basic)
    }

    /// Where a layout's fields are: `YYYYMMDDTHHMMSSZ`, or `YYYY-MM-DDTHH:MM:SSZ` (ISO 8601 extended).
    public struct Layout: Sendable {
        let length: Int, year: Int, month: Int, day: Int, t: Int, hour: Int, minute: Int, second: Int
        /// Separators: position and byte.
        let separators: [(Int, UInt8)]

        public static let basic = Layout(length: 16, year: 0, month: 4, day: 6, t: 8, hour: 9, minute: 11, second: 13,
                                         separators: [])
        public static let extended = Layout(length: 20, year: 0, month: 5, day: 8, t: 10, hour: 11, minute: 14, second: 17,
                                            separators: [(4, UInt8(ascii: "-")), (7, UInt8(ascii: "-")),
                                                         (13, UInt8(ascii: ":")), (16, UInt8(ascii: ":"))])
    }

    /// A UTC time in `layout`, from its bytes; nil when it is not one (a field out of range, a day the month lacks).
    public static func parse(_ bytes: ArraySlice<UInt8>, _ layout: Layout) -> Date? {
        guard bytes.count == layout.length else { return nil }
        let base = bytes.startIndex
        func at(_ i: Int) -> UInt8 { bytes[base + i] }
        guard at(layout.t) == UInt8(ascii: "T"), at(layout.length - 1) == UInt8(ascii: "Z"),
              layout.separators.allSatisfy({ at($0.0) == $0.1 }) else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for i in from..<(from + len) {
                let d = Int(at(i)) - 48
                guard (0...9).contains(d) else { return nil }
                v = v * 10 + d
            }
            return v
        }
        guard let y = num(layout.year, 4), let mo = num(layout.month, 2), let d = num(layout.day, 2),
              let h = num(layout.hour, 2), let mi = num(layout.minute, 2), let sec = num(layout.second, 2),
              (1...12).contains(mo), (1...daysIn(month: mo, year: y)).contains(d), h < 24, mi < 60, sec < 61 else { return nil }
        let seconds = days(year: y, month: mo, day: d) * 86_400 + h * 3600 + mi * 60 + sec
        return Date(timeIntervalSince1970: TimeInterval(seconds))
    }

    public static func format(_ date: Date) -> String {
        let t = Int(date.timeIntervalSince1970.rounded(.down))
        let dayCount = t >= 0 ? t / 86_400 : (t - 86_399) / 86_400
        let secs = t - dayCount * 86_400
        let (y, m, d) = civil(fromDays: dayCount)
        func pad(_ v: Int, _ n: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, n - s.count)) + s
        }
        return pad(y, 4) + pad(m, 2) + pad(d, 2) + "T" + pad(secs / 3600, 2) + pad(secs % 3600 / 60, 2) + pad(secs % 60, 2) + "Z"
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysIn(month m: Int, year y: Int) -> Int {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years, March-based years).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The inverse of `days(year:month:day:)`.
    static func civil(fromDays z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
