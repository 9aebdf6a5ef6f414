import Dispatch
import Foundation
import NexusCore

/// A question for the operator, with a stable id that `--answers` can answer.
public struct Question: Sendable {
  public enum Kind: Sendable {
    /// yes or no. `--yes` answers it.
    case confirm
    /// The operator types this exact text (the environment's name, for destructive steps in production).
    case typeExactly(String)
    /// One of these option ids.
    case choice([ChoiceOption])
    /// A fixed set of words (`done`, `abort`; `done`, `rerun`, `abort`).
    case words([String])
    /// An SSH host key fingerprint as OpenSSH prints it (`SHA256:` and 43 base64
    /// characters), or `abort`.
    case fingerprint
  }

  public var id: String
  public var text: String
  public var kind: Kind

  public init(id: String, text: String, kind: Kind) {
    self.id = id
    self.text = text
    self.kind = kind
  }
}

public struct ChoiceOption: Sendable, Codable, Hashable {
  public var id: String
  public var label: String

  public init(id: String, label: String) {
    self.id = id
    self.label = label
  }
}

/// An answer and where it came from: `answers-file`, `--yes` or `terminal`.
public struct Answer: Sendable {
  public var value: String
  public var source: String
}

/// Asks the operator: from `--answers` first, then `--yes` for confirmations,
/// then the terminal. Without any of them a question fails with `unanswered`:
/// it never guesses.
public class Prompter: @unchecked Sendable {
  let answers: [String: String]
  let assumeYes: Bool
  let interactive: Bool
  let console: ConsoleOutput

  public init(answers: [String: String], assumeYes: Bool, interactive: Bool, console: ConsoleOutput) {
    self.answers = answers
    self.assumeYes = assumeYes
    self.interactive = interactive
    self.console = console
  }

  /// Reads an answers file: a YAML mapping of question id → answer.
  public static func loadAnswers(file: String) throws(ConfigError) -> [String: String] {
    var answers: [String: String] = [:]
    for (key, value) in try YAMLValue.load(file: file).mapping() { answers[key] = try value.string() }
    return answers
  }

  public func ask(_ question: Question) async throws(StepFailure) -> Answer {
    if let given = answers[question.id] {
      let value = normalize(given, for: question)
      if case .choice(let options) = question.kind {
        // What was offered stays in the output and the report, not only the pick.
        console.line("    ? \(question.text)")
        for option in options { console.line("      \(option.id == value ? "→" : " ") \(option.id) — \(option.label)") }
      }
      guard let value else {
        throw StepFailure(
          .unanswered,
          "the answers file gives '\(given)' for \(question.id), but the answer must be \(expected(question))")
      }
      return Answer(value: value, source: "answers-file")
    }
    if assumeYes, case .confirm = question.kind { return Answer(value: "yes", source: "--yes") }
    guard interactive else {
      throw StepFailure(
        .unanswered,
        "question \(question.id) needs an answer and there is no terminal: \(question.text.split(separator: "\n").first ?? "")\n  give it in an answers file (--answers FILE, a line `\(question.id): \(example(question))`) or run on a terminal"
      )
    }
    while true {
      console.question(question)
      guard let line = try await TerminalInput.readLine() else {
        throw StepFailure(.unanswered, "the terminal closed before question \(question.id) was answered")
      }
      if let value = normalize(line, for: question) { return Answer(value: value, source: "terminal") }
      console.note("Please answer \(expected(question)).")
    }
  }

  func normalize(_ text: String, for question: Question) -> String? {
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    switch question.kind {
    case .confirm:
      switch trimmed.lowercased() {
      case "y", "yes": return "yes"
      case "n", "no": return "no"
      default: return nil
      }
    case .typeExactly(let expected):
      return trimmed == expected ? trimmed : (trimmed.lowercased() == "no" ? "no" : nil)
    case .choice(let options):
      if let option = options.first(where: { $0.id == trimmed }) { return option.id }
      if let index = Int(trimmed), options.indices.contains(index - 1) { return options[index - 1].id }
      return nil
    case .words(let words):
      return words.contains(trimmed.lowercased()) ? trimmed.lowercased() : nil
    case .fingerprint:
      if trimmed.lowercased() == "abort" { return "abort" }
      return trimmed.wholeMatch(of: #/SHA256:[A-Za-z0-9+\/]{43}/#) != nil ? trimmed : nil
    }
  }

  func expected(_ question: Question) -> String {
    switch question.kind {
    case .confirm: "yes or no"
    case .typeExactly(let text): "the exact text '\(text)' (or no)"
    case .choice(let options): "one of: \(options.map(\.id).joined(separator: ", "))"
    case .words(let words): "one of: \(words.joined(separator: ", "))"
    case .fingerprint: "a fingerprint as ssh-keygen -lf prints it (SHA256: and 43 characters), or abort"
    }
  }

  func example(_ question: Question) -> String {
    switch question.kind {
    case .confirm: "yes"
    case .typeExactly(let text): text
    case .choice(let options): options.first?.id ?? "OPTION"
    case .words(let words): words.first ?? "done"
    case .fingerprint: "SHA256:…"
    }
  }
}

/// Standard input lines, read on a thread of their own so a waiting prompt
/// never holds one of Swift concurrency's shared threads. Cancelling the task
/// (Ctrl-C) ends the wait at once.
enum TerminalInput {
  static let queue = DispatchQueue(label: "nexus-dr.stdin")

  static func readLine() async throws(StepFailure) -> String? {
    let pending = Locked<CheckedContinuation<String??, Never>?>(nil)
    @Sendable func finish(_ value: String??) {
      pending.withLock { continuation in
        continuation?.resume(returning: value)
        continuation = nil
      }
    }
    let line: String?? = await withTaskCancellationHandler {
      await withCheckedContinuation { continuation in
        pending.withLock { $0 = continuation }
        if Task.isCancelled { finish(nil) }
        queue.async { finish(.some(Swift.readLine(strippingNewline: true))) }
      }
    } onCancel: {
      finish(nil)
    }
    guard let line else { throw StepFailure(.interrupted, "interrupted while waiting for an answer") }
    return line
  }
}
