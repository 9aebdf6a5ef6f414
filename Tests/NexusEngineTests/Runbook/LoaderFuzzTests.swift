import Foundation
import NexusCore
import NexusEngine
import NexusTestSupport
import NexusTransport
import Testing

/// Property-based fuzzing of what the operator writes: every runbook in `runbooks/` and the
/// lab inventory, mutated many ways. Loading either succeeds or fails with a `ConfigError`
/// naming the file and a line; it never crashes or hangs. `NEXUS_FUZZ_CASES` (default 400
/// per file) and `NEXUS_FUZZ_SEED` make a longer run by hand (docs/reliability.md).
@Suite("Fuzzing the loaders", .timeLimit(.minutes(5)))
struct LoaderFuzzTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path
  static let cases = Int(ProcessInfo.processInfo.environment["NEXUS_FUZZ_CASES"] ?? "") ?? 400
  static let seed = UInt64(ProcessInfo.processInfo.environment["NEXUS_FUZZ_SEED"] ?? "") ?? 20_261_127

  static let fragments = [
    ":", ": ", "- ", "-", "{", "}", "[", "]", ",", "\"", "'", "\t", "\n", "  ", "    ", "{{", "}}",
    "{{ steps.x.output.y }}",
    "{{ inputs.nope }}", "&a ", "*a", "!!str ", "!!binary ", "%YAML 1.2\n", "#", "|\n", ">\n", "---\n", "...\n", "?",
    "@", "`",
    "null", "~", "true", "no", "0x1F", "1e400", "-1", "99999999999999999999", "é", "\u{FEFF}", "\u{0}", "\r\n", "id: ",
    "action: ",
    "host: ", "with: ", "timeout: ", "5m", "0s", "retries: ", "destructive: ", "when: ", "steps: ", "preflight: ",
    "inputs: ",
    "argv: ", "objectives: ", "rto: ", "rehearsal: ", "inject: ", "default: ", "environments: ", "hosts: ",
    "transport: ",
    "address: ", "port: ", "server: ", "gate: ", String(repeating: "[", count: 200),
    String(repeating: "a", count: 5000),
  ]

  static func mutate(_ text: String, _ random: inout SplitMix) -> String {
    var bytes = Array(text.utf8)
    for _ in 0...random.below(3) {
      let at = random.below(bytes.count + 1)
      switch random.below(7) {
      case 0:  // delete a range
        let end = min(bytes.count, at + 1 + random.below(40))
        if at < end { bytes.removeSubrange(at..<end) }
      case 1, 2:  // insert a YAML-significant fragment
        bytes.insert(contentsOf: Array(random.pick(fragments).utf8), at: at)
      case 3:  // flip a byte
        if at < bytes.count { bytes[at] = UInt8(truncatingIfNeeded: random.next()) }
      case 4:  // duplicate a line
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        let index = random.below(lines.count)
        var copy = lines
        copy.insert(lines[index], at: index)
        bytes = Array(copy.joined(separator: "\n").utf8)
      case 5:  // re-indent a line
        var lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(
          String.init)
        let index = random.below(lines.count)
        lines[index] = String(repeating: " ", count: random.below(9)) + lines[index].drop { $0 == " " }
        bytes = Array(lines.joined(separator: "\n").utf8)
      default:  // truncate
        bytes = Array(bytes.prefix(at))
      }
    }
    return String(decoding: bytes, as: UTF8.self)
  }

  static var runbookFiles: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: repository + "/runbooks")) ?? []).filter {
      $0.hasSuffix(".yaml")
    }.sorted()
  }

  @Test("the shipped runbooks are found (a wrong path would fuzz nothing and pass)")
  func runbooksFound() {
    #expect(Self.runbookFiles.count >= 6, "\(Self.repository)/runbooks: \(Self.runbookFiles)")
  }

  /// A rejection must say where: the file, and a line in it.
  static func checkRejection(_ error: ConfigError, file: String, seed: UInt64, index: Int, text: String) {
    let replay = "seed \(seed), case \(index):\n\(text.prefix(2000))"
    #expect(error.file == file, "the error names the file: \(error.description)\n\(replay)")
    #expect(error.line > 0, "the error names a line: \(error.description)\n\(replay)")
    #expect(!error.message.isEmpty)
  }

  @Test("runbooks: every mutation loads or is rejected with file and line")
  func runbooks() throws {
    let files = Self.runbookFiles
    #expect(files.count >= 8)
    var accepted = 0
    var rejected = 0
    for (fileIndex, name) in files.enumerated() {
      let original = try String(contentsOfFile: "\(Self.repository)/runbooks/\(name)", encoding: .utf8)
      var random = SplitMix(state: Self.seed &+ UInt64(fileIndex))
      for index in 0..<Self.cases {
        let text = Self.mutate(original, &random)
        do {
          _ = try RunbookLoader.parse(text, file: name)
          accepted += 1
        } catch {
          rejected += 1
          Self.checkRejection(error, file: name, seed: Self.seed &+ UInt64(fileIndex), index: index, text: text)
        }
      }
    }
    #expect(rejected > accepted / 4, "the mutations reach the checks: \(rejected) rejected, \(accepted) accepted")
  }

  @Test("inventory: every mutation loads or is rejected with file and line")
  func inventory() throws {
    let original = try String(contentsOfFile: "\(Self.repository)/fixtures/lab/inventory.yaml", encoding: .utf8)
    var random = SplitMix(state: Self.seed)
    var rejected = 0
    for index in 0..<(Self.cases * 4) {
      let text = Self.mutate(original, &random)
      do { _ = try InventoryLoader.parse(text, file: "inventory.yaml") } catch {
        rejected += 1
        Self.checkRejection(error, file: "inventory.yaml", seed: Self.seed, index: index, text: text)
      }
    }
    #expect(rejected > 0)
  }

  @Test("shell quoting: for random strings, sh receives exactly the bytes sent")
  func quotingLocal() async throws {
    var random = SplitMix(state: Self.seed)
    let strings = (0..<200).map { _ in random.shellArgument() }
    // One sh, all arguments through ShellQuote: what arrives is printed back NUL-separated.
    let line = "printf '%s\\0' " + strings.map(ShellQuote.quote).joined(separator: " ")
    let result = try await LocalTransport().runChecked(.shell(line))
    let received = result.stdout.split(separator: 0, omittingEmptySubsequences: false).dropLast().map {
      String(decoding: $0, as: UTF8.self)
    }
    #expect(received == strings)
  }
}
