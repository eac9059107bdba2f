import ArgumentParser
import SwitchboardCore
import SwitchboardCRM
import SwitchboardPBX
import SwitchboardSimulator

/// The command line's one list of CRMs: their sandboxes (`switchboard sandbox <crm>`) and the ones the demo seeds.
enum DemoCRMs {
    /// The CRM the benchmarks' integrations use (its job handlers are what ingest enqueues for).
    static let benchCRM: CRMKind = .amocrm
    /// The CRM the analytics benchmark's deals come from (its settings carry UTM tags per virtual number).
    static let analyticsBenchCRM: CRMKind = .bitrix24
    static let all: [DemoCRM] = [.amoCRM, .bitrix24, .moySklad, .megaplan]
    static let sandboxCommands: [any ParsableCommand.Type] = [AmoSandboxCommand.self, Bitrix24SandboxCommand.self,
                                                              MoySkladSandboxCommand.self, MegaplanSandboxCommand.self]
}

/// The command line's PBX protocol: the demo's PBX, the benchmarks' events and `simulate`'s named scenarios.
enum DemoPBX {
    static let id: PBXProtocol = .itoolabs
    static let title = "ITooLabs"
    typealias Scenarios = ITooLabsScenarios
}
