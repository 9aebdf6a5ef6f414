import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

/// Options every command accepts; each also comes from the environment, the option winning.
struct CommonOptions: ParsableArguments {
  @Option(help: "The inventory file (NEXUS_DR_INVENTORY; default /etc/nexus-dr/inventory.yaml).")
  var inventory: String?

  @Option(name: .customLong("env"), help: "The environment (NEXUS_DR_ENV; default: the inventory's default).")
  var environment: String?

  @Option(help: "Where runs, journals and reports live (NEXUS_DR_STATE_DIR; default /var/lib/nexus-dr).")
  var stateDir: String?

  @Option(
    help:
      "Directory of runbooks found by id (NEXUS_DR_RUNBOOKS; then ./runbooks, /etc/nexus-dr/runbooks, /usr/share/nexus-dr/runbooks)."
  )
  var runbooks: String?

  @Flag(help: "Answer confirmations with yes.")
  var yes = false

  @Option(help: "A YAML file of answers: question id → answer.")
  var answers: String?

  @Flag(help: "Plain output without colours (also when NO_COLOR is set).")
  var noColor = false

  @Option(
    name: .customLong("host"),
    help: ArgumentHelp(
      "Reach a host elsewhere for this run only: NAME=ADDRESS[:PORT], NAME=USER@ADDRESS[:PORT] or NAME=local (repeatable; recorded in the journal and the report).",
      valueName: "NAME=TARGET"))
  var hostOverrides: [String] = []

  private var processEnvironment: [String: String] { ProcessInfo.processInfo.environment }

  var inventoryPath: String {
    inventory ?? processEnvironment["NEXUS_DR_INVENTORY"] ?? "/etc/nexus-dr/inventory.yaml"
  }

  var environmentName: String? { environment ?? processEnvironment["NEXUS_DR_ENV"] }

  var stateDirectory: String {
    stateDir ?? processEnvironment["NEXUS_DR_STATE_DIR"] ?? "/var/lib/nexus-dr"
  }

  var useColor: Bool {
    !noColor && processEnvironment["NO_COLOR"] == nil && POSIX.isTerminal(POSIX.standardOutput)
  }
}
