import Foundation
import NexusCore
import Testing

/// One table of rules, two engines: `Redactor.redact` in Swift and `Redactor.sedExpressions`
/// through the real GNU sed must give the same text, and `Redactor.detectorERE` through the
/// real grep must find every secret before redaction and nothing after it.
@Suite("Redaction rules: Swift, sed and the detector agree")
struct RedactorRuleTests {
  static let key = "LqAI51iT/dsw80Rk9GsHZnoH9afBZKybblFIyc+TTn0="

  /// Each shape of secret, with hostile values (quotes, `$`, `#`, spaces), and what it becomes.
  static let secrets: [(String, String)] = [
    // Settings on their own line: ini, YAML, EnvironmentFile, WireGuard.
    ("db_password = s3cret", "db_password = [REDACTED]"),
    (#"db_password = "p'a"ss $HOME #not a comment"#, "db_password = [REDACTED]"),
    ("password: hunter2", "password: [REDACTED]"),
    ("  api_key: 'x y'", "  api_key: [REDACTED]"),
    ("api_key = AKIA$x#y", "api_key = [REDACTED]"),
    ("apiKey=abc", "apiKey=[REDACTED]"),
    ("secret_key=abc def", "secret_key=[REDACTED]"),
    (#"access_key = a"b"#, "access_key = [REDACTED]"),
    ("auth_token = tok#en", "auth_token = [REDACTED]"),
    ("AWS_SECRET_ACCESS_KEY=wJalr/K7MDENG", "AWS_SECRET_ACCESS_KEY=[REDACTED]"),
    ("secret_key_base: 0123abcd", "secret_key_base: [REDACTED]"),
    ("  - token: abc", "  - token: [REDACTED]"),
    (#"CLIENT_SECRET: "a: b""#, "CLIENT_SECRET: [REDACTED]"),
    ("DB_PASSWORD=x", "DB_PASSWORD=[REDACTED]"),
    ("PrivateKey = \(key)", "PrivateKey = [REDACTED]"),
    ("PresharedKey=\(key)", "PresharedKey=[REDACTED]"),
    (key, "[REDACTED]"),
    ("db_password = x\r", "db_password = [REDACTED]"),
    // systemd units.
    (#"Environment=NEXUS_DB_PASSWORD=p$ss#w"o'rd"#, "Environment=NEXUS_DB_PASSWORD=[REDACTED]"),
    (#"Environment="A=1" "DB_PASSWORD=x y$z #w" "B=2""#, #"Environment="A=1" "DB_PASSWORD=[REDACTED]" "B=2""#),
    (#"Environment='DB_PASSWORD=x y' B=2"#, #"Environment='DB_PASSWORD=[REDACTED]' B=2"#),
    (#"Environment="DB_PASSWORD=a\"b""#, #"Environment="DB_PASSWORD=[REDACTED]""#),
    ("ExecStart=/usr/bin/app --token=t$k#1 --verbose", "ExecStart=/usr/bin/app --token=[REDACTED] --verbose"),
    // Shell and conninfo.
    (#"export PGPASSWORD="a b\"c $d""#, "export PGPASSWORD=[REDACTED]"),
    ("host=db password=hunter2 dbname=nexus", "host=db password=[REDACTED] dbname=nexus"),
    (#"host=db password='sec ret\' x' user=x"#, "host=db password=[REDACTED] user=x"),
    ("host=db password = 'unclosed $x", "host=db password = [REDACTED]"),
    // URLs of any scheme.
    ("postgresql://nexus_app:p$ss#w'rd@db/nexus", "postgresql://nexus_app:[REDACTED]@db/nexus"),
    ("url = https://u:pw@host/", "url = https://u:[REDACTED]@host/"),
    ("REDIS_URL=redis://:pw@h:6379/0", "REDIS_URL=redis://:[REDACTED]@h:6379/0"),
    ("amqp://guest:p@ss@rabbit//", "amqp://guest:[REDACTED]@rabbit//"),
    // JSON and quoted YAML names: the quotes stay, the file stays JSON.
    (#"  "db_password": "p\"a $s #w 'o","#, #"  "db_password": "[REDACTED]","#),
    (
      #"{"apiKey": "k$y", "name": "nexus", "dsn": "postgresql://nexus_app:pw@db/nexus"}"#,
      #"{"apiKey": "[REDACTED]", "name": "nexus", "dsn": "postgresql://nexus_app:[REDACTED]@db/nexus"}"#
    ),
    (
      #"{"url":"https://u:pw@h","token":42,"x":"a@b"}"#,
      #"{"url":"https://u:[REDACTED]@h","token":"[REDACTED]","x":"a@b"}"#
    ),
    ("'secret': 'x y'", "'secret': '[REDACTED]'"),
    (#""dsn": "host=db password=x""#, #""dsn": "host=db password=[REDACTED]""#),
  ]

  /// Lines that look like secrets and are not: each survives both engines and the detector.
  static let kept = [
    "password_encryption = scram-sha-256",
    "password_encryption = 'md5'",
    "#password_encryption = scram-sha-256\t# scram-sha-256 or md5",
    "PublicKey = \(key)",
    "Endpoint = 192.0.2.1:51820",
    "Environment=PGPASSFILE=/etc/nexus/secrets/pgpass",
    "ExecStart=/usr/bin/python3 /opt/nexus/bin/nexus-api.py --config /etc/nexus/nexus.conf",
    "token_url = https://auth.example/token",
    "password_min_length = 12",
    "ssl_passphrase_command = ''",
    "host    all             all             10.0.0.0/24           scram-sha-256",
    "https://host:8443/path ssh://git@host/repo",
    #""secrets": {"#,
    #""db_password": "","#,
    "db_password =",
    "db_password = [REDACTED]",
    #""token": "[REDACTED]","#,
  ]

  @Test("every shape of secret is masked", arguments: secrets)
  func masked(input: String, expected: String) {
    #expect(Redactor.redact(input) == expected)
  }

  @Test("settings that only look like secrets are kept", arguments: kept)
  func keptLine(line: String) {
    #expect(Redactor.redact(line) == line)
  }

  @Test("sed with Redactor.sedExpressions gives the text Redactor.redact gives")
  func sedAgrees() throws {
    let text = (Self.secrets.map(\.0) + Self.kept).joined(separator: "\n") + "\n"
    let swift = Redactor.redact(text)
    #expect(swift == (Self.secrets.map(\.1) + Self.kept).joined(separator: "\n") + "\n")
    let sed = try Self.run("/bin/sed", ["-E"] + Redactor.sedExpressions.flatMap { ["-e", $0] }, on: text)
    #expect(sed.status == 0, "\(sed.output)")
    let sedLines = sed.output.components(separatedBy: "\n")
    for (index, line) in swift.components(separatedBy: "\n").enumerated() {
      #expect(
        index < sedLines.count && sedLines[index] == line,
        "line \(index + 1): sed \(index < sedLines.count ? sedLines[index] : "(none)")")
    }
    #expect(sed.output == swift)
  }

  @Test("the detector finds each secret before redaction, and what the rules cannot mask")
  func detectorFinds() throws {
    let unmaskable = [#""password": [1, 2]"#, #""token": "unclosed"#, "-----BEGIN OPENSSH PRIVATE KEY-----"]
    // A bare WireGuard key has no name to find it by: the snapshot's own key check refuses it.
    for line in Self.secrets.map(\.0).filter({ $0 != Self.key }) + unmaskable {
      let grep = try Self.run("/bin/grep", ["-i", "-E", "-e", Redactor.detectorERE], on: line + "\n")
      #expect(grep.status == 0, "not detected: \(line)")
    }
  }

  @Test("the detector finds nothing in redacted text, nor in what only looks like a secret")
  func detectorQuietAfterRedaction() throws {
    let text = (Self.secrets.map(\.1) + Self.kept).joined(separator: "\n") + "\n"
    let grep = try Self.run("/bin/grep", ["-i", "-E", "-e", Redactor.detectorERE], on: text)
    #expect(grep.status == 1, "detected: \(grep.output)")
  }

  @Test("each rule is one sed expression: no '#' (the delimiter) in a pattern, no '&' in a replacement")
  func sedSafe() {
    for rule in Redactor.rules {
      #expect(!rule.pattern.contains("#") && !rule.pattern.contains("\n"), "\(rule.pattern)")
      if case .replace(let replacement) = rule.effect {
        #expect(!replacement.contains("#") && !replacement.contains("&"), "\(replacement)")
      }
    }
    #expect(Redactor.sedExpressions.count == Redactor.rules.count)
  }

  /// Runs a program on a file holding `text` (LC_ALL=C, as the snapshot's script does).
  static func run(_ program: String, _ arguments: [String], on text: String) throws -> (status: Int32, output: String) {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("nexus-dr-redactor-\(UUID().uuidString)")
    try Data(text.utf8).write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments + ["--", file.path]
    process.environment = ["LC_ALL": "C", "PATH": "/usr/bin:/bin"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }
}
