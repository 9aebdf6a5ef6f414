import Foundation
import NexusCore
import NexusTransport

/// `host.verify`: a (re)provisioned host answers over SSH with a host key nexus-dr
/// trusts and the expected hostname. When its key is not (or no longer) in the
/// inventory's known_hosts — a reinstalled machine has a new one — the operator
/// types the fingerprint shown on the host's console (question `fingerprint.ID`);
/// the key the host presents (ssh-keyscan) must have exactly that fingerprint, and
/// only then does it replace the address's old entry in known_hosts. Any other
/// key is refused: the wrong machine, or someone in between.
public struct HostVerifyAction: StepAction {
  public static let name = "host.verify"
  public enum Parameter: String, ParameterKey { case hostname }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var hostname: Template

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    hostname = try context.template(
      try parameters.required(.hostname, hint: "the name the host must answer to `hostname`"))
  }

  public var declaredOutputs: Set<String>? { ["hostname", "fingerprint", "known_hosts"] }

  public func plan(_ context: PlanContext) -> [String] {
    let host = context.step.host ?? "the host"
    return [
      "connect to \(host) with strict host-key checking; `hostname` must answer \((try? hostname.render(context.values)) ?? hostname.description)",
      "a key not in known_hosts: ask for the fingerprint on the host's console (question fingerprint.\(context.step.id)); ssh-keyscan's key must match it, then it replaces the old entry",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    let host = context.step.host ?? "server"
    let expected = try context.render(hostname)
    guard case .ssh(let address, let port, _) = context.environment.host(host)?.transport else {
      throw StepFailure(.failed, "\(host) is not reached over SSH in this environment; nothing to verify")
    }
    let knownHosts = context.environment.ssh.knownHosts
    var updated = "unchanged"
    var firstError = ""
    do {
      return try await answers(expected, host: host, knownHosts: updated, context: context)
    } catch {
      firstError = error.message
    }
    // Not trusted (or not answering): what key does it present?
    let scan = try await context.run(
      .argv(
        ["ssh-keyscan", "-T", "10", "-p", String(port), "-t", "ed25519,ecdsa,rsa", address], timeout: .seconds(60)),
      on: nil, quiet: true, local: true)
    let keys = scan.stdoutText.split(whereSeparator: \.isNewline).map(String.init).filter {
      !$0.hasPrefix("#") && $0.split(separator: " ").count >= 3
    }
    guard !keys.isEmpty else {
      throw StepFailure(.failed, "\(host) (\(address):\(port)) does not answer SSH: \(firstError)")
    }
    var fingerprints: [(line: String, fingerprint: String, type: String, rank: Int)] = []
    for line in keys {
      var fingerprint = HostCommand(.argv(["ssh-keygen", "-l", "-E", "sha256", "-f", "-"]), timeout: .seconds(30))
      fingerprint.stdin = Array((line + "\n").utf8)
      let result = try await context.run(fingerprint, on: nil, quiet: true, local: true)
      let keyType = String(line.split(separator: " ")[1])
      if let value = result.stdoutText.split(separator: " ").dropFirst().first {
        fingerprints.append(
          (line, String(value), KnownHosts.fileStem(keyType: keyType), KnownHosts.rank(keyType: keyType)))
      }
    }
    // In OpenSSH's order, as the SSH session asks for them: ed25519 first.
    fingerprints.sort { $0.rank < $1.rank }
    let presented = fingerprints.map { "\($0.type) \($0.fingerprint)" }.joined(separator: ", ")
    let types = fingerprints.map(\.type)
    context.console.line(
      "    \(host) (\(address)) is not trusted yet: \(firstError.split(separator: "\n").first ?? "")")
    context.console.line("    it presents: \(presented)")
    let answer = try await context.ask(
      Question(
        id: "fingerprint.\(context.step.id)",
        text: """
          On \(host)'s own console (not over the network), run: ssh-keygen -lf /etc/ssh/ssh_host_\(types.first ?? "ed25519")_key.pub
          and type the fingerprint it prints (SHA256:…)\(types.count > 1 ? "; the \(types.dropFirst().joined(separator: " or ")) key's fingerprint is accepted too" : "").
          nexus-dr trusts the new key only if a key the host presents over the network has exactly that fingerprint.
          Or answer abort.
          """,
        kind: .fingerprint))
    if answer.value == "abort" { throw StepFailure(.declined, "the operator stopped at '\(context.step.id)'") }
    guard let match = fingerprints.first(where: { $0.fingerprint == answer.value }) else {
      throw StepFailure(
        .failed,
        "\(address) presents \(presented), not \(answer.value): do not go on — it is another machine, or someone is in between. known_hosts was not changed."
      )
    }
    let pattern = port == 22 ? address : "[\(address)]:\(port)"
    let remove = try await context.run(
      .argv(["ssh-keygen", "-R", pattern, "-f", knownHosts], timeout: .seconds(30)), on: nil, quiet: true, local: true)
    guard remove.succeeded || remove.stderrTail.contains("not found") else {
      throw StepFailure(.failed, "cannot remove the old entry for \(pattern) from \(knownHosts): \(remove.stderrTail)")
    }
    var append = HostCommand(
      .argv(["sh", "-c", #"umask 077; cat >> "$1" && sync "$1""#, "known-hosts", knownHosts]), timeout: .seconds(30))
    append.stdin = Array((match.line + "\n").utf8)
    let appended = try await context.run(append, on: nil, quiet: true, local: true)
    guard appended.succeeded else {
      throw StepFailure(.failed, "cannot add the new key to \(knownHosts): \(appended.stderrTail)")
    }
    context.console.line(
      "    \(knownHosts): the old entry for \(pattern) replaced by \(match.fingerprint) (the previous file is kept as \(knownHosts).old)"
    )
    updated = "replaced"
    var result = try await answers(expected, host: host, knownHosts: updated, context: context)
    result.outputs["fingerprint"] = match.fingerprint
    return result
  }

  func answers(_ expected: String, host: String, knownHosts: String, context: StepContext) async throws(StepFailure)
    -> StepResult
  {
    let result = try await context.run(.argv(["hostname"], timeout: .seconds(30)), quiet: true)
    let name = result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
    guard result.succeeded else { throw StepFailure(.failed, "hostname failed on \(host): \(result.stderrTail)") }
    guard name == expected else {
      throw StepFailure(
        .failed,
        "\(host) answers as '\(name)', not '\(expected)': set its hostname (hostnamectl set-hostname \(expected)) and resume"
      )
    }
    context.console.line("    \(host) answers as \(name), host key trusted")
    return StepResult(outputs: ["hostname": name, "fingerprint": "", "known_hosts": knownHosts])
  }
}

extension StepContext {
  /// Runs a command on the host the step names, or with `local` on this machine (where nexus-dr runs).
  func run(_ command: HostCommand, on host: String?, quiet: Bool, local: Bool) async throws(StepFailure)
    -> CommandResult
  {
    guard local else { return try await run(command, on: host, quiet: quiet) }
    do { return try await LocalTransport().run(command) } catch { throw StepFailure.from(error) }
  }
}
