import Foundation
import Logging

/// Keeps every line logged through it, for tests that check what reaches the log.
final class CapturedLog: @unchecked Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let lock = NSLock()
    private var _lines: [Line] = []

    var lines: [Line] { lock.withLock { _lines } }

    func lines(_ message: String) -> [Line] { lines.filter { $0.message == message } }

    func append(_ line: Line) { lock.withLock { _lines.append(line) } }

    /// A logger that writes here, at `level` and above.
    func logger(level: Logger.Level = .debug) -> Logger {
        var logger = Logger(label: "captured") { _ in Handler(log: self) }
        logger.logLevel = level
        return logger
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = self.metadata.merging(event.metadata ?? [:]) { _, new in new }
            log.append(Line(level: event.level, message: event.message.description, metadata: all.mapValues { "\($0)" }))
        }
    }
}
