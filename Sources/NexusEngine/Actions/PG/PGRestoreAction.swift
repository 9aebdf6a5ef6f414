import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// `pg.restore`: a logical restore of a dump into a fresh database of the
/// inventory's name (owned by the damaged database's owner), with `pg_restore -j N`
/// as the PostgreSQL superuser so object owners and grants come back as they were
/// (roles are cluster-wide and stay; database-level settings are not in a dump). While it runs the database
/// carries a marker comment; a run interrupted half way is recognised by it and
/// started again (its sessions ended first), so the step is safe to repeat. A
/// database of that name without the marker is never dropped.
public struct PGRestoreAction: StepAction {
  public static let name = "pg.restore"
  public enum Parameter: String, ParameterKey { case from, owner, jobs }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var from: Template
  public var owner: Template?
  public var jobs: Int?

  static let marker = "nexus-dr restore in progress"

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    from = try context.template(try parameters.required(.from, hint: "the dump: {{ steps.choose.output.source }}"))
    owner = try parameters[.owner].map(context.template)
    jobs = try parameters[.jobs]?.int()
  }

  public var declaredOutputs: Set<String>? { ["database", "dump", "jobs", "database_properties"] }

  public func plan(_ context: PlanContext) -> [String] {
    let name = context.values.environment["database.name"] ?? "nexus"
    let source = (try? from.render(context.values)) ?? from.description
    return [
      "createdb \(name) (marked '\(Self.marker)'); pg_restore --exit-on-error -j \(jobs.map(String.init) ?? "<cores>") -d \(name) \(source)",
      "a half-restored \(name) from an interrupted run is recognised by its mark, its sessions ended, and dropped; any other \(name) is refused",
      "the database's own grants and settings from the dump (GRANT … ON DATABASE, ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET), as pg_restore --create would apply them",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database else {
      throw StepFailure(.failed, "no database in the inventory")
    }
    let dump = try context.render(from)
    try await NASCatalog.requireMountedNAS(holding: dump, context: context)
    let ownerName = try owner.map { template throws(StepFailure) in try context.render(template) }.flatMap {
      $0.isEmpty ? nil : $0
    }
    return try await PGSession.run(
      database.conninfo(database: "postgres"), cannotConnect: "cannot connect to the server's postgres database",
      failed: "the restore failed"
    ) { connection in
      do {
        let existing = try await connection.query(
          "SELECT coalesce(shobj_description(oid, 'pg_database'), '') AS comment FROM pg_database WHERE datname = \(database.name)"
        ).first
        if let comment = existing?["comment"] {
          guard comment.hasPrefix(Self.marker) else {
            throw StepFailure(
              .failed,
              "a database '\(database.name)' exists and nexus-dr did not create it: refusing to replace it (set it aside first)"
            )
          }
          context.console.line(
            "    a half-finished restore of \(database.name) is there from an interrupted run: starting it again")
          try await connection.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database.name) AND pid <> pg_backend_pid()"
          )
          try await connection.query("DROP DATABASE \(identifier: database.name) WITH (FORCE)")
        }
        let create: PGQuery =
          ownerName.map { "CREATE DATABASE \(identifier: database.name) OWNER \(identifier: $0) TEMPLATE template0" }
          ?? "CREATE DATABASE \(identifier: database.name) TEMPLATE template0"
        try await connection.query(create)
        try await connection.query(
          "COMMENT ON DATABASE \(identifier: database.name) IS \(literal: "\(Self.marker), started \(JournalTime.format(Date()))")"
        )
      } catch let failure as StepFailure {
        throw failure
      } catch {
        throw StepFailure(.failed, "preparing the database for the restore failed: \(error)")
      }
      var cores = jobs ?? 1
      if jobs == nil {
        let nproc = try await context.run(.argv(["nproc"]), quiet: true)
        cores = max(1, Int(nproc.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1)
      }
      let restore = try await context.run(
        HostCommand(
          .argv(
            ["pg_restore", "--exit-on-error", "--jobs=\(cores)"] + database.toolArguments() + [
              "--dbname=\(database.name)", dump,
            ]),
          environment: database.toolEnvironment, timeout: context.timeout))
      guard restore.succeeded else {
        throw StepFailure(
          .failed,
          "pg_restore failed (\(restore.termination)); the half-restored database keeps its mark and the step can be run again:\n  \(restore.stderrTail.suffix(800))",
          exitStatus: restore.exitCode)
      }
      // What belongs to the database itself rather than to its contents: its grants and its
      // settings (ALTER DATABASE … SET, ALTER ROLE … IN DATABASE … SET). pg_restore brings them
      // only with --create, which would create the database itself; they are taken from the
      // same dump and applied here, so the restored database allows and behaves as before.
      let properties = try await Self.databaseProperties(dump, database: database.name, context: context)
      var applied = 0
      var failed: [String] = []
      for statement in properties {
        do {
          try await connection.query(PGQuery(unsafeSQL: statement))
          applied += 1
        } catch {
          failed.append("\(statement) — \(error)")
        }
      }
      if !properties.isEmpty {
        context.console.line(
          "    the database's own grants and settings from the dump: \(applied) of \(properties.count) applied")
      }
      for problem in failed { context.console.line("    not applied (do it by hand once the role exists): \(problem)") }
      do {
        try await connection.query("COMMENT ON DATABASE \(identifier: database.name) IS NULL")
      } catch {
        throw StepFailure(.failed, "the restore finished but its mark could not be removed: \(error)")
      }
      return StepResult(
        outputs: [
          "database": database.name, "dump": dump, "jobs": String(cores), "database_properties": String(applied),
        ], exitStatus: 0)
    }
  }

  /// The dump's statements about the database itself, as `pg_restore --create` would run them:
  /// `ALTER DATABASE NAME SET …`, `ALTER ROLE … IN DATABASE NAME SET …`, `GRANT|REVOKE … ON DATABASE NAME …`.
  static func databaseProperties(_ dump: String, database: String, context: StepContext) async throws(StepFailure)
    -> [String]
  {
    let listed = try await context.run(
      HostCommand(
        .argv([
          "sh", "-c",
          #"pg_restore --create --schema-only -f - "$1" | grep -E '^(ALTER DATABASE [^ ]+ SET |ALTER ROLE .+ IN DATABASE [^ ]+ SET |(GRANT|REVOKE) .+ ON DATABASE )' || true"#,
          "database-properties", dump,
        ]),
        timeout: .seconds(600)), quiet: true)
    guard listed.succeeded else {
      throw StepFailure(
        .failed,
        "the restore finished but the database's grants and settings could not be read from \(dump): \(listed.stderrTail); its mark is kept, run the step again"
      )
    }
    // As pg_dump writes a name (fmtId): bare when lowercase letters, digits and _ only.
    let name =
      database.wholeMatch(of: #/[a-z_][a-z0-9_]*/#) != nil
      ? database : "\"" + database.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    return listed.stdoutText.split(separator: "\n").map(String.init).filter {
      $0.contains(" DATABASE \(name) ") || $0.contains(" DATABASE \(name);")
    }
  }
}
