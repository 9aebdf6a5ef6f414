import ArgumentParser
import NexusCore

/// `nexus-dr lint [PATH…]`: validates inventory files; exit 2 on any error.
struct LintCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "lint",
    abstract: "Validate the inventory (and the files given); exit 2 on any error.")

  @OptionGroup var options: CommonOptions

  @Argument(help: "Files to check; the inventory when none are given.")
  var paths: [String] = []

  func run() async throws {
    let files = paths.isEmpty ? [options.inventoryPath] : paths
    var failed = false
    for file in files {
      do {
        let inventory = try InventoryLoader.load(file: file)
        let names = inventory.environments.keys.sorted().joined(separator: ", ")
        Console.line("\(file): ok (inventory; environments: \(names))")
      } catch {
        Console.error(error.description)
        failed = true
      }
    }
    if failed { throw ExitCode(ExitStatus.invalidInput.rawValue) }
  }
}
