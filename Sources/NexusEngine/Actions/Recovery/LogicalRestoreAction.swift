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
public struct LogicalRestoreAction: StepAction {
  public static let name = "pg.restore"
  public static let parameterKeys = ["from", "owner", "jobs"]
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var from: Template
  public var owner: Template?
  public var jobs: Int?

  static let marker = "nexus-dr restore in progress"

  public init(with parameters: YAMLFields, context: StepDecodingContext) throws(ConfigError) {
    from = try context.template(try parameters.required("from", hint: "the dump: {{ steps.choose.output.source }}"))
    owner = try parameters["owner"].map(context.template)
    jobs = try parameters["jobs"]?.int()
  }

  public var declaredOutputs: Set<String>? { ["database", "dump", "jobs"] }

  public func plan(_ context: PlanContext) -> [String] {
    let name = context.values.environment["database.name"] ?? "nexus"
    let source = (try? from.render(context.values)) ?? from.description
    return [
      "createdb \(name) (marked '\(Self.marker)'); pg_restore --exit-on-error -j \(jobs.map(String.init) ?? "<cores>") -d \(name) \(source)",
      "a half-restored \(name) from an interrupted run is recognised by its mark, its sessions ended, and dropped; any other \(name) is refused",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database else { throw StepFailure(.failed, "no database in the inventory") }
    let dump = try context.render(from)
    try await RecoverySources.requireMountedNAS(holding: dump, context: context)
    let ownerName = try owner.map { template throws(StepFailure) in try context.render(template) }.flatMap { $0.isEmpty ? nil : $0 }
    let connection: PGConnection
    do { connection = try await PGConnection.connect(conninfo: database.conninfo(database: "postgres")) } catch {
      throw StepFailure(.failed, "cannot connect to the server's postgres database: \(error)")
    }
    do {
      let existing = try await connection.query("SELECT coalesce(shobj_description(oid, 'pg_database'), '') AS comment FROM pg_database WHERE datname = \(database.name)").first
      if let comment = existing?["comment"] {
        guard comment.hasPrefix(Self.marker) else {
          throw StepFailure(.failed, "a database '\(database.name)' exists and nexus-dr did not create it: refusing to replace it (set it aside first)")
        }
        context.console.line("    a half-finished restore of \(database.name) is there from an interrupted run: starting it again")
        try await connection.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = \(database.name) AND pid <> pg_backend_pid()")
        try await connection.query("DROP DATABASE \(identifier: database.name) WITH (FORCE)")
      }
      let create: PGQuery = ownerName.map { "CREATE DATABASE \(identifier: database.name) OWNER \(identifier: $0) TEMPLATE template0" }
        ?? "CREATE DATABASE \(identifier: database.name) TEMPLATE template0"
      try await connection.query(create)
      try await connection.query("COMMENT ON DATABASE \(identifier: database.name) IS \(literal: "\(Self.marker), started \(JournalTime.format(Date()))")")
    } catch let failure as StepFailure {
      await connection.close()
      throw failure
    } catch {
      await connection.close()
      throw StepFailure(.failed, "preparing the database for the restore failed: \(error)")
    }
    var cores = jobs ?? 1
    if jobs == nil {
      let nproc = try await context.run(.argv(["nproc"]), quiet: true)
      cores = max(1, Int(nproc.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 1)
    }
    let restore = try await context.run(HostCommand(
      .argv(["env", "-C", "/", "runuser", "-u", "postgres", "--", "pg_restore", "--exit-on-error", "--jobs=\(cores)", "--dbname=\(database.name)", dump]),
      timeout: context.timeout))
    guard restore.succeeded else {
      await connection.close()
      throw StepFailure(.failed, "pg_restore failed (\(restore.termination)); the half-restored database keeps its mark and the step can be run again:\n  \(restore.stderrTail.suffix(800))", exitStatus: restore.exitCode)
    }
    do {
      try await connection.query("COMMENT ON DATABASE \(identifier: database.name) IS NULL")
    } catch {
      await connection.close()
      throw StepFailure(.failed, "the restore finished but its mark could not be removed: \(error)")
    }
    await connection.close()
    return StepResult(outputs: ["database": database.name, "dump": dump, "jobs": String(cores)], exitStatus: 0)
  }
}
