import NexusCore

/// A command to run on a host.
///
/// An argument array is the normal form: it is quoted by ``ShellQuote`` when it
/// must pass through a remote shell, and executed directly on the local host.
/// A command line is for the few actions that need the shell's pipes or
/// redirections; it runs under `/bin/sh -c` locally and the account's shell remotely.
public struct HostCommand: Sendable, Hashable {
  public enum Form: Sendable, Hashable {
    case argv([String])
    case shell(String)
  }

  public var form: Form
  /// Variables set for this command only. Not for secrets: on a remote host they
  /// are part of the command line.
  public var environment: [String: String]
  /// Bytes written to the command's standard input, then end-of-file.
  public var stdin: [UInt8]?
  /// The command is ended (its whole process group, on the remote host too) after this long.
  public var timeout: Duration?
  /// How many bytes of each stream are kept in the result; the rest is streamed only.
  public var captureLimit: Int

  public init(
    _ form: Form, environment: [String: String] = [:], stdin: [UInt8]? = nil,
    timeout: Duration? = nil, captureLimit: Int = 1 << 20
  ) {
    self.form = form
    self.environment = environment
    self.stdin = stdin
    self.timeout = timeout
    self.captureLimit = captureLimit
  }

  public static func argv(_ arguments: [String], timeout: Duration? = nil) -> HostCommand {
    HostCommand(.argv(arguments), timeout: timeout)
  }

  public static func shell(_ line: String, timeout: Duration? = nil) -> HostCommand {
    HostCommand(.shell(line), timeout: timeout)
  }

  /// The command as a POSIX shell would read it: what `plan` shows and what SSH sends.
  public var commandLine: String {
    let body: String
    switch form {
    case .argv(let arguments): body = ShellQuote.commandLine(arguments)
    case .shell(let line): body = line
    }
    let exports = environment.sorted { $0.key < $1.key }.map { "export \($0.key)=\(ShellQuote.quote($0.value));" }
    return (exports + [body]).joined(separator: " ")
  }

  /// The command line with secrets removed, for messages and journals.
  public var displayLine: String { Redactor.redact(commandLine) }

  /// Environment variable names must be plain identifiers: anything else could
  /// change the meaning of the exported command line.
  static func isValidVariableName(_ name: String) -> Bool {
    guard let first = name.utf8.first,
      first == UInt8(ascii: "_") || (65...90).contains(first) || (97...122).contains(first)
    else { return false }
    return name.utf8.allSatisfy {
      $0 == UInt8(ascii: "_") || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0)
    }
  }
}

/// Which stream a piece of output came from.
public enum OutputStream: String, Sendable {
  case stdout
  case stderr
}

/// Receives output as it arrives, in pieces of any size. Called from a
/// transport's own thread; it must not block for long.
public typealias OutputHandler = @Sendable (OutputStream, [UInt8]) -> Void
