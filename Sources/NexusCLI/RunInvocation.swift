import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

/// One run of a runbook, as `run`, `routine` and the scenario commands start it: the runbook by
/// id or path, its inputs (the ones given; the runbook's defaults stand for the rest), and the
/// common options.
struct RunInvocation {
  var runbook: String
  var inputs: [String: String] = [:]
  var options: CommonOptions

  /// Preflight, then every step, journaled and resumable; Ctrl-C or SIGTERM interrupts it
  /// resumably. Throws the run's exit status unless it is done.
  func run() async throws {
    let engine = try engine()
    let exit = await withInterruptHandling { await engine.start().0 }
    if exit != .done { throw ExitCode(exit.rawValue) }
  }

  /// The preflight checks alone; changes nothing.
  func preflight() async throws {
    let exit = try await engine().preflightOnly()
    if exit != .done { throw ExitCode(exit.rawValue) }
  }

  /// The runbook and the environment loaded (the inventory read once), ready to run.
  func engine() throws -> RunEngine {
    let runbook = try options.loadRunbook(runbook)
    let selected = try options.loadEnvironment()
    return RunEngine(
      runbook: runbook, environment: selected.environment,
      options: try options.runOptions(for: selected, inputs: inputs))
  }
}
