import ArgumentParser

/// The four disasters, each recovered by the runbook of its name (runbooks/corrupt-db.yaml, …).
enum Scenario: String, ExpressibleByArgument, CaseIterable {
  case corruptDB = "corrupt-db"
  case serverFailure = "server-failure"
  case gatewayFailure = "gateway-failure"
  case nasFailure = "nas-failure"

  /// The id of the runbook that recovers from it.
  var runbook: String { rawValue }
}
