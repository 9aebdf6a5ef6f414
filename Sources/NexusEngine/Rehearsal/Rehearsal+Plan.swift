import Foundation
import NexusCore
import NexusTransport

/// What the rehearsal will break, said to the operator, and the question before it does.
extension Rehearsal {
  /// Each scenario's failure in words: what the injection does (a verb), and what it leaves (a noun phrase).
  static let failureWords: [String: (does: String, leaves: String)] = [
    "corrupt-db": ("damages the database", "the database damaged"),
    "server-failure": ("destroys nexus-server", "nexus-server destroyed"),
    "gateway-failure": ("cuts nexus-gate off", "nexus-gate cut off"),
    "nas-failure": ("unmounts the NAS", "the NAS unmounted while the nightly runs"),
  ]

  /// What is broken, in words.
  public var failure: String {
    if let dropTable {
      return
        "an accidental DROP TABLE \(dropTable.schema).\(dropTable.table) CASCADE on \(environment.database?.name ?? "the database")"
    }
    return "\(Self.failureWords[scenario]?.leaves ?? scenario) (\(ShellQuote.commandLine(spec.inject ?? [])))"
  }

  /// What the rehearsal will do, for the operator to read before saying yes.
  public var plan: [String] {
    var lines = ["This breaks \(environment.name) for real: \(failure)."]
    if scenario == "nas-failure" {
      lines.append("Then the nightly runs while the NAS is away (its backups go to the fallback).")
    }
    if let repair = spec.repair {
      lines.append("Then the repair a person would make: \(ShellQuote.commandLine(repair)).")
    }
    lines.append("Then runbooks/\(scenario).yaml recovers it; the rehearsal verifies the service and measures:")
    lines.append(
      "  recovery time (failure → service verified) against the RTO \(environment.objectives.map { DurationText.format($0.rto) } ?? "(none set)")"
    )
    if let acknowledgements {
      lines.append(
        "  data lost: records \(acknowledgements.device) had acknowledged (\(acknowledgements.log)) that are gone, against the RPO \(environment.objectives.map { DurationText.format($0.rpo) } ?? "(none set)")"
      )
    } else {
      lines.append("  data lost: not measured (no rehearsal.acknowledgements in the inventory)")
    }
    if let restore = spec.restore {
      lines.append("Afterwards the environment is put back: \(ShellQuote.commandLine(restore)).")
    }
    return lines
  }

  /// Asks before breaking anything (question `confirm.rehearse`): `.done` to go on, `.declined`
  /// when the operator said no or nobody could answer.
  public func confirm(options: RunOptions, console: ConsoleOutput) async -> RunExit {
    let prompter = Prompter(
      answers: options.answers, assumeYes: options.assumeYes, interactive: options.interactive, console: console)
    do {
      let answer = try await prompter.ask(
        Question(
          id: "confirm.rehearse", text: "Break \(environment.name) now, for real, and recover it?", kind: .confirm))
      guard answer.value == "yes" else {
        console.line("Declined; nothing was touched.")
        return .declined
      }
      return .done
    } catch {
      console.error("error: \(error.message)")
      return .declined
    }
  }

  // MARK: The rehearsal
}
