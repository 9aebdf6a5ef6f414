import Crypto
import Foundation

/// A WireGuard configuration file kept as its lines, so that an edit changes the
/// lines it means and leaves every other byte of the file as it was (comments,
/// order, blank lines, the trailing newline).
public struct WireGuardConfig: Sendable, Equatable {
  /// One `[Interface]` or `[Peer]` section: its name and the indices of its lines
  /// (the header line included).
  public struct Section: Sendable, Equatable {
    public var name: String
    public var lines: Range<Int>
  }

  public private(set) var lines: [String]
  /// `\n`, or `\r\n` for a file written with CRLF line ends (Swift sees `\r\n` as one
  /// character, so such a file is split on it and joined with it again).
  public let lineEnd: String

  public init(text: String) {
    lineEnd = text.contains("\r\n") ? "\r\n" : "\n"
    lines = text.components(separatedBy: lineEnd)
  }

  public var text: String { lines.joined(separator: lineEnd) }

  public var sections: [Section] {
    var result: [Section] = []
    for (index, line) in lines.enumerated() {
      // `[Peer] # nexus-server` and CRLF line ends are headers too.
      let trimmed = String(line.prefix { $0 != "#" }).trimmingCharacters(in: .whitespacesAndNewlines)
      if trimmed.hasPrefix("["), trimmed.hasSuffix("]") {
        if var last = result.popLast() {
          last.lines = last.lines.lowerBound..<index
          result.append(last)
        }
        result.append(Section(name: String(trimmed.dropFirst().dropLast()).lowercased(), lines: index..<lines.count))
      }
    }
    return result
  }

  public var interface: Section? { sections.first { $0.name == "interface" } }
  public var peers: [Section] { sections.filter { $0.name == "peer" } }

  /// `Key = value` of a line (keys compared case-insensitively, as wg does), or nil for
  /// comments, blank lines and headers.
  static func setting(_ line: String) -> (key: String, value: String)? {
    let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !trimmed.hasPrefix("#"), !trimmed.hasPrefix("["), let equals = trimmed.firstIndex(of: "=") else { return nil }
    let key = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
    var value = trimmed[trimmed.index(after: equals)...].trimmingCharacters(in: .whitespaces)
    if let hash = value.firstIndex(of: "#") { value = value[..<hash].trimmingCharacters(in: .whitespaces) }
    return key.isEmpty ? nil : (key, value)
  }

  /// The line index of `key` in `section`, if it is set there.
  public func lineIndex(of key: String, in section: Section) -> Int? {
    section.lines.first { Self.setting(lines[$0])?.key.lowercased() == key.lowercased() }
  }

  public func value(of key: String, in section: Section) -> String? {
    lineIndex(of: key, in: section).flatMap { Self.setting(lines[$0])?.value }
  }

  /// Replaces the value of `key` in `section`, keeping the line's indentation and
  /// spelling of the key; adds `Key = value` after the last setting when absent.
  public mutating func set(_ key: String, to value: String, in section: Section) {
    if let index = lineIndex(of: key, in: section) {
      // Only the old value's characters change: indentation, spacing, a trailing
      // comment and a CR line end stay.
      let line = lines[index]
      // lineIndex(of:in:) found the line by its "KEY =": the "=" is there.
      guard let equals = line.firstIndex(of: "=") else { return }
      var start = line.index(after: equals)
      while start < line.endIndex, line[start] == " " || line[start] == "\t" { start = line.index(after: start) }
      var end = line[start...].firstIndex { $0 == "#" || $0 == "\r" } ?? line.endIndex
      while end > start, line[line.index(before: end)] == " " || line[line.index(before: end)] == "\t" {
        end = line.index(before: end)
      }
      lines[index] =
        String(line[..<start]) + (start == line.index(after: equals) && start == end ? " " : "") + value
        + String(line[end...])
    } else {
      let last =
        section.lines.last { !lines[$0].trimmingCharacters(in: .whitespaces).isEmpty } ?? section.lines.lowerBound
      lines.insert("\(key) = \(value)", at: last + 1)
    }
  }

  /// The peer whose `AllowedIPs` include exactly `address` (with or without `/32`).
  public func peer(allowing address: String) -> Section? {
    let bare = address.split(separator: "/").first.map(String.init) ?? address
    return peers.first { peer in
      let allowed = (value(of: "AllowedIPs", in: peer) ?? "").split(separator: ",").map {
        $0.trimmingCharacters(in: .whitespaces)
      }
      return allowed.contains(bare) || allowed.contains("\(bare)/32")
    }
  }

  public func peer(publicKey: String) -> Section? {
    peers.first { value(of: "PublicKey", in: $0) == publicKey }
  }
}

/// WireGuard keys: base64 of 32 bytes; the public key is X25519 of the private one.
public enum WireGuardKey {
  public struct Invalid: Error, Sendable { public var reason: String }

  /// The public key of a private key in WireGuard's text form. The message of the
  /// error never contains the key.
  public static func publicKey(ofPrivate text: String) throws(Invalid) -> String {
    let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
    guard trimmed.count == 44, let raw = Data(base64Encoded: trimmed), raw.count == 32 else {
      throw Invalid(reason: "not a WireGuard private key (one line of 44 base64 characters, as `wg genkey` writes)")
    }
    do {
      let key = try Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw)
      return key.publicKey.rawRepresentation.base64EncodedString()
    } catch {
      throw Invalid(reason: "not a usable X25519 private key")
    }
  }

  public static func isPublicKey(_ text: String) -> Bool {
    text.count == 44 && Data(base64Encoded: text)?.count == 32
  }
}

/// Hex sha256, as sha256sum prints it.
enum Digest {
  static func sha256Hex(_ bytes: [UInt8]) -> String {
    SHA256.hash(data: Data(bytes)).map { String(format: "%02x", $0) }.joined()
  }
}
