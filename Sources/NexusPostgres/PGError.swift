import NexusCore

/// A PostgreSQL failure. Keeps the SQLSTATE; never holds a password or a conninfo.
public struct PGError: Error, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable {
    /// The server could not be reached or refused the connection.
    case connectionFailed
    /// The server rejected the credentials.
    case authenticationFailed
    /// A statement failed; `sqlState` says why.
    case queryFailed
    /// A value could not be read as the type asked for.
    case decoding
    /// The connection was closed.
    case closed
  }

  public var code: Code
  /// The five-character SQLSTATE (`42P01` undefined table), when the server sent one.
  public var sqlState: String?
  public var message: String
  public var detail: String?
  public var hint: String?
  /// Where: `database nexus on 198.18.0.10:5432`.
  public var target: String?

  public init(
    _ code: Code, sqlState: String? = nil, message: String, detail: String? = nil, hint: String? = nil,
    target: String? = nil
  ) {
    self.code = code
    self.sqlState = sqlState
    self.message = Redactor.redact(message)
    self.detail = detail.map(Redactor.redact)
    self.hint = hint
    self.target = target
  }

  public var description: String {
    var text = target.map { "\($0): " } ?? ""
    text += message
    if let sqlState { text += " (SQLSTATE \(sqlState))" }
    if let detail { text += "\n  detail: \(detail)" }
    if let hint { text += "\n  next: \(hint)" }
    return text
  }
}
