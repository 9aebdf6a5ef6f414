import Foundation
import NexusBackup
import NexusCore
import NexusPostgres
import NexusTransport

/// Where the cluster's data directory is: the step's parameter, else what the
/// running server says, else the newest `/var/lib/postgresql/*/main` on the host.
enum DataDirectory {
  static func resolve(_ parameter: String?, context: StepContext) async throws(StepFailure) -> String {
    if let parameter, !parameter.isEmpty { return parameter }
    if let database = context.environment.database,
      let directory = try? await PGConnection.with(
        conninfo: database.conninfo(database: "postgres"),
        {
          try await $0.query("SELECT current_setting('data_directory') AS dir").first?["dir"]
        }),
      !directory.isEmpty
    {
      return directory
    }
    let found = try await context.run(
      .argv(["sh", "-c", "ls -d /var/lib/postgresql/*/main 2>/dev/null | sort -V | tail -n 1"], timeout: .seconds(30)),
      quiet: true)
    let directory = found.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !directory.isEmpty else {
      throw StepFailure(
        .failed, "PostgreSQL does not answer and there is no /var/lib/postgresql/*/main: give the step a data_directory"
      )
    }
    return directory
  }
}
