/// Byte-level text helpers for the hot paths that read PBX requests (Foundation's bridged string search and trimming
/// cost several times more per request than the whole of the rest of the parsing).
public enum ASCII {
    /// Whether `byte` is ASCII white space: space, tab, line feed, vertical tab, form feed, carriage return.
    @inlinable
    public static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// `bytes` without ASCII white space at either end.
    public static func trimmed(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
        var start = bytes.startIndex, end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        return bytes[start..<end]
    }

    /// `text` without ASCII white space at either end (the same string when it has none).
    public static func trimmed(_ text: String) -> String {
        let utf8 = text.utf8
        guard let first = utf8.first, let last = utf8.last, isSpace(first) || isSpace(last) else { return text }
        return String(decoding: trimmed(Array(utf8)), as: UTF8.self)
    }

    /// Whether `text` contains `needle`, ASCII letters compared without case.
    public static func contains(_ text: String, _ needle: String) -> Bool {
        let hay = Array(text.utf8), pin = Array(needle.utf8)
        guard !pin.isEmpty else { return true }
        guard hay.count >= pin.count else { return false }
        func lower(_ b: UInt8) -> UInt8 { (0x41...0x5A).contains(b) ? b | 0x20 : b }
        outer: for i in 0...(hay.count - pin.count) {
            for j in 0..<pin.count where lower(hay[i + j]) != lower(pin[j]) { continue outer }
            return true
        }
        return false
    }
}
