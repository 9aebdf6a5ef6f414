import Crypto
import Foundation

/// What an OpenSSH `known_hosts` file says about one host: the key types it holds for it.
///
/// A stock Debian or Raspberry Pi OS sshd offers rsa, ecdsa and ed25519 host keys, and
/// libssh2 (1.10) asks for ecdsa first. A known_hosts entry matches only a key of the same
/// type, so a file holding the host's ed25519 key (what `host.verify` writes, what an operator
/// copies from the console) would never match. Before the handshake the SSH session therefore
/// asks for the types known_hosts holds for that host (`hostKeyMethods`), as OpenSSH does.
public struct KnownHosts: Sendable {
  public struct Entry: Sendable, Equatable {
    /// The host field's comma-separated patterns.
    public var patterns: [String]
    /// The key type as the file spells it (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`).
    public var keyType: String
  }

  public var entries: [Entry]

  /// Parses the file's text; markers (`@cert-authority`, `@revoked`) and comments are skipped:
  /// neither says which host key a host presents.
  public init(text: String) {
    entries = text.split(whereSeparator: \.isNewline).compactMap { line in
      let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
      guard fields.count >= 3, let first = fields.first, !first.hasPrefix("#"), !first.hasPrefix("@") else {
        return nil
      }
      return Entry(patterns: first.split(separator: ",").map(String.init), keyType: String(fields[1]))
    }
  }

  public init(file: String) {
    self.init(text: (try? String(contentsOfFile: file, encoding: .utf8)) ?? "")
  }

  /// The key types held for `address` on `port`, in file order, without repeats.
  public func keyTypes(address: String, port: Int) -> [String] {
    let name = port == 22 ? address : "[\(address)]:\(port)"
    var types: [String] = []
    for entry in entries where entry.patterns.contains(where: { Self.matches($0, name: name) }) {
      if !types.contains(entry.keyType) { types.append(entry.keyType) }
    }
    return types
  }

  /// A plain name, or OpenSSH's hashed form `|1|salt|HMAC-SHA1(salt, name)` (HashKnownHosts).
  /// Negated and wildcard patterns are not host keys nexus-dr writes; they never match here.
  static func matches(_ pattern: String, name: String) -> Bool {
    guard pattern.hasPrefix("|1|") else { return pattern == name }
    let parts = pattern.split(separator: "|", omittingEmptySubsequences: false)
    guard parts.count == 4, let salt = Data(base64Encoded: String(parts[2])),
      let hash = Data(base64Encoded: String(parts[3]))
    else {
      return false
    }
    let mac = HMAC<Insecure.SHA1>.authenticationCode(for: Data(name.utf8), using: SymmetricKey(data: salt))
    return Data(mac) == hash
  }

  /// OpenSSH's order of preference (ssh_config HostKeyAlgorithms, OpenSSH 9): ed25519, then
  /// ecdsa, then rsa with SHA-2 signatures before the SHA-1 one.
  static let preference: [(keyType: String, methods: [String])] = [
    ("ssh-ed25519", ["ssh-ed25519"]),
    ("ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]),
    ("ecdsa-sha2-nistp384", ["ecdsa-sha2-nistp384"]),
    ("ecdsa-sha2-nistp521", ["ecdsa-sha2-nistp521"]),
    ("ssh-rsa", ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]),
    ("ssh-dss", ["ssh-dss"]),
  ]

  /// The host-key methods to ask the server for: the types known_hosts holds for the host, in
  /// OpenSSH's order; every type (ed25519 first) when it holds none, so that the key shown to
  /// the operator for a new host is the one `ssh` would show.
  /// `supported` (libssh2's own list, when known) drops the methods the library lacks.
  public static func hostKeyMethods(for knownTypes: [String], supported: [String]? = nil) -> String {
    let chosen = preference.filter { knownTypes.contains($0.keyType) }
    let methods = (chosen.isEmpty ? preference : chosen).flatMap(\.methods)
    let usable = supported.map { list in methods.filter(list.contains) } ?? methods
    return (usable.isEmpty ? methods : usable).joined(separator: ",")
  }

  /// A key type's place in OpenSSH's order of preference (lower first; unknown types last).
  public static func rank(keyType: String) -> Int {
    preference.firstIndex { $0.keyType == keyType } ?? preference.count
  }

  /// The file name part an operator finds the key under on the host's console:
  /// `/etc/ssh/ssh_host_\(fileStem)_key.pub`.
  public static func fileStem(keyType: String) -> String {
    switch keyType {
    case "ssh-ed25519": "ed25519"
    case "ssh-rsa": "rsa"
    case "ssh-dss": "dsa"
    case let type where type.hasPrefix("ecdsa-"): "ecdsa"
    default: "ed25519"
    }
  }
}
