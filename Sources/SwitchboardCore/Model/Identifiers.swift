import Foundation

public enum Identifier {
    /// A new random identifier with a short prefix telling what it names (`ten_…`, `cred_…`).
    public static func make(_ prefix: String) -> String {
        prefix + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
    }
}
