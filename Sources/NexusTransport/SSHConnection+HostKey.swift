import Crypto
import Foundation

/// What the host presented, and what known_hosts says about it.
struct HostKeyCheck {
  enum Verdict {
    case match
    case mismatch(knownFingerprint: String?)
    case notFound
  }
  var verdict: Verdict
  var fingerprint: String
  var keyType: String
  /// The line to add to known_hosts to accept this key.
  var knownHostsLine: String
}

extension SSHConnection {
  /// Compares the key the host presented with the known_hosts file.
  func checkHostKey(knownHostsFile: String) throws(TransportError) -> HostKeyCheck {
    guard let session else { throw failure(.localFailure, "not connected") }
    guard let (keyBytes, type) = LibSSH2.hostKey(session) else {
      throw failure(.protocolError, "the host presented no host key: \(lastError)")
    }
    let (typeName, typeMask) = LibSSH2.keyType(type)
    let fingerprint = Self.fingerprint(Data(keyBytes))
    let hostField = port == 22 ? address : "[\(address)]:\(port)"
    let line = "\(hostField) \(typeName) \(Data(keyBytes).base64EncodedString())"

    guard let knownHosts = LibSSH2.newKnownHosts(session) else {
      throw failure(.localFailure, "libssh2 could not allocate the known hosts list")
    }
    defer { LibSSH2.free(knownHosts: knownHosts) }
    if !FileManager.default.fileExists(atPath: knownHostsFile) {
      return HostKeyCheck(verdict: .notFound, fingerprint: fingerprint, keyType: typeName, knownHostsLine: line)
    }
    guard LibSSH2.read(knownHosts: knownHosts, file: knownHostsFile) else {
      throw failure(
        .localFailure, "cannot read known hosts file \(knownHostsFile): \(lastError)",
        hint: "it must be in OpenSSH known_hosts format")
    }
    let verdict: HostKeyCheck.Verdict
    switch LibSSH2.checkKnownHost(knownHosts, host: address, port: port, key: keyBytes, typeMask: typeMask) {
    case .match:
      verdict = .match
    case .mismatch(let knownKey):
      verdict = .mismatch(knownFingerprint: knownKey.flatMap { Data(base64Encoded: $0) }.map(Self.fingerprint))
    case .notFound:
      verdict = .notFound
    case nil:
      throw failure(.localFailure, "could not check the host key against \(knownHostsFile): \(lastError)")
    }
    return HostKeyCheck(verdict: verdict, fingerprint: fingerprint, keyType: typeName, knownHostsLine: line)
  }

  /// OpenSSH's fingerprint form: `SHA256:` and the unpadded base64 of the key's SHA-256.
  static func fingerprint(_ key: Data) -> String {
    let base64 = Data(SHA256.hash(data: key)).base64EncodedString()
    return "SHA256:" + base64.trimmingCharacters(in: CharacterSet(charactersIn: "="))
  }
}
