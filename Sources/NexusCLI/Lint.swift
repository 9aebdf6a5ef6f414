import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr lint [PATH…]`: validates runbooks and inventories; exit 2 on any error.
  struct Lint: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "lint",
      abstract: "Validate runbooks and the inventory; exit 2 on any error.",
      discussion:
        "Without paths: the inventory and every runbook in the runbooks directory (--runbooks, NEXUS_DR_RUNBOOKS, else ./runbooks). A file with an 'environments' key is read as an inventory, anything else as a runbook."
    )

    @OptionGroup var options: CommonOptions

    @Argument(help: "Files or directories to check.")
    var paths: [String] = []

    func run() async throws {
      var files: [String] = []
      let runbookDirectory = options.runbooks ?? ProcessInfo.processInfo.environment["NEXUS_DR_RUNBOOKS"] ?? "runbooks"
      let targets = paths.isEmpty ? [options.inventoryPath, runbookDirectory] : paths
      for target in targets {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory), isDirectory.boolValue {
          let names = (try? FileManager.default.contentsOfDirectory(atPath: target)) ?? []
          files += names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(target)/\($0)" }
        } else {
          files.append(target)
        }
      }
      var failed = false
      for file in files {
        do {
          let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
          if text.range(of: #"(?m)^environments\s*:"#, options: .regularExpression) != nil {
            let inventory = try InventoryLoader.load(file: file)
            Console.line(
              "\(file): ok (inventory; environments: \(inventory.environments.keys.sorted().joined(separator: ", ")))")
          } else {
            let runbook = try RunbookLoader.load(file: file)
            Console.line(
              "\(file): ok (runbook \(runbook.id): \(runbook.preflight.count) checks, \(runbook.steps.count) steps)")
          }
        } catch {
          Console.error(error.description)
          failed = true
        }
      }
      if failed { throw ExitCode(RunExit.invalidInput.rawValue) }
    }
  }
}
