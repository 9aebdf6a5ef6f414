/// A problem in a file the operator wrote: the inventory or a runbook.
///
/// Its description is `file:line:column: message` followed by a hint, the form
/// compilers use, so editors and terminals can jump to the place.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
  public enum Code: String, Sendable {
    case fileUnreadable
    case syntax
    case unknownKey
    case missingKey
    case wrongType
    case invalidValue
    case unknownHost
    case unknownEnvironment
    case duplicate
  }

  public var code: Code
  public var file: String
  public var line: Int
  public var column: Int
  public var message: String
  public var hint: String?

  public init(
    _ code: Code, file: String, line: Int = 0, column: Int = 0, message: String,
    hint: String? = nil
  ) {
    self.code = code
    self.file = file
    self.line = line
    self.column = column
    self.message = message
    self.hint = hint
  }

  public var location: String {
    line > 0 ? "\(file):\(line):\(column)" : file
  }

  public var description: String {
    var text = "\(location): error: \(message)"
    if let hint { text += "\n  hint: \(hint)" }
    return text
  }
}

/// Several configuration errors found in one pass, so the operator fixes them all at once.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
  public var errors: [ConfigError]
  public init(_ errors: [ConfigError]) { self.errors = errors }
  public var description: String { errors.map(\.description).joined(separator: "\n") }
}
