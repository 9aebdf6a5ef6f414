import Foundation
import Testing

@testable import NexusTransport

@Suite("known_hosts and the host key types asked for")
struct KnownHostsTests {
  let ed25519 = "AAAAC3NzaC1lZDI1NTE5AAAAIG9NEgQ5qPpe2tqusNz0JEKLk5ycy5Gos6klGKLS9R0q"

  @Test("the types held for a host, plain and on another port; markers and comments ignored")
  func typesForHost() {
    let file = KnownHosts(
      text: """
        # comment
        198.18.0.20 ssh-ed25519 \(ed25519)
        198.18.0.20,nexus-gate ssh-rsa AAAAB3NzaC1yc2E
        [198.18.0.21]:2222 ecdsa-sha2-nistp256 AAAAE2VjZHNh
        @cert-authority 198.18.0.22 ssh-ed25519 \(ed25519)
        """)
    #expect(file.keyTypes(address: "198.18.0.20", port: 22) == ["ssh-ed25519", "ssh-rsa"])
    #expect(file.keyTypes(address: "198.18.0.21", port: 2222) == ["ecdsa-sha2-nistp256"])
    #expect(file.keyTypes(address: "198.18.0.21", port: 22).isEmpty)
    #expect(file.keyTypes(address: "198.18.0.22", port: 22).isEmpty)
  }

  @Test("a hashed entry (ssh-keygen -H) matches its host only")
  func hashed() {
    // Written by `ssh-keygen -H` for 198.18.0.20.
    let file = KnownHosts(text: "|1|jUpWJXXPwJzCmfGaX5gkHVtyguc=|h48viRifueMFOTG5Wkq0814vLGY= ssh-ed25519 \(ed25519)\n")
    #expect(file.keyTypes(address: "198.18.0.20", port: 22) == ["ssh-ed25519"])
    #expect(file.keyTypes(address: "198.18.0.21", port: 22).isEmpty)
  }

  @Test("only the known types are asked for, in OpenSSH's order; all of them, ed25519 first, for an unknown host")
  func methods() {
    #expect(KnownHosts.hostKeyMethods(for: ["ssh-ed25519"]) == "ssh-ed25519")
    #expect(
      KnownHosts.hostKeyMethods(for: ["ssh-rsa", "ssh-ed25519"]) == "ssh-ed25519,rsa-sha2-512,rsa-sha2-256,ssh-rsa")
    #expect(KnownHosts.hostKeyMethods(for: ["ecdsa-sha2-nistp256"]) == "ecdsa-sha2-nistp256")
    let all = KnownHosts.hostKeyMethods(for: [])
    #expect(all.hasPrefix("ssh-ed25519,ecdsa-sha2-nistp256"))
    #expect(all.contains("rsa-sha2-512"))
  }

  @Test("the console file for each key type")
  func fileStem() {
    #expect(KnownHosts.fileStem(keyType: "ssh-ed25519") == "ed25519")
    #expect(KnownHosts.fileStem(keyType: "ecdsa-sha2-nistp384") == "ecdsa")
    #expect(KnownHosts.fileStem(keyType: "ssh-rsa") == "rsa")
  }
}
