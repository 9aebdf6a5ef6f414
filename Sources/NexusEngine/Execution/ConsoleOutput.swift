import Foundation
import NexusCore
import NexusTransport

/// What the operator sees while a run goes on: step n/N with its title, host
/// and elapsed time, the command's output streamed and indented, and the
/// outcome. Colour on a terminal; without it (not a terminal, NO_COLOR, --no-color)
/// the same lines, uncoloured.
public final class ConsoleOutput: Sendable {
  public let color: Bool
  private let partial = Locked<[OutputStreamKey: [UInt8]]>([:])

  enum OutputStreamKey: Hashable { case stdout, stderr }

  public init(color: Bool) { self.color = color }

  private func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

  func write(_ text: String) {
    FileHandle.standardOutput.write(Data(Redactor.redact(text).utf8))
  }

  public func line(_ text: String) { write(text + "\n") }

  /// An error or warning for the operator, on standard error.
  public func error(_ text: String) {
    FileHandle.standardError.write(Data((Redactor.redact(text) + "\n").utf8))
  }

  public func note(_ text: String) { line(paint(text, "2")) }

  public func heading(_ text: String) { line(paint(text, "1")) }

  public func stepStarted(index: Int, total: Int, step: Step, attempt: Int) {
    let host = step.host.map { " · \($0)" } ?? ""
    let retry = attempt > 1 ? " (attempt \(attempt))" : ""
    line(paint("▶ [\(index)/\(total)] \(step.title)\(host)\(retry)", "1;36"))
  }

  public func stepFinished(index: Int, total: Int, step: Step, elapsed: Duration, outcome: String, ok: Bool) {
    let mark = ok ? paint("✔", "32") : paint("✘", "31")
    line("\(mark) [\(index)/\(total)] \(step.id): \(outcome) (\(DurationText.format(elapsed)))")
  }

  public func stepSkipped(index: Int, total: Int, step: Step, reason: String) {
    line(paint("⤼ [\(index)/\(total)] \(step.id): skipped — \(reason)", "33"))
  }

  public func check(_ result: CheckResult) {
    let mark = result.passed ? paint("pass", "32") : paint("FAIL", "31")
    line("  [\(mark)] \(result.title): \(result.evidence)")
  }

  public func question(_ question: Question) {
    var text = "\n" + paint("? ", "1;33") + question.text + "\n"
    switch question.kind {
    case .confirm: text += "  [yes/no] > "
    case .typeExactly(let expected): text += "  Type '\(expected)' to go on, or 'no' > "
    case .choice(let options):
      for (index, option) in options.enumerated() { text += "  \(index + 1)) \(option.id) — \(option.label)\n" }
      text += "  Choose (number or id) > "
    case .words(let words): text += "  [\(words.joined(separator: "/"))] > "
    case .fingerprint: text += "  Fingerprint (SHA256:…) or abort > "
    }
    write(text)
  }

  /// A command's output as it arrives, each line indented under its step.
  public func stream(_ stream: NexusTransport.OutputStream, _ bytes: [UInt8]) {
    let key: OutputStreamKey = stream == .stdout ? .stdout : .stderr
    let lines = partial.withLock { buffers -> [String] in
      var buffer = buffers[key, default: []] + bytes
      var complete: [String] = []
      while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
        complete.append(String(decoding: buffer[..<newline], as: UTF8.self))
        buffer.removeSubrange(...newline)
      }
      buffers[key] = buffer
      return complete
    }
    // Redact the command's own line before decorating it: the patterns anchor at its start.
    for text in lines.map(Redactor.redact) {
      line(paint("    │ ", "2") + (stream == .stderr ? paint(text, "33") : text))
    }
  }

  /// Prints what is left of partial lines after a command ends.
  public func flushStreams() {
    let rest = partial.withLock { buffers -> [String] in
      defer { buffers = [:] }
      return buffers.values.filter { !$0.isEmpty }.map { String(decoding: $0, as: UTF8.self) }
    }
    for text in rest.map(Redactor.redact) { line(paint("    │ ", "2") + text) }
  }
}
