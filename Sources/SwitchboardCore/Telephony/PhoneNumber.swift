import Foundation

/// A client's number: E.164 where it can be read as one, with the raw form as it came.
public struct PhoneNumber: Codable, Sendable, Hashable {
    /// `+79101234567`, or nil when the raw form is not a dialable public number (an extension, "anonymous").
    public var e164: String?
    public var raw: String

    public init(e164: String?, raw: String) {
        self.e164 = e164
        self.raw = raw
    }

    /// The last 10 digits: how amoCRM and others match numbers regardless of +7 / 8 / 7 prefixes.
    public var last10: String? {
        let digits = (e164 ?? raw).filter(\.isNumber)
        guard digits.count >= 10 else { return nil }
        return String(digits.suffix(10))
    }

    /// The digits without `+`, as ITooLabs wants them in commands.
    public var digits: String { (e164 ?? raw).filter(\.isNumber) }

    /// Reads a number as PBXs send it: `79101234567`, `+7 (910) 123-45-67`, `89101234567`, `9101234567`.
    /// `region` is the tenant's country (ISO alpha-2); national forms are read in it.
    public static func parse(_ raw: String, region: String = "RU") -> PhoneNumber {
        let trimmed = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        var digits = trimmed.filter(\.isNumber)
        let hadPlus = trimmed.hasPrefix("+")
        if trimmed.hasPrefix("00") && !hadPlus { digits = String(digits.dropFirst(2)); return make(digits, raw) }
        if hadPlus { return make(digits, raw) }
        guard let plan = NumberingPlan.plans[region.uppercased()] else { return make(digits, raw) }
        // National forms first: trunk prefix (8 in Russia) or the bare national number.
        if let trunk = plan.trunkPrefix, digits.count == plan.nationalLength + trunk.count, digits.hasPrefix(trunk) {
            return PhoneNumber(e164: "+" + plan.countryCode + digits.dropFirst(trunk.count), raw: raw)
        }
        if digits.count == plan.nationalLength {
            return PhoneNumber(e164: "+" + plan.countryCode + digits, raw: raw)
        }
        if digits.count == plan.nationalLength + plan.countryCode.count, digits.hasPrefix(plan.countryCode) {
            return PhoneNumber(e164: "+" + digits, raw: raw)
        }
        return make(digits, raw)
    }

    private static func make(_ digits: String, _ raw: String) -> PhoneNumber {
        // E.164 allows 8–15 digits with the country code; shorter strings are extensions or service numbers.
        (8...15).contains(digits.count) ? PhoneNumber(e164: "+" + digits, raw: raw) : PhoneNumber(e164: nil, raw: raw)
    }

    /// The form to show and store: E.164 when known.
    public var display: String { e164 ?? raw }
}

struct NumberingPlan {
    let countryCode: String
    let trunkPrefix: String?
    let nationalLength: Int

    static let plans: [String: NumberingPlan] = [
        "RU": NumberingPlan(countryCode: "7", trunkPrefix: "8", nationalLength: 10),
        "KZ": NumberingPlan(countryCode: "7", trunkPrefix: "8", nationalLength: 10),
        "BY": NumberingPlan(countryCode: "375", trunkPrefix: "80", nationalLength: 9),
        "UZ": NumberingPlan(countryCode: "998", trunkPrefix: nil, nationalLength: 9),
        "MD": NumberingPlan(countryCode: "373", trunkPrefix: "0", nationalLength: 8),
        "UA": NumberingPlan(countryCode: "380", trunkPrefix: "0", nationalLength: 9),
    ]
}
