import NexusCore
import Testing

@Suite("Shell quoting")
struct ShellQuoteTests {
  @Test("plain words are left alone")
  func plainWords() {
    #expect(ShellQuote.quote("pg_dump") == "pg_dump")
    #expect(
      ShellQuote.quote("/mnt/nas/nexus-backup/daily/nexus_20261127.dump")
        == "/mnt/nas/nexus-backup/daily/nexus_20261127.dump")
    #expect(ShellQuote.quote("--snapshot=00000003-0000001B-1") == "--snapshot=00000003-0000001B-1")
  }

  @Test(
    "hostile strings are single-quoted with embedded quotes escaped",
    arguments: [
      ("'; rm -rf / #", #"''\''; rm -rf / #'"#),
      ("$(id)", "'$(id)'"),
      ("`id`", "'`id`'"),
      ("a b", "'a b'"),
      ("", "''"),
      ("line1\nline2", "'line1\nline2'"),
      ("it's", #"'it'\''s'"#),
      ("Zürich", "'Zürich'"),
      ("*", "'*'"),
      ("~root", "'~root'"),
      ("a;b&c|d>e<f", "'a;b&c|d>e<f'"),
    ])
  func hostile(input: String, expected: String) {
    #expect(ShellQuote.quote(input) == expected)
  }

  @Test("a command line joins quoted arguments with spaces")
  func commandLine() {
    #expect(ShellQuote.commandLine(["echo", "a b", "$(id)"]) == "echo 'a b' '$(id)'")
  }
}

@Suite("Redaction")
struct RedactorTests {
  @Test(
    "secrets are masked",
    arguments: [
      ("host=db password=hunter2 dbname=nexus", "host=db password=[REDACTED] dbname=nexus"),
      ("host=db password='sec ret' user=x", "host=db password=[REDACTED] user=x"),
      ("postgresql://nexus:hunter2@db/nexus", "postgresql://nexus:[REDACTED]@db/nexus"),
      (
        "[Interface]\nPrivateKey = aGVsbG8=\nListenPort = 51820",
        "[Interface]\nPrivateKey = [REDACTED]\nListenPort = 51820"
      ),
      ("db_password = s3cret", "db_password = [REDACTED]"),
    ])
  func masked(input: String, expected: String) {
    #expect(Redactor.redact(input) == expected)
  }

  @Test("text without secrets is unchanged")
  func unchanged() {
    let text = "pg_dump -Fc -f /mnt/nas/nexus-backup/daily/x.dump nexus"
    #expect(Redactor.redact(text) == text)
  }

  @Test("step outputs: a bare key is masked, except an output declared a public key")
  func outputs() {
    let key = "LqAI51iT/dsw80Rk9GsHZnoH9afBZKybblFIyc+TTn0="
    let redacted = Redactor.redact(outputs: [
      "public_key": key, "server_public_key": key, "key": key, "note": "password=x",
    ])
    #expect(redacted["public_key"] == key)
    #expect(redacted["server_public_key"] == key)
    #expect(redacted["key"] == "[REDACTED]")
    #expect(redacted["note"] == "password=[REDACTED]")
    #expect(
      Redactor.redact(outputs: ["public_key": "PrivateKey = \(key)"])["public_key"] == "PrivateKey = [REDACTED]",
      "only a bare key passes")
  }
}

@Suite("Durations and sizes")
struct UnitsTests {
  @Test func durations() {
    #expect(DurationText.parse("30s") == .seconds(30))
    #expect(DurationText.parse("5m") == .seconds(300))
    #expect(DurationText.parse("2h") == .seconds(7200))
    #expect(DurationText.parse("14d") == .seconds(14 * 86400))
    #expect(DurationText.parse("1h30m") == .seconds(5400))
    #expect(DurationText.parse("500ms") == .milliseconds(500))
    #expect(DurationText.parse("30") == nil)
    #expect(DurationText.parse("5 minutes") == nil)
    #expect(DurationText.parse("-5m") == nil)
    #expect(DurationText.parse("") == nil)
  }

  @Test func sizes() {
    #expect(ByteSize(parsing: "20GiB")?.bytes == 21_474_836_480)
    #expect(ByteSize(parsing: "200MiB")?.bytes == 209_715_200)
    #expect(ByteSize(parsing: "1.5GB")?.bytes == 1_500_000_000)
    #expect(ByteSize(parsing: "4096")?.bytes == 4096)
    #expect(ByteSize(parsing: "20 GiB")?.bytes == 21_474_836_480)
    #expect(ByteSize(parsing: "20gib") == nil)
    #expect(ByteSize(parsing: "lots") == nil)
    #expect(ByteSize(bytes: 20 * 1_073_741_824).description == "20GiB")
  }
}
