import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

extension NexusDR {
  /// `nexus-dr nas-failure`: the NAS scenario (runbooks/nas-failure.yaml).
  struct NASFailure: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "nas-failure",
      abstract:
        "Bring the NAS back: check the new mount, move the fallback's backups onto it (verified), prove it with a nightly and a weekly.",
      discussion: """
        Questions: manual.replace-nas, confirm.copy-back (and resume.STEP-ID on resume). \
        See docs/operator-guide.md.
        """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
      try await RunInvocation(runbook: Scenario.nasFailure.runbook, options: options).run()
    }
  }
}
