import Foundation
import SwitchboardCore

/// One request a simulated PBX sends, built by its protocol's folder (`SimStep.<protocol>(…)`).
public struct SimStep: Sendable {
    /// The request for a connection, given its id and secret (the protocol adds the secret its own way).
    public let request: @Sendable (_ connectionId: String, _ secret: String) throws -> SimRequest
    /// The PBX's final record of a call (sent last; duplicated and reordered scenarios keep it last).
    public let isFinal: Bool
    /// What the step carries in its protocol's own terms (fields, an event), for tests that look inside.
    public let payload: any Sendable

    public init(isFinal: Bool, payload: any Sendable,
                request: @escaping @Sendable (_ connectionId: String, _ secret: String) throws -> SimRequest) {
        self.isFinal = isFinal
        self.payload = payload
        self.request = request
    }
}

/// An HTTP request to Switchboard: a path under its base address, the body and the headers.
public struct SimRequest: Sendable {
    public var path: String
    public var body: [UInt8]
    public var headers: [String: String]

    public init(path: String, body: [UInt8], headers: [String: String]) {
        self.path = path
        self.body = body
        self.headers = headers
    }
}

/// What a scenario should leave in storage, for checking.
public struct SimExpectation: Sendable, Equatable {
    public var result: CallResult
    public var direction: CallDirection
    public var talkers: [String]
    public var legs: Int
    public var talkSec: Int?
    public var recording: Bool

    public init(result: CallResult, direction: CallDirection, talkers: [String], legs: Int, talkSec: Int?, recording: Bool) {
        self.result = result
        self.direction = direction
        self.talkers = talkers
        self.legs = legs
        self.talkSec = talkSec
        self.recording = recording
    }
}

/// A call scenario: the requests in order, the provider call id to find the call by, and what it should produce.
public struct SimScenario: Sendable {
    public var name: String
    public var callId: String
    public var steps: [SimStep]
    public var expected: SimExpectation

    /// The same requests, each sent twice, the realtime ones shuffled (the final record stays last, as PBXs send it).
    public func duplicatedAndReordered(seed: UInt64 = 7) -> SimScenario {
        var rng = SeededGenerator(seed: seed)
        var realtime = steps.filter { !$0.isFinal }
        realtime = (realtime + realtime).shuffled(using: &rng)
        var copy = self
        copy.name += " (duplicated, reordered)"
        copy.steps = realtime + steps.filter(\.isFinal) + steps.filter(\.isFinal)
        return copy
    }
}

struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed == 0 ? 0x9E3779B97F4A7C15 : seed }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

