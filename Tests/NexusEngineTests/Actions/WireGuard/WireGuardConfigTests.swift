import NexusEngine
import Testing

@Suite("WireGuard configuration edits")
struct WireGuardConfigTests {
  static let gate = """
    # nexus-gate: hub
    [Interface]
    Address = 10.9.0.1/24
    ListenPort = 51820
    PrivateKey = [REDACTED]

    [Peer] # nexus-server
    PublicKey = AAAAaJ0aUlsPSLqY4Tx4JoCXmqRjSX5YZm0GkyPYWvH4=   # rotated 2026
    AllowedIPs = 10.9.0.10/32
    Endpoint=192.0.2.10:51820

    [Peer]
    # ipad-1
    PublicKey = BBBBaJ0aUlsPSLqY4Tx4JoCXmqRjSX5YZm0GkyPYWvH4=
    AllowedIPs = 10.9.0.30/32

    """

  @Test("changing a peer's key and endpoint changes those values and no other byte")
  func peerEdit() throws {
    var config = WireGuardConfig(text: Self.gate)
    let peer = try #require(config.peer(allowing: "10.9.0.10"))
    config.set("PublicKey", to: "CCCCaJ0aUlsPSLqY4Tx4JoCXmqRjSX5YZm0GkyPYWvH4=", in: peer)
    config.set("Endpoint", to: "192.0.2.11:51820", in: try #require(config.peer(allowing: "10.9.0.10/32")))
    let expected = Self.gate
      .replacingOccurrences(of: "AAAAaJ0a", with: "CCCCaJ0a")
      .replacingOccurrences(of: "Endpoint=192.0.2.10", with: "Endpoint=192.0.2.11")
    #expect(config.text == expected)
    #expect(
      config.peer(allowing: "10.9.0.30").flatMap { config.value(of: "PublicKey", in: $0) }
        == "BBBBaJ0aUlsPSLqY4Tx4JoCXmqRjSX5YZm0GkyPYWvH4=")
    #expect(config.peers.count == 2, "a header with a comment is a header")
  }

  @Test("CRLF files keep their line ends; the interface is found")
  func crlf() throws {
    let text = "[Interface]\r\nPrivateKey = [REDACTED]\r\nListenPort = 51820\r\n"
    var config = WireGuardConfig(text: text)
    let interface = try #require(config.interface)
    #expect(config.value(of: "PrivateKey", in: interface) == "[REDACTED]")
    config.set("PrivateKey", to: "KEY", in: interface)
    #expect(config.text == "[Interface]\r\nPrivateKey = KEY\r\nListenPort = 51820\r\n")
  }

  @Test("a missing setting is added after the section's last line")
  func added() throws {
    var config = WireGuardConfig(text: "[Peer]\nPublicKey = X\n\n[Peer]\nPublicKey = Y\n")
    config.set("Endpoint", to: "192.0.2.1:51820", in: config.peers[0])
    #expect(config.text == "[Peer]\nPublicKey = X\nEndpoint = 192.0.2.1:51820\n\n[Peer]\nPublicKey = Y\n")
  }

  @Test("a private key gives the public key wg pubkey gives; anything else is refused without echoing it")
  func keys() throws {
    // wg genkey / wg pubkey pair (a test key, used nowhere).
    #expect(
      try WireGuardKey.publicKey(ofPrivate: "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n")
        == "HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=")
    #expect(throws: WireGuardKey.Invalid.self) { try WireGuardKey.publicKey(ofPrivate: "hello") }
    #expect(WireGuardKey.isPublicKey("HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw="))
  }
}
