import Crypto
import Foundation

/// The `Lognex-Content-MD5` header MoySklad puts on a click-to-call post to the "Адрес провайдера телефонии".
///
/// UNCONFIRMED — this is the one place for it. MoySklad says only "MD5 от конкатенации ключа доступа и значений параметров
/// запроса"; the order, separators and encoding are not published, and bridges that work with MoySklad try several
/// orders (api-notes B3.1). Switchboard accepts a post when the header equals the MD5 (hex, either case) of one of these
/// concatenations, and refuses any other with the list of what it tried in the journal. Once a live account settles it,
/// keep the one that matches and delete the rest.
public enum MSClickToCallSignature {
    /// The candidate concatenations, by name (the name goes to the journal, never the key).
    public static func candidates(accessKey key: String, srcNumber: String, destNumber: String, uid: String, rawBody: String)
        -> [(name: String, text: String)] {
        [
            ("key+srcNumber+destNumber+uid", key + srcNumber + destNumber + uid),
            ("key+body", key + rawBody),
            ("body+key", rawBody + key),
            ("srcNumber+destNumber+uid+key", srcNumber + destNumber + uid + key),
            ("key+destNumber+srcNumber+uid (names sorted)", key + destNumber + srcNumber + uid),
        ]
    }

    public static func md5(_ text: String) -> String {
        Insecure.MD5.hash(data: Data(text.utf8)).map { String(format: "%02X", $0) }.joined()
    }

    /// The name of the candidate the signature matches, or nil.
    public static func match(signature: String, accessKey: String, srcNumber: String, destNumber: String, uid: String,
                             rawBody: String) -> String? {
        let wanted = Array(signature.trimmingCharacters(in: .whitespaces).uppercased().utf8)
        guard wanted.count == 32 else { return nil }
        for c in candidates(accessKey: accessKey, srcNumber: srcNumber, destNumber: destNumber, uid: uid, rawBody: rawBody) {
            let computed = Array(md5(c.text).utf8)
            // Constant time over the digest, so a forger learns nothing from the timing.
            var diff: UInt8 = 0
            for (a, b) in zip(computed, wanted) { diff |= a ^ b }
            if diff == 0 { return c.name }
        }
        return nil
    }
}
