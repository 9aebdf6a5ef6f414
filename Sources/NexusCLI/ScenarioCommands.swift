import ArgumentParser
import Foundation
import NexusCore
import NexusEngine

/// `nexus-dr corrupt-db`: the corrupt-database scenario (runbooks/corrupt-db.yaml).
struct CorruptDBCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "corrupt-db",
    abstract: "Restore a damaged database: choose the restore point, keep the damaged copy aside, restore, verify, restart.",
    discussion: """
      Questions: choose.choose-restore-point (dump, pitr-latest, pitr-target), confirm.stop-services,
      confirm.pitr (point in time only), manual.confirm-resync (and resume.STEP-ID on resume).
      See docs/operator-guide.md.
      """)

  @OptionGroup var options: CommonOptions
  @Option(help: "Offer point-in-time recovery to this time, e.g. 2026-11-27T14:03:00Z (or 2026-11-27 15:03, local time).")
  var targetTime: String?

  func run() async throws {
    var command = try RunCommand.parse(["corrupt-db"] + (targetTime.map { ["--input", "target_time=\($0)"] } ?? []))
    command.options = options
    try await command.run()
  }
}

/// `nexus-dr nas-failure`: the NAS scenario (runbooks/nas-failure.yaml).
struct NASFailureCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nas-failure",
    abstract: "Bring the NAS back: check the new mount, move the fallback's backups onto it (verified), prove it with a nightly and a weekly.",
    discussion: """
      Questions: manual.replace-nas, confirm.copy-back (and resume.STEP-ID on resume).
      See docs/operator-guide.md.
      """)

  @OptionGroup var options: CommonOptions

  func run() async throws {
    var command = try RunCommand.parse(["nas-failure"])
    command.options = options
    try await command.run()
  }
}
