import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// `backup.dump`: pg_dump in custom format to `daily/nexus_YYYYMMDD.dump` under
/// the target, as the backup role, in a snapshot exported from a REPEATABLE READ
/// transaction that also counts every table exactly — so the manifest holds the
/// dump's own row counts. Written under a temporary name, verified with
/// `pg_restore --list`, fsync'd, checksummed on the host, then renamed; the
/// manifest is written last. A failure leaves no partial file behind.
public struct BackupDumpAction: StepAction {
  public static let name = "backup.dump"
  public enum Parameter: String, ParameterKey { case target, date, compression, prefix }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template
  public var date: Template?
  public var compression: Int
  public var prefix: String

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try context.template(
      try parameters.required(.target, hint: "the backup root: {{ steps.nas.output.target }}"))
    date = try parameters[.date].map(context.template)
    // -Z3: measured on the ~2 GB fixture, 18.0 s and 325 MB against 37.2 s and 284 MB
    // at pg_dump's default -Z6 (docs/nas.md): half the time for 15% more space.
    compression = 3
    if let node = parameters[.compression] {
      compression = try node.int()
      guard (0...9).contains(compression) else { throw node.error(.invalidValue, "compression must be 0 to 9") }
    }
    prefix = try parameters[.prefix]?.string() ?? "nexus"
  }

  public var declaredOutputs: Set<String>? { ["dump", "manifest", "size", "sha256", "tables", "rows", "date"] }

  public func plan(_ context: PlanContext) -> [String] {
    let base = (try? target.render(context.values)) ?? target.description
    let database = context.values.environment["database.name"] ?? "nexus"
    let role = context.values.environment["database.backup_role"] ?? "nexus_backup"
    return [
      "in one REPEATABLE READ transaction as \(role): pg_export_snapshot(), exact count(*) of every table",
      "on \(context.step.host ?? "server"): pg_dump -Fc -Z \(compression) --snapshot=<exported> -U \(role) \(database) -f \(base)/daily/.\(prefix)_<date>.dump.partial",
      "pg_restore --list, sync, sha256sum on the host; rename to \(base)/daily/\(prefix)_<date>.dump; write \(prefix)_<date>.manifest.json",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database else {
      throw StepFailure(.failed, "environment \(context.environment.name) has no database in the inventory")
    }
    let base = try context.render(target)
    let day = try BackupDate.resolve(
      try date.map { template throws(StepFailure) in try context.render(template) } ?? "")
    let directory = "\(base)/daily"
    let finalName = "\(prefix)_\(day).dump"
    let final = "\(directory)/\(finalName)"
    let partial = "\(directory)/.\(finalName).partial"
    let manifestPath = "\(directory)/\(DumpManifest.name(forDump: finalName))"
    let globalsName = DumpManifest.globalsName(forDump: finalName)
    let globalsPartial = "\(directory)/.\(globalsName).partial"
    _ = try await context.run(HostCommandLines.makeDirectories(directory, subdirectories: []), quiet: true)
    // Partial files left by an interrupted earlier run (a crash, a timeout) are never backups.
    _ = try await context.run(
      HostCommand(
        .argv(["find", directory, "-maxdepth", "1", "-name", ".\(prefix)_*.partial", "-delete"]), timeout: .seconds(60)),
      quiet: true)

    let clock = ContinuousClock()
    let started = Date()
    let start = clock.now
    let snapshot: PGConnection
    do {
      snapshot = try await PGConnection.connect(conninfo: database.conninfo(user: database.backupRole))
    } catch {
      throw StepFailure(.failed, "cannot connect for the snapshot: \(error)")
    }
    do {
      let (snapshotID, lsn, serverVersion, dumpArguments, counts) = try await PGConnection.using(snapshot) { snapshot in
        // A hardened site may limit statements and idle transactions (statement_timeout,
        // idle_in_transaction_session_timeout): the exporting session counts every table and then
        // waits, idle in its transaction, until pg_dump is done. pg_dump lifts the same limits
        // on its own session.
        for setting in ["statement_timeout", "idle_in_transaction_session_timeout", "lock_timeout"] {
          try await snapshot.query("SET \(unsafeSQL: setting) = 0")
        }
        try await snapshot.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        let exported = try await snapshot.query(
          "SELECT pg_export_snapshot() AS snapshot, pg_current_wal_lsn()::text AS lsn, current_setting('server_version') AS version"
        )
        guard let row = exported.first else { throw StepFailure(.failed, "pg_export_snapshot() returned nothing") }
        let snapshotID = try row.decode(String.self, "snapshot")
        let lsn = try row.decode(String.self, "lsn")
        let serverVersion = try row.decode(String.self, "version")
        let dumpArguments =
          ["pg_dump", "--format=custom", "--compress=\(compression)", "--snapshot=\(snapshotID)"]
          + database.toolArguments(user: database.backupRole) + ["--dbname=\(database.name)", "--file=\(partial)"]
        let toolEnvironment = database.toolEnvironment
        // Count while pg_dump runs: both read the same exported snapshot, so the counts
        // are the dump's own, and the counting costs no extra wall time.
        let arguments = dumpArguments
        async let dumping = context.run(
          HostCommand(.argv(arguments), environment: toolEnvironment, timeout: context.timeout))
        let counts: [String: Int64]
        do { counts = try await Self.countTables(snapshot) } catch {
          _ = try? await dumping
          throw error
        }
        let dump = try await dumping
        context.console.line(
          "    snapshot \(snapshotID) at \(lsn): \(counts.count) tables, \(counts.values.reduce(0, +)) rows")
        guard dump.succeeded else {
          _ = try? await context.run(.argv(["rm", "-f", "--", partial]), quiet: true)
          throw StepFailure(
            .failed,
            "pg_dump failed (\(dump.termination)); the partial file was removed:\n  \(dump.stderrTail.suffix(800))",
            exitStatus: dump.exitCode)
        }
        try await snapshot.query("COMMIT")
        return (snapshotID, lsn, serverVersion, dumpArguments, counts)
      }

      // Check before it counts: readable by pg_restore, on disk, checksummed where it lives.
      let verify = try await context.run(
        HostCommand(
          .argv([
            "sh", "-c",
            #"sync "$1" && { pg_restore --list "$1" > /dev/null & l=$!; h=$(sha256sum "$1") && wait $l && stat -c %s "$1" && echo "${h%% *}" && pg_dump --version; }"#,
            "verify", partial,
          ]),
          timeout: context.timeout), quiet: true)
      let lines = verify.stdoutText.split(separator: "\n").map(String.init)
      guard verify.succeeded, lines.count >= 3, let size = Int64(lines[0]) else {
        _ = try? await context.run(.argv(["rm", "-f", "--", partial]), quiet: true)
        throw StepFailure(
          .failed, "the new dump did not verify (pg_restore --list): \(verify.stderrTail.suffix(600)); it was removed")
      }
      let globals: (size: Int64, sha256: String)
      do { globals = try await Self.dumpGlobals(database, to: globalsPartial, context: context) } catch {
        _ = try? await context.run(.argv(["rm", "-f", "--", partial]), quiet: true)
        throw error
      }
      var manifest = DumpManifest(
        format: DumpManifest.currentFormat, database: database.name, file: finalName, sizeBytes: size, sha256: lines[1],
        tables: counts, totalRows: counts.values.reduce(0, +), snapshot: snapshotID, walLSN: lsn,
        startedAt: JournalTime.format(started), finishedAt: JournalTime.format(Date()),
        durationMs: (clock.now - start).milliseconds, serverVersion: serverVersion, pgDumpVersion: lines[2],
        compression: compression, verifiedWith: "pg_restore --list", host: context.step.host ?? "server")
      manifest.globals = DumpManifest.Globals(
        file: globalsName, sizeBytes: globals.size, sha256: globals.sha256, passwords: database.globalsPasswords)
      let encoded: [UInt8]
      do { encoded = try manifest.encoded() } catch {
        throw StepFailure(.failed, "cannot encode the manifest: \(error)")
      }
      let manifestWrite = try await context.run(
        HostCommandLines.writeFile(manifestPath + ".next", content: encoded), quiet: true)
      let rename = try await context.run(
        HostCommand(
          .argv([
            "sh", "-c", #"mv -f "$1" "$2" && mv -f "$4" "$5" && mv -f "$3.next" "$3" && sync "$(dirname "$2")""#,
            "finish", partial, final, manifestPath, globalsPartial, "\(directory)/\(globalsName)",
          ]),
          timeout: .seconds(60)), quiet: true)
      guard manifestWrite.succeeded, rename.succeeded else {
        _ = try? await context.run(
          .argv(["rm", "-f", "--", partial, globalsPartial, manifestPath + ".next"]), quiet: true)
        throw StepFailure(.failed, "cannot write the dump's manifest: \(manifestWrite.stderrTail) \(rename.stderrTail)")
      }
      return StepResult(
        outputs: [
          "dump": final, "manifest": manifestPath, "size": String(size), "sha256": lines[1],
          "tables": String(counts.count), "rows": String(manifest.totalRows), "date": day,
        ],
        exitStatus: 0, command: dumpArguments.joined(separator: " "), bytes: size)
    } catch let failure as StepFailure {
      throw failure
    } catch {
      _ = try? await context.run(.argv(["rm", "-f", "--", partial]), quiet: true)
      throw StepFailure(.failed, "the dump failed: \(error)")
    }
  }

  /// `pg_dumpall --globals-only` (roles, their memberships and settings, tablespaces) into
  /// `path`, mode 0600, synced; without the roles' password hashes unless the inventory opts
  /// in (`globals_passwords: true`: then as `database.user`, which must be a superuser).
  static func dumpGlobals(_ database: DatabaseSpec, to path: String, context: StepContext) async throws(StepFailure)
    -> (size: Int64, sha256: String)
  {
    var arguments = ["pg_dumpall", "--globals-only", "--file=\(path)"]
    if database.globalsPasswords {
      arguments += database.toolArguments()
    } else {
      arguments += ["--no-role-passwords"] + database.toolArguments(user: database.backupRole)
    }
    let result = try await context.run(
      HostCommand(
        .argv(
          [
            "sh", "-c",
            #"umask 077 && f=$1 && shift && "$@" && sync "$f" && stat -c %s "$f" && sha256sum "$f" | cut -d' ' -f1"#,
            "globals", path,
          ] + arguments),
        environment: database.toolEnvironment, timeout: .seconds(600)), quiet: true)
    let lines = result.stdoutText.split(separator: "\n").map(String.init)
    guard result.succeeded, lines.count >= 2, let size = Int64(lines[lines.count - 2]) else {
      _ = try? await context.run(.argv(["rm", "-f", "--", path]), quiet: true)
      throw StepFailure(
        .failed,
        "pg_dumpall --globals-only failed (\(result.termination)): \(result.stderrTail.suffix(600)); the dump was not kept either"
      )
    }
    return (size, lines[lines.count - 1])
  }

  /// count(*) of every ordinary table outside the system schemas, in the current transaction.
  static func countTables(_ connection: PGConnection) async throws -> [String: Int64] {
    let tables = try await connection.query(
      """
      SELECT n.nspname AS schema, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      ORDER BY 1, 2
      """)
    var counts: [String: Int64] = [:]
    for table in tables {
      let schema = try table.decode(String.self, "schema")
      let name = try table.decode(String.self, "name")
      let row = try await connection.query("SELECT count(*) AS n FROM \(identifier: schema).\(identifier: name)")
      counts["\(schema).\(name)"] = try row.first?.decode(Int64.self, "n") ?? 0
    }
    return counts
  }
}
