import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr plan RUNBOOK`: the resolved steps, hosts and exact commands; changes nothing.
  struct Plan: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "plan",
      abstract:
        "Show the checks, steps, hosts and the exact commands a runbook would run. Changes nothing; contacts no host unless --probe."
    )

    @OptionGroup var options: CommonOptions
    @Argument(help: "Runbook id or path.") var runbook: String
    @Option(name: .customLong("input"), help: "A runbook input, NAME=VALUE (repeatable).") var inputs: [RunbookInput] =
      []
    @Flag(help: "Also run the preflight checks (read-only).") var probe = false

    func run() async throws {
      let runbook = try options.loadRunbook(runbook)
      let selected = try options.loadEnvironment()
      let environment = selected.environment
      let runOptions = try options.runOptions(for: selected, inputs: inputs.values)
      let engine = RunEngine(runbook: runbook, environment: environment, options: runOptions)
      do { try engine.checkHosts() } catch {
        Console.error("error: \(error)")
        throw ExitCode(RunExit.invalidInput.rawValue)
      }
      // Inputs not given yet are shown as references.
      var inputValues: [String: String] = [:]
      for input in runbook.inputs {
        if let value = runOptions.inputs[input.name] ?? input.defaultValue { inputValues[input.name] = value }
      }
      let values = ReferenceValues(inputs: inputValues, environment: environment.templateValues)
      Console.line("Plan: \(runbook.title) (\(runbook.id)) — environment \(environment.name)")
      Console.line("Runbook: \(runbook.file) (sha256 \(runbook.contentHash.prefix(12)))")
      if !runbook.inputs.isEmpty {
        Console.line("\nInputs:")
        for input in runbook.inputs {
          Console.line("  \(input.name) = \(inputValues[input.name] ?? "(required: --input \(input.name)=…)")")
        }
      }
      Console.line("\nPreflight:")
      if runbook.preflight.isEmpty { Console.line("  (none)") }
      for check in runbook.preflight {
        Console.line("  - \(check.id): \(CheckRunner.describe(check, values: values))")
      }
      Console.line("\nSteps:")
      for (index, step) in runbook.steps.enumerated() {
        var flags: [String] = []
        if step.destructive { flags.append("DESTRUCTIVE: asks first (question confirm.\(step.id))") }
        flags.append(step.idempotent ? "safe to re-run" : "not safe to re-run")
        if let timeout = step.timeout { flags.append("timeout \(DurationText.format(timeout))") }
        if step.retries.count > 0 {
          flags.append("\(step.retries.count) retries, \(DurationText.format(step.retries.backoff)) apart")
        }
        if case .continue(let reason) = step.onFailure { flags.append("on failure continue: \(reason)") }
        Console.line("  \(index + 1). \(step.title) [\(step.id)] — \(step.host ?? "operator") — \(step.action.name)")
        if let when = step.when { Console.line("     only when \(when)") }
        for line in step.action.definition.plan(PlanContext(step: step, values: values)) {
          Console.line("     \(line)")
        }
        Console.line("     (\(flags.joined(separator: "; ")))")
      }
      if probe {
        Console.line("")
        for (step, lines) in await engine.probeSteps() {
          Console.line("Probe \(step):")
          for line in lines { Console.line("  \(line)") }
        }
        Console.line("")
        let exit = await engine.preflightOnly()
        if exit != .done { throw ExitCode(exit.rawValue) }
      }
    }
  }
}
