import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

// Breaking the environment for real: corrupt-db's accidental drop, or the inventory's own
// commands (inject, repair, restore) run on this machine.
extension Rehearsal {
  /// The failure once it is in effect.
  struct Injection {
    /// When it took effect: what the witness had acknowledged up to then was promised before it.
    var at: Date
    /// corrupt-db: the dropped table's rows.
    var droppedRows: Int64?
  }

  /// Injects the failure: the drop (in effect at the database's time of it), or the inventory's
  /// inject command (in effect when it returns). Nil when there is neither.
  func inject(console: ConsoleOutput) async throws -> Injection? {
    if let dropTable {
      let (rows, at) = try await drop(dropTable)
      console.line(
        "  dropped \(dropTable.schema).\(dropTable.table) (\(rows) rows) at \(JournalTime.format(at)); the recovery may target that time"
      )
      return Injection(at: at, droppedRows: rows)
    }
    guard let inject = spec.inject else { return nil }
    _ = try await hook(inject, console: console)
    return Injection(at: Date())
  }

  /// corrupt-db: the accidental drop, and the time just before it (the database's clock).
  func drop(_ table: (schema: String, table: String)) async throws -> (Int64, Date) {
    guard let database = environment.database else { throw RunError(.invalidInput, "no database") }
    return try await PGConnection.with(conninfo: database.conninfo()) { connection in
      let row = try await connection.query(
        "SELECT count(*)::text AS n, to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') AS at FROM \(identifier: table.schema).\(identifier: table.table)"
      ).first
      guard let rows = row?["n"].flatMap({ Int64($0) }), let at = row?["at"].flatMap(JournalTime.parse) else {
        throw RunError(.invalidInput, "could not read \(table.schema).\(table.table) before dropping it")
      }
      try await connection.query("DROP TABLE \(identifier: table.schema).\(identifier: table.table) CASCADE")
      return (rows, at)
    }
  }

  /// Runs an inventory command on this machine, its output shown as it comes; fails on a non-zero exit.
  func hook(_ argv: [String], console: ConsoleOutput) async throws -> String {
    let result = try await local.run(
      HostCommand(.argv(argv), timeout: .seconds(3600)),
      output: { stream, bytes in console.stream(stream, bytes) })
    console.flushStreams()
    guard result.succeeded else {
      throw RunError(
        .invalidInput,
        "\(ShellQuote.commandLine(argv)) ended \(result.termination): \(Redactor.redact(result.stderrTail))")
    }
    return result.stdoutText
  }
}
