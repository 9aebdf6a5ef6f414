import NexusCore
import NexusPostgres

/// A step's work on one PostgreSQL connection, closed on every path (`PGConnection.with`),
/// with the step's own words for what went wrong.
enum PGSession {
  /// Runs `body` on a connection to `conninfo`. A ``StepFailure`` from `body` passes through;
  /// any other error fails the step as `cannotConnect: …` when no connection was made, else as
  /// `failed: …`.
  static func run<Result>(
    _ conninfo: String, cannotConnect: String, failed: String, isolation: isolated (any Actor)? = #isolation,
    _ body: (PGConnection) async throws -> Result
  ) async throws(StepFailure) -> Result {
    let connection: PGConnection
    do { connection = try await PGConnection.connect(conninfo: conninfo) } catch {
      throw StepFailure(.failed, "\(cannotConnect): \(error)")
    }
    do {
      return try await PGConnection.using(connection, body)
    } catch let failure as StepFailure {
      throw failure
    } catch {
      throw StepFailure(.failed, "\(failed): \(error)")
    }
  }
}
