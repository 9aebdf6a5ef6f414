/// Removes secrets from text before it is printed, logged or stored.
///
/// Covers what this tool can meet: conninfo and URI passwords, WireGuard
/// `PrivateKey =` / `PresharedKey =` lines, and `password`-, `secret`- or
/// `token`-like `key = value` settings in configuration files.
public enum Redactor {
  public static let mask = "[REDACTED]"

  public static func redact(_ text: String) -> String {
    // Most text holds none of the words the patterns need; skip the regular expressions then.
    let lowered = text.lowercased()
    guard triggers.contains(where: { lowered.contains($0) }) else { return text }
    var result = text
    for pattern in patterns {
      result = result.replacing(pattern) { match in String(match.output.1) + mask }
    }
    return result
  }

  /// Every pattern below needs one of these words (lowercased) to match.
  private static let triggers = ["password", "privatekey", "presharedkey", "secret", "token", "postgres"]

  // Each pattern keeps what precedes the secret in its one capture group.
  nonisolated(unsafe) private static let patterns: [Regex<(Substring, Substring)>] = [
    // password=secret or password='sec ret' in a conninfo string.
    #/(?i)(password\s*=\s*)(?:'(?:[^'\\]|\\.)*'|[^\s]+)/#,
    // postgresql://user:secret@host
    #/(?i)(postgres(?:ql)?://[^:/@\s]+:)[^@\s]+(?=@)/#,
    // WireGuard keys and secret-looking settings in configuration files.
    #/(?im)^(\s*(?:PrivateKey|PresharedKey|[A-Za-z_]*(?:password|secret|token)[A-Za-z_]*)\s*[=:]\s*)\S.*$/#,
  ]
}
