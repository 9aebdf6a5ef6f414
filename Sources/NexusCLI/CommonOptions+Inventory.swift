import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

/// What a command acts on, from one reading of the inventory: the environment chosen by `--env`
/// (or `NEXUS_DR_ENV`, or the inventory's default) with the `--host` overrides applied.
struct SelectedEnvironment {
  var inventory: Inventory
  var environment: Environment
  /// The overrides in effect as the journal records them (re-parseable `NAME=TARGET`).
  var hostOverrides: [String]
}

extension CommonOptions {
  /// The inventory file, read; on error prints it and exits `failureStatus` (2; health's is 3).
  func loadInventory(failureStatus: Int32 = RunExit.invalidInput.rawValue) throws -> Inventory {
    do { return try InventoryLoader.load(file: inventoryPath) } catch {
      Console.error("\(error)")
      throw ExitCode(failureStatus)
    }
  }

  /// The environment `name` of `inventory` (by default --env's); on error prints it and exits `failureStatus`.
  func environment(
    _ name: String? = nil, in inventory: Inventory, failureStatus: Int32 = RunExit.invalidInput.rawValue
  ) throws -> Environment {
    do { return try inventory.environment(name ?? environmentName) } catch {
      Console.error("\(error)")
      throw ExitCode(failureStatus)
    }
  }

  /// Reads the inventory and picks the environment, with the `--host` overrides applied;
  /// on error prints it and exits 2.
  func loadEnvironment() throws -> SelectedEnvironment {
    let inventory = try loadInventory()
    let declared = try environment(in: inventory)
    return SelectedEnvironment(
      inventory: inventory, environment: try applyOverrides(hostOverrides, to: declared),
      hostOverrides: journaled(hostOverrides, in: declared))
  }

  /// The environment with `overrides` (`NAME=TARGET`) in place, each said on stderr.
  func applyOverrides(_ overrides: [String], to environment: Environment) throws -> Environment {
    var parsed: [HostOverride] = []
    for text in overrides {
      do { parsed.append(try HostOverride.parse(text, environment: environment)) } catch {
        Console.error(error.description)
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
    }
    for override in parsed {
      Console.error(
        "note: for this run, host \(override.name) is \(override.description.dropFirst(override.name.count + 1)) (--host), not what the inventory says"
      )
    }
    return environment.applying(parsed)
  }

  /// `overrides` as the journal records them (re-parseable `NAME=TARGET`).
  func journaled(_ overrides: [String], in environment: Environment) -> [String] {
    overrides.compactMap { try? HostOverride.parse($0, environment: environment).description }
  }

  /// How runs in `selected` are carried out: the state directory, the answers (--answers, --yes,
  /// a terminal), `inputs`, and the overrides for the journal.
  func runOptions(for selected: SelectedEnvironment, inputs: [String: String] = [:]) throws -> RunOptions {
    var answerValues: [String: String] = [:]
    if let answers {
      do { answerValues = try Prompter.loadAnswers(file: answers) } catch {
        Console.error(error.description)
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
    }
    var options = RunOptions(
      stateDirectory: stateDirectory, answers: answerValues, assumeYes: yes,
      interactive: POSIX.isTerminal(POSIX.standardInput) && POSIX.isTerminal(POSIX.standardOutput), color: useColor,
      inputs: inputs, toolVersion: NexusDR.version)
    options.hostOverrides = selected.hostOverrides
    return options
  }
}
