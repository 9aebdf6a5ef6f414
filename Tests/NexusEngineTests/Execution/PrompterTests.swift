import NexusEngine
import Testing

@Suite("Prompts")
struct PrompterTests {
  let console = ConsoleOutput(color: false)

  @Test("answers come from the answers file by question id")
  func answersFile() async throws {
    let prompter = Prompter(answers: ["choose.point": "pitr"], assumeYes: false, interactive: false, console: console)
    let answer = try await prompter.ask(
      Question(
        id: "choose.point", text: "Which?",
        kind: .choice([.init(id: "dump", label: "Dump"), .init(id: "pitr", label: "PITR")])))
    #expect(answer.value == "pitr")
    #expect(answer.source == "answers-file")
  }

  @Test("--yes answers confirmations only")
  func yes() async throws {
    let prompter = Prompter(answers: [:], assumeYes: true, interactive: false, console: console)
    #expect(try await prompter.ask(Question(id: "confirm.x", text: "Sure?", kind: .confirm)).value == "yes")
    await #expect(throws: StepFailure.self) {
      try await prompter.ask(
        Question(id: "resume.x", text: "What happened?", kind: .words(["done", "rerun", "abort"])))
    }
    await #expect(throws: StepFailure.self) {
      try await prompter.ask(Question(id: "confirm.y", text: "Type it", kind: .typeExactly("production")))
    }
  }

  @Test("without a terminal or an answer a question fails as unanswered, naming its id")
  func noTerminal() async {
    let prompter = Prompter(answers: [:], assumeYes: false, interactive: false, console: console)
    do {
      _ = try await prompter.ask(
        Question(id: "manual.mount-nas", text: "Mount the NAS", kind: .words(["done", "abort"])))
      Issue.record("answered without an answer")
    } catch {
      #expect(error.kind == .unanswered)
      #expect(error.message.contains("manual.mount-nas"))
    }
  }

  @Test("an answer that does not fit the question is refused, not guessed")
  func invalidAnswer() async {
    let prompter = Prompter(
      answers: ["confirm.x": "production", "confirm.y": "prod"], assumeYes: false, interactive: false, console: console)
    await #expect(throws: StepFailure.self) {
      try await prompter.ask(Question(id: "confirm.x", text: "?", kind: .confirm))
    }
    await #expect(throws: StepFailure.self) {
      try await prompter.ask(Question(id: "confirm.y", text: "?", kind: .typeExactly("production")))
    }
  }

  @Test("typing the environment's name confirms in production")
  func typedName() async throws {
    let prompter = Prompter(
      answers: ["confirm.drop": "production"], assumeYes: true, interactive: false, console: console)
    #expect(
      try await prompter.ask(Question(id: "confirm.drop", text: "?", kind: .typeExactly("production"))).value
        == "production")
  }
}
