import ArgumentParser
import SwitchboardApp

struct MasterKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "master-key", abstract: "Create or rotate the master key.",
                                                    subcommands: [New.self, Rotate.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write a new random master key to a file (mode 0600).")
        @Option(help: "Where to write it; keep it outside the data directory.") var file: String

        func run() throws {
            try Switchboard.writeNewMasterKey(file: file)
            print("New master key written to \(file).")
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-encrypt every stored secret under a new master key.",
            discussion: """
                Stop every instance first. The current key comes from the configuration as usual; the new one from \
                --new-key-file (create it with `switchboard master-key new`). All secrets change keys in one transaction. \
                Then point the configuration at the new key (masterKeyFile or SWITCHBOARD_MASTER_KEY) and start again.
                """)
        @OptionGroup var options: CommonOptions
        @Option(help: "The file holding the new key.") var newKeyFile: String

        func run() async throws {
            let config = try options.resolve()
            let sb = try await Switchboard.open(config: config, logger: makeLogger(config))
            do {
                let count = try await sb.rotateMasterKey(newKeyFile: newKeyFile)
                await sb.shutdown()
                print("\(count) secrets re-encrypted under the key in \(newKeyFile).")
                print("Now set masterKeyFile (or SWITCHBOARD_MASTER_KEY) to the new key and start Switchboard. Addresses a CRM")
                print("calls Switchboard at are derived from the key: re-save integrations that subscribe to CRM webhooks, and paste")
                print("the new application address into CRMs that show one on the credentials page.")
            } catch {
                await sb.shutdown()
                throw error
            }
        }
    }
}
