import Hummingbird

/// The PBX APIs the simulated PBX stands in for, one per protocol folder (the one list that names them).
enum SimulatedAPIs {
    static let all: [@Sendable (SimulatedPBXServer, Router<BasicRequestContext>) -> Void] = [
        { $0.registerITooLabs(on: $1) },
        { $0.registerNative(on: $1) },
    ]
}
