import Foundation

extension SSHConnection {
  /// Public-key authentication: ssh-agent first when `useAgent`, then the key file.
  func authenticate(user: String, identity: String?, useAgent: Bool, deadline: ContinuousClock.Instant)
    throws(TransportError)
  {
    guard let session else { throw failure(.localFailure, "not connected") }
    var tried: [String] = []
    if useAgent, authenticateWithAgent(user: user, deadline: deadline) { return }
    if useAgent { tried.append("the keys in ssh-agent") }
    if let identity {
      guard FileManager.default.isReadableFile(atPath: identity) else {
        throw failure(
          .localFailure, "cannot read the SSH key file \(identity)",
          hint: "check the inventory's ssh.identity and the file's permissions (0600, owned by this user)")
      }
      let status = waitLoop(deadline: deadline) { LibSSH2.authenticate(session, user: user, keyFile: identity) }
      if status == 0 { return }
      if status == LibSSH2.wouldBlock {
        throw failure(.unreachable, "no answer during authentication within the connect timeout")
      }
      if status != LibSSH2.authenticationFailed && status != LibSSH2.publicKeyUnverified {
        throw failure(
          .localFailure, "cannot use the key file \(identity): \(lastError)",
          hint: "the key must be unencrypted, in OpenSSH or PEM format")
      }
      tried.append("the key \(identity)")
    }
    throw failure(
      .authenticationRefused,
      "the host refused \(tried.isEmpty ? "everything" : tried.joined(separator: " and ")) for user '\(user)'",
      hint: "add the public key to ~\(user)/.ssh/authorized_keys on the host")
  }

  /// Tries each key ssh-agent holds; false when none is accepted or there is no agent.
  private func authenticateWithAgent(user: String, deadline: ContinuousClock.Instant) -> Bool {
    guard let session, let agent = LibSSH2.connectedAgent(session) else { return false }
    defer { LibSSH2.free(agent: agent) }
    for identity in LibSSH2.identities(agent) {
      let status = waitLoop(deadline: deadline) { LibSSH2.authenticate(agent, user: user, identity: identity) }
      if status == 0 { return true }
    }
    return false
  }
}
