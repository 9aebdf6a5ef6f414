import NexusCore
import NexusPostgres

/// `services.sync-resumes`: the iPads' pushes arrive again. Counts the records in
/// `staging.sync_inbox` (as `database.backup_role`), then counts again once a second
/// until a new one has arrived, for up to `within` (default 120 s). Read-only.
public struct ServicesSyncResumesAction: StepAction {
  public static let name = "services.sync-resumes"
  public enum Parameter: String, ParameterKey { case within }
  public static let hostUse = HostUse.forbidden
  public static let naturallyIdempotent = true

  static let inbox = "staging.sync_inbox"

  public var within: Duration

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    within = try parameters[.within]?.duration() ?? .seconds(120)
  }

  public var declaredOutputs: Set<String>? { ["before", "after"] }

  public func plan(_ context: PlanContext) -> [String] {
    let role = context.values.environment["database.backup_role"] ?? "the backup role"
    return [
      "as \(role): count the records in \(Self.inbox), then once a second until a new one arrives (at most \(DurationText.format(within)))"
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let database = context.environment.database else {
      throw StepFailure(.failed, "no database in the inventory")
    }
    return try await PGSession.run(
      database.conninfo(user: database.backupRole),
      cannotConnect: "cannot connect to \(database.name) as \(database.backupRole)",
      failed: "waiting for the sync failed"
    ) { connection in
      try await waitForNewRecord(connection, context)
    }
  }

  private func waitForNewRecord(_ connection: PGConnection, _ context: StepContext) async throws(StepFailure)
    -> StepResult
  {
    func count() async throws(StepFailure) -> Int64 {
      do {
        return try await connection.query("SELECT count(*) AS n FROM staging.sync_inbox").first?.decode(Int64.self, "n")
          ?? 0
      } catch {
        throw StepFailure(.failed, "cannot count the records in \(Self.inbox): \(error)")
      }
    }
    // No count may hang the step: each statement ends after 10 s (the step's timeout bounds the rest).
    do { try await connection.query("SET statement_timeout = '10s'") } catch {
      throw StepFailure(.failed, "cannot set statement_timeout: \(error)")
    }
    let before = try await count()
    var lastError = ""
    let clock = ContinuousClock()
    let deadline = clock.now + within
    while clock.now < deadline {
      // Waiting for the iPads, not for nexus-dr: the count is the condition, the second only its pace.
      do { try await Task.sleep(for: .seconds(1)) } catch {
        throw StepFailure(.interrupted, "interrupted while waiting for the sync")
      }
      // Right after the services start a count may fail once: that is "not yet", not the end.
      let now: Int64
      do { now = try await count() } catch {
        lastError = " (the last count failed: \(error.message))"
        continue
      }
      if now > before {
        context.console.line("    sync resumed: \(before) -> \(now) records")
        return StepResult(outputs: ["before": String(before), "after": String(now)])
      }
    }
    throw StepFailure(
      .failed,
      "no new record in \(Self.inbox) in \(DurationText.format(within))\(lastError): is nexus-sync running, and can the iPads reach the gate?"
    )
  }
}
