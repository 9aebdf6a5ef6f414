import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr corrupt-db`: the corrupt-database scenario (runbooks/corrupt-db.yaml).
  struct CorruptDB: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "corrupt-db",
      abstract:
        "Restore a damaged database: choose the restore point, keep the damaged copy aside, restore, verify, restart.",
      discussion: """
        Questions: choose.choose-restore-point (dump, pitr-latest, pitr-target), confirm.stop-services, \
        confirm.pitr (point in time only), manual.confirm-resync (and resume.STEP-ID on resume). \
        See docs/operator-guide.md.
        """)

    @OptionGroup var options: CommonOptions
    @Option(
      help: "Offer point-in-time recovery to this time, e.g. 2026-11-27T14:03:00Z (or 2026-11-27 15:03, local time).")
    var targetTime: String?

    func run() async throws {
      let inputs = ["target_time": targetTime].compactMapValues { $0 }
      try await RunInvocation(runbook: Scenario.corruptDB.runbook, inputs: inputs, options: options).run()
    }
  }
}
