/// Removes secrets from text before it is printed, logged or stored.
///
/// Covers what this tool can meet: conninfo and URI passwords, WireGuard
/// `PrivateKey =` / `PresharedKey =` lines, and `password`-, `secret`- or
/// `token`-like `key = value` settings in configuration files.
public enum Redactor {
  public static let mask = "[REDACTED]"

  public static func redact(_ text: String) -> String {
    var result = text
    // A WireGuard key alone on a line (`wg genkey`, /etc/wireguard/privatekey): 43 base64 characters and '='.
    if text.contains("=") { result = result.replacing(bareKey) { _ in mask } }
    // Most text holds none of the words the other patterns need; skip them then.
    let lowered = result.lowercased()
    guard triggers.contains(where: { lowered.contains($0) }) else { return result }
    for pattern in patterns {
      result = result.replacing(pattern) { match in String(match.output.1) + mask }
    }
    return result
  }

  nonisolated(unsafe) private static let bareKey = #/(?m)^[A-Za-z0-9+\/]{43}=$/#

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

  /// A step's outputs, each value redacted — except outputs named `public_key` (or
  /// `…_public_key`): a WireGuard public key is a bare base64 key on its own, which the
  /// line rule would mask, and the actions that declare one derive it from the private
  /// key and never output the private key itself.
  public static func redact(outputs: [String: String]) -> [String: String] {
    var result: [String: String] = [:]
    for (name, value) in outputs {
      let isPublicKey = (name == "public_key" || name.hasSuffix("_public_key")) && value.count == 44 && !value.contains("\n")
      result[name] = isPublicKey ? value : redact(value)
    }
    return result
  }
}
