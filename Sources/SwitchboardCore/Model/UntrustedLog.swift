import Foundation

/// Text a stranger chose (a URL segment, a form field, a header), made safe for one log line: control characters
/// and non-ASCII are escaped, so a value can neither forge a line nor hide in one, and it is cut at `limit` characters.
public enum UntrustedText {
    public static func loggable(_ text: String, limit: Int = 200) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if count >= limit {
                out += "…(\(text.unicodeScalars.count) characters)"
                break
            }
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case " "..."~": out.unicodeScalars.append(scalar)
            default: out += "\\u{\(String(scalar.value, radix: 16))}"
            }
            count += 1
        }
        return out
    }
}

/// Lets through at most `burst` log lines per key (a connection, a client address) in each `window`, so one sender
/// cannot flood the log; the first line after a quiet spell says how many were left out.
public final class LogThrottle: @unchecked Sendable {
    public enum Decision: Equatable {
        /// Log it; `suppressed` lines of this key were left out since the last one logged.
        case log(suppressed: Int)
        case skip
    }

    struct Bucket {
        var windowStart: ContinuousClock.Instant
        var logged: Int
        var suppressed: Int
    }

    let burst: Int
    let window: Duration
    /// Keys remembered at once; beyond it the oldest windows are forgotten (their suppressed counts with them).
    let maxKeys: Int
    private let lock = NSLock()
    private var buckets: [String: Bucket] = [:]

    public init(burst: Int = 5, window: Duration = .seconds(60), maxKeys: Int = 10_000) {
        self.burst = burst
        self.window = window
        self.maxKeys = maxKeys
    }

    public func admit(_ key: String, now: ContinuousClock.Instant = .now) -> Decision {
        lock.withLock {
            var bucket = buckets[key] ?? Bucket(windowStart: now, logged: 0, suppressed: 0)
            if now - bucket.windowStart >= window {
                bucket.windowStart = now
                bucket.logged = 0
            }
            let decision: Decision
            if bucket.logged < burst {
                bucket.logged += 1
                decision = .log(suppressed: bucket.suppressed)
                bucket.suppressed = 0
            } else {
                bucket.suppressed += 1
                decision = .skip
            }
            if buckets[key] == nil, buckets.count >= maxKeys {
                buckets = buckets.filter { now - $0.value.windowStart < window }
                if buckets.count >= maxKeys { buckets.removeAll(keepingCapacity: true) }
            }
            buckets[key] = bucket
            return decision
        }
    }
}
