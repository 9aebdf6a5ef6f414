/// The one place where a value is made safe for a POSIX shell.
///
/// Remote commands over SSH always pass through the account's shell, so every
/// argument we send is quoted here. Single quotes make everything literal in
/// POSIX `sh`, `bash` and `dash`; a single quote inside the value is written as
/// `'\''` (close, escaped quote, reopen).
public enum ShellQuote {
  /// Quotes one value so the shell reads it back as exactly one word, unchanged.
  public static func quote(_ value: String) -> String {
    if !value.isEmpty, value.utf8.allSatisfy(isPlainByte) {
      return value
    }
    return "'" + value.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
  }

  /// Joins an argument array into one command line that the shell splits back
  /// into exactly these arguments.
  public static func commandLine(_ argv: [String]) -> String {
    argv.map(quote).joined(separator: " ")
  }

  /// Characters that never need quoting: letters, digits and `%+,-./:=@_`.
  private static func isPlainByte(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      return true
    case UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: "-"),
      UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: ":"), UInt8(ascii: "="),
      UInt8(ascii: "@"), UInt8(ascii: "_"):
      return true
    default:
      return false
    }
  }
}
