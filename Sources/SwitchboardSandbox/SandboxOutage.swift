import Foundation

/// A sandbox's outage switch: requests fail with `status` while the time lasts (`until`) and the count lasts
/// (`remaining`), whichever is set.
typealias SandboxOutage = (status: Int, until: Date?, remaining: Int?)

/// The status the next request fails with, counting it against the outage; nil (and the switch cleared) once it is over.
func sandboxOutageBites(_ outage: inout SandboxOutage?) -> Int? {
    guard var o = outage else { return nil }
    let timeOK = o.until.map { Date() < $0 } ?? true
    let countOK = (o.remaining ?? 1) > 0
    guard timeOK && countOK else {
        outage = nil
        return nil
    }
    if let r = o.remaining { o.remaining = r - 1 }
    outage = o
    return o.status
}
