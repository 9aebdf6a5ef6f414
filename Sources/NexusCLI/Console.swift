import Foundation
import NexusCore

/// Writing to the terminal.
enum Console {
  static func error(_ text: String) {
    FileHandle.standardError.write(Data((Redactor.redact(text) + "\n").utf8))
  }

  static func line(_ text: String) {
    print(Redactor.redact(text))
  }
}
