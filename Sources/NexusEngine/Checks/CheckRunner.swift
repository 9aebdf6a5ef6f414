import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// Runs checks: read-only probes whose result is pass or fail with evidence.
public struct CheckRunner: Sendable {
  public var environment: Environment
  public var transports: HostTransports

  public init(environment: Environment, transports: HostTransports) {
    self.environment = environment
    self.transports = transports
  }

  public func run(_ check: Check, values: ReferenceValues) async -> CheckResult {
    let clock = ContinuousClock()
    let start = clock.now
    let (passed, evidence) = await probe(check, values: values)
    return CheckResult(
      id: check.id, title: check.title, passed: passed, evidence: Redactor.redact(evidence),
      durationMs: (clock.now - start).milliseconds)
  }

  private func probe(_ check: Check, values: ReferenceValues) async -> (Bool, String) {
    switch check.probe {
    case .hostReachable(let host):
      guard environment.host(host) != nil else {
        return (false, "environment '\(environment.name)' has no host '\(host)'")
      }
      do {
        let transport = try transports.transport(for: host)
        let name = try await transport.runChecked(.argv(["hostname"], timeout: .seconds(30))).stdoutText
        return (true, "answers as \(name.trimmingCharacters(in: .whitespacesAndNewlines))")
      } catch {
        return (false, error.description)
      }
    case .hostDown(let host):
      guard environment.host(host) != nil else {
        return (false, "environment '\(environment.name)' has no host '\(host)'")
      }
      do {
        let transport = try transports.transport(for: host)
        let name = try await transport.runChecked(.argv(["hostname"], timeout: .seconds(30))).stdoutText
        return (
          false,
          "\(host) answers as \(name.trimmingCharacters(in: .whitespacesAndNewlines)) with its known host key: it is not down"
        )
      } catch {
        // Down means: nothing answers, or another machine (another host key) does. An error
        // on this side (a missing key file, refused authentication) proves nothing.
        let line = error.description.split(separator: "\n").first.map(String.init) ?? ""
        switch error.code {
        case .unreachable, .hostKeyChanged, .hostKeyUnknown, .timeout, .connectionLost:
          return (true, "\(host) does not answer with its known host key: \(line)")
        default:
          return (false, "cannot tell whether \(host) is down: \(line)")
        }
      }
    case .databaseUp:
      guard let database = environment.database else {
        return (false, "environment '\(environment.name)' has no database")
      }
      do {
        return try await PGConnection.with(conninfo: database.conninfo()) { connection in
          (true, "PostgreSQL \(try await connection.serverVersion()) at \(connection.target)")
        }
      } catch {
        return (false, "\(error)")
      }
    case .command(let host, let spec):
      return await commandProbe(host: host, spec: spec, values: values)
    }
  }

  // Kept apart from `probe`: the release compiler (Swift 6.3.1) crashed on this case inline.
  private func commandProbe(host: String, spec: CommandSpec, values: ReferenceValues) async -> (Bool, String) {
    let command: HostCommand
    do { command = try spec.render(values, timeout: .seconds(120)) } catch { return (false, error.message) }
    let transport: any Transport
    do { transport = try transports.transport(for: host) } catch { return (false, error.description) }
    let result: CommandResult
    do { result = try await transport.run(command) } catch { return (false, error.description) }
    let termination = result.termination.description
    let code = result.exitCode ?? -1
    let passed = spec.expectedExit.contains(code)
    let lines = (result.stdoutText + result.stderrText).split(separator: "\n")
    let output = lines.last.map { String($0.prefix(200)) } ?? ""
    return (passed, "\(host): \(command.displayLine) → \(termination)\(output.isEmpty ? "" : ": \(output)")")
  }

  /// What a check will do, for `plan`.
  public static func describe(_ check: Check, values: ReferenceValues) -> String {
    switch check.probe {
    case .hostReachable(let host): "connect to \(host), verify its host key, run hostname"
    case .hostDown(let host): "connect to \(host): passes only if it does not answer with its known host key"
    case .databaseUp: "connect to the database and ask its version"
    case .command(let host, let spec): "run on \(host): \(spec.display(values))"
    }
  }
}
