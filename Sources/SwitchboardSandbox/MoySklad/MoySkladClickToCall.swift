import Crypto
import Foundation

/// The `Lognex-Content-MD5` header MoySklad puts on a click-to-call post to the "Адрес провайдера телефонии".
///
/// UNCONFIRMED: MoySklad describes it only as "MD5 от конкатенации ключа доступа и значений параметров запроса"; the
/// order, separators and encoding are not published, and the published example (802EFD4A…) matches none of the obvious
/// concatenations of its own example key and body. This is the best guess, kept in this one place: the access key, then
/// srcNumber, destNumber and uid in the order the body lists them, no separators, UTF-8, MD5 in upper-case hex.
/// docs/sandboxes/moysklad.md carries the same flag.
public enum MoySkladClickToCall {
    public static func signature(accessKey: String, srcNumber: String, destNumber: String, uid: String) -> String {
        let digest = Insecure.MD5.hash(data: Data((accessKey + srcNumber + destNumber + uid).utf8))
        return digest.map { String(format: "%02X", $0) }.joined()
    }

    /// The JSON body MoySklad posts (the field order of the documentation's example).
    public static func body(srcNumber: String, destNumber: String, uid: String) -> String {
        func quoted(_ s: String) -> String {
            let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
            return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
        }
        return "{\"srcNumber\":\(quoted(srcNumber)),\"destNumber\":\(quoted(destNumber)),\"uid\":\(quoted(uid))}"
    }
}
