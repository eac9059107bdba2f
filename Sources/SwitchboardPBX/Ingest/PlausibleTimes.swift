import Foundation
import SwitchboardCore

/// The times and lengths a PBX may report, the same for every protocol: what falls outside is refused with the
/// reason (never stored, never sent to a CRM), since a clamped value would be a wrong value in the CRM.
public enum PlausibleTimes {
    /// The longest call or wait Switchboard accepts.
    public static let maxSeconds = 86_400
    /// How far ahead of Switchboard's clock a PBX's clock may run.
    public static let futureSkew: TimeInterval = 300

    /// Why an event's times cannot be right, or nil when they can.
    public static func problem(occurredAt: Date? = nil, final: CallFinal?, now: Date) -> String? {
        let latest = now.addingTimeInterval(futureSkew)
        if let occurredAt, occurredAt > latest {
            return "occurred_at \(CompactUTC.format(occurredAt)) is in the future"
        }
        guard let final else { return nil }
        if let d = final.durationSec, !(0...maxSeconds).contains(d) {
            return "duration \(d) is not between 0 and \(maxSeconds) seconds"
        }
        if let w = final.waitSec, !(0...maxSeconds).contains(w) {
            return "wait \(w) is not between 0 and \(maxSeconds) seconds"
        }
        if let start = final.startedAt {
            if start > latest { return "start \(CompactUTC.format(start)) is in the future" }
            let end = start.addingTimeInterval(TimeInterval((final.durationSec ?? 0) + (final.waitSec ?? 0)))
            if end > latest { return "start \(CompactUTC.format(start)) plus the call's length ends in the future" }
        }
        return nil
    }
}
