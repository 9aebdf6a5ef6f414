import NexusCore

/// Why a host could not be reached, or a command or transfer on it failed.
///
/// Every error names the host; its description says what failed, where, and
/// what to try next. It never contains a secret: command lines and stderr are
/// redacted, and no password or key is ever put into one.
public struct TransportError: Error, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable {
    /// No TCP connection within the connect timeout, or the connection broke.
    case unreachable
    /// The host refused every key offered.
    case authenticationRefused
    /// The host's key is not in known_hosts.
    case hostKeyUnknown
    /// The host's key differs from the one in known_hosts.
    case hostKeyChanged
    /// The command did not finish in time and was ended.
    case timeout
    /// The connection broke while a command ran: whether it finished is unknown.
    case connectionLost
    /// The command ran and failed.
    case commandFailed
    /// A file transfer failed or its size or checksum did not match.
    case transferFailed
    /// The operator interrupted the command; it was ended.
    case interrupted
    /// Something on this side failed: a missing key file, a local file error.
    case localFailure
    /// The SSH library reported an error outside the cases above.
    case protocolError
  }

  public var code: Code
  /// The host's role in the inventory (`gate`) or, before that is known, its address.
  public var host: String
  /// Address and port, when reached over SSH.
  public var address: String?
  public var detail: String
  public var hint: String?
  public var command: String?
  public var termination: CommandResult.Termination?
  public var stderrTail: String?

  public init(
    _ code: Code, host: String, address: String? = nil, detail: String, hint: String? = nil,
    command: String? = nil, termination: CommandResult.Termination? = nil, stderrTail: String? = nil
  ) {
    self.code = code
    self.host = host
    self.address = address
    self.detail = Redactor.redact(detail)
    self.hint = hint
    self.command = command.map(Redactor.redact)
    self.termination = termination
    self.stderrTail = stderrTail.map(Redactor.redact)
  }

  private var summary: String {
    switch code {
    case .unreachable: "cannot reach the host"
    case .authenticationRefused: "authentication refused"
    case .hostKeyUnknown: "host key unknown"
    case .hostKeyChanged: "HOST KEY CHANGED"
    case .timeout: "timed out"
    case .connectionLost: "connection lost during the command"
    case .commandFailed: "command failed"
    case .transferFailed: "file transfer failed"
    case .interrupted: "interrupted"
    case .localFailure: "local error"
    case .protocolError: "SSH error"
    }
  }

  public var description: String {
    var place = host
    if let address { place += " (\(address))" }
    var lines = ["\(place): \(summary): \(detail)"]
    if let command { lines.append("  command: \(command)") }
    if let stderrTail {
      let tail = stderrTail.split(separator: "\n", omittingEmptySubsequences: true).suffix(10)
      if !tail.isEmpty { lines.append("  stderr (last lines):") }
      lines += tail.map { "    \($0)" }
    }
    if let hint { lines.append("  next: \(hint)") }
    return lines.joined(separator: "\n")
  }
}
