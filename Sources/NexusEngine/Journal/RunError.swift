/// Why a run could not start, resume or report — before or around the steps themselves.
public struct RunError: Error, Sendable, CustomStringConvertible {
  public enum Code: String, Sendable {
    case stateUnwritable
    case unknownRun
    case corruptJournal
    case runbookChanged
    case locked
    case invalidInput
    case nothingToResume
  }

  public var code: Code
  public var message: String

  public init(_ code: Code, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { message }
}
