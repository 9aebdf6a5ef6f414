import NexusCore
import NexusEngine
import Testing

@Suite("Runbook loader")
struct RunbookLoaderTests {
  static let good = """
    runbook: demo
    title: A demo
    inputs:
      target: { description: where to, default: "x" }
    preflight:
      - gate-reachable
      - { id: wg-tools, host: gate, argv: [wg, --version] }
    steps:
      - id: first
        title: Say a name
        host: gate
        action: shell
        with: { argv: [hostname], capture: { name: "^(\\\\S+)" } }
        timeout: 30s
        retries: { count: 2, backoff: 1s }
      - id: pick
        action: choose
        with: { text: Pick one, options: [{ id: a, label: Option A }, { id: b }] }
      - id: gate
        action: confirm
        with: { text: "Really {{ inputs.target }}?" }
      - id: second
        host: server
        action: shell
        when: "{{ steps.pick.output.choice }} == a"
        with: { command: "echo {{ steps.first.output.name }} {{ env.nas.path }}", expect_exit: [0, 1] }
        destructive: true
        on_failure: { continue: "only informational" }
      - id: by-hand
        action: manual
        with: { text: "Plug in the NAS", check: { host: server, argv: [true] } }
    """

  @Test("a valid runbook loads with every field typed")
  func loadsValid() throws {
    let runbook = try RunbookLoader.parse(Self.good, file: "demo.yaml")
    #expect(runbook.id == "demo")
    #expect(runbook.inputs.map(\.name) == ["target"])
    #expect(runbook.preflight.map(\.id) == ["gate-reachable", "wg-tools"])
    #expect(runbook.steps.map(\.id) == ["first", "pick", "gate", "second", "by-hand"])
    let first = try #require(runbook.step("first"))
    #expect(first.action.name == "shell")
    #expect(first.timeout == .seconds(30))
    #expect(first.retries == RetryPolicy(count: 2, backoff: .seconds(1)))
    #expect(first.idempotent == false)
    let second = try #require(runbook.step("second"))
    #expect(second.destructive)
    #expect(second.onFailure == .continue(reason: "only informational"))
    #expect(second.when?.description == "{{ steps.pick.output.choice }} == a")
    #expect(runbook.step("pick")?.idempotent == true)
    #expect(runbook.contentHash.count == 64)
  }

  static let head = "runbook: bad\nsteps:\n"

  /// Each malformed runbook, the text the error points at (first occurrence), and the message.
  static let malformed: [(name: String, yaml: String, at: String?, message: String)] = [
    ("not YAML", "runbook: x\nsteps: [\n", nil, "not valid YAML"),
    (
      "no runbook id", "steps:\n  - { id: a, host: gate, action: shell, with: { argv: [true] } }\n", "steps",
      "missing 'runbook'"
    ),
    (
      "bad runbook id", "runbook: Bad Id\nsteps:\n  - { id: a, host: gate, action: shell, with: { argv: [true] } }\n",
      "Bad Id", "runbook id 'Bad Id' must be"
    ),
    ("unknown top-level key", "runbook: x\nstep:\n  - {}\n", "step", "unknown key 'step'"),
    ("no steps key", "runbook: x\n", "runbook", "missing 'steps'"),
    ("empty steps", "runbook: x\nsteps: []\n", "[]", "the runbook has no steps"),
    ("step without id", head + "  - { host: gate, action: shell, with: { argv: [true] } }\n", "{ host", "missing 'id'"),
    (
      "duplicate step id",
      head
        + "  - { id: a, host: gate, action: shell, with: { argv: [true] } }\n  - { id: a, host: server, action: shell, with: { argv: [true] } }\n",
      "a, host: server", "duplicate step id 'a'"
    ),
    (
      "step id with capitals", head + "  - { id: Stop_All, host: gate, action: shell, with: { argv: [true] } }\n",
      "Stop_All", "step id 'Stop_All' must be"
    ),
    (
      "unknown step key", head + "  - { id: a, host: gate, action: shell, with: { argv: [true] }, retry: 2 }\n",
      "retry", "unknown key 'retry'"
    ),
    (
      "unknown action", head + "  - { id: a, host: gate, action: shel, with: { argv: [true] } }\n", "shel",
      "unknown action 'shel'"
    ),
    ("missing action", head + "  - { id: a, host: gate }\n", "{ id", "missing 'action'"),
    (
      "shell without command", head + "  - { id: a, host: gate, action: shell, with: { expect_exit: [0] } }\n",
      "{ expect_exit", "needs 'argv'"
    ),
    (
      "shell with argv and command",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [true], command: true } }\n", "{ argv",
      "either 'argv' or 'command', not both"
    ),
    ("empty argv", head + "  - { id: a, host: gate, action: shell, with: { argv: [] } }\n", "[]", "'argv' is empty"),
    (
      "unknown with key", head + "  - { id: a, host: gate, action: shell, with: { argv: [true], sudo: true } }\n",
      "sudo", "unknown key 'sudo'"
    ),
    (
      "unknown host", head + "  - { id: a, host: nas, action: shell, with: { argv: [true] } }\n", "nas",
      "unknown host 'nas'"
    ),
    ("shell without host", head + "  - { id: a, action: shell, with: { argv: [true] } }\n", "{ id", "needs a 'host'"),
    (
      "host on a confirm", head + "  - { id: a, host: gate, action: confirm, with: { text: sure? } }\n", "gate",
      "does not run on a host"
    ),
    (
      "bad timeout", head + "  - { id: a, host: gate, action: shell, with: { argv: [true] }, timeout: 5 minutes }\n",
      "5 minutes", "not a duration: '5 minutes'"
    ),
    (
      "timeout without unit", head + "  - { id: a, host: gate, action: shell, with: { argv: [true] }, timeout: 30 }\n",
      "30", "not a duration: '30'"
    ),
    (
      "retries not a number",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [true] }, retries: many }\n", "many",
      "must be a whole number"
    ),
    (
      "too many retries", head + "  - { id: a, host: gate, action: shell, with: { argv: [true] }, retries: 99 }\n",
      "99", "retries must be between 0 and 20"
    ),
    (
      "bad on_failure", head + "  - { id: a, host: gate, action: shell, with: { argv: [true] }, on_failure: ignore }\n",
      "ignore", "on_failure must be stop or { continue: REASON }"
    ),
    (
      "continue without reason",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [true] }, on_failure: continue }\n", "continue",
      "needs a reason"
    ),
    (
      "destructive not a bool",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [true] }, destructive: maybe }\n", "maybe",
      "must be true or false"
    ),
    (
      "reference to unknown step",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [echo, \"{{ steps.nope.output.x }}\"] } }\n",
      "\"{{", "unknown step 'nope'"
    ),
    (
      "reference to later step",
      head
        + "  - { id: a, host: gate, action: shell, with: { argv: [echo, \"{{ steps.b.output.stdout }}\"] } }\n  - { id: b, host: gate, action: shell, with: { argv: [true] } }\n",
      "\"{{", "refers to step 'b', which comes later"
    ),
    (
      "reference to itself",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [echo, \"{{ steps.a.output.stdout }}\"] } }\n",
      "\"{{", "refers to its own output"
    ),
    (
      "unknown output key",
      head
        + "  - { id: a, host: gate, action: shell, with: { argv: [true] } }\n  - { id: b, host: gate, action: shell, with: { argv: [echo, \"{{ steps.a.output.name }}\"] } }\n",
      "\"{{", "step 'a' has no output 'name'"
    ),
    (
      "undeclared input",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [echo, \"{{ inputs.when }}\"] } }\n", "\"{{",
      "names an input the runbook does not declare"
    ),
    (
      "unknown environment value",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [echo, \"{{ env.password }}\"] } }\n", "\"{{",
      "'env.password' is not an environment value"
    ),
    (
      "unclosed reference",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [echo, \"{{ inputs.x\"] } }\n", "\"{{",
      "without a closing '}}'"
    ),
    (
      "malformed reference",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [echo, \"{{ steps.a }}\"] } }\n", "\"{{",
      "is not a reference"
    ),
    (
      "when without spaces",
      head
        + "  - { id: a, host: gate, action: shell, with: { argv: [true] } }\n  - { id: b, host: gate, action: shell, when: \"{{ steps.a.output.stdout }}==x\", with: { argv: [true] } }\n",
      "\"{{ steps.a.output.stdout }}==", "write spaces around == and !="
    ),
    (
      "when on a later step",
      head
        + "  - { id: a, host: gate, action: shell, when: \"{{ steps.b.output.stdout }} == x\", with: { argv: [true] } }\n  - { id: b, host: gate, action: shell, with: { argv: [true] } }\n",
      "\"{{", "which comes later"
    ),
    (
      "unknown preflight check",
      "runbook: x\npreflight: [nas-reachable]\nsteps:\n  - { id: a, host: gate, action: shell, with: { argv: [true] } }\n",
      "nas-reachable", "unknown check 'nas-reachable'"
    ),
    (
      "inline check without host",
      "runbook: x\npreflight:\n  - { id: c, argv: [true] }\nsteps:\n  - { id: a, host: gate, action: shell, with: { argv: [true] } }\n",
      "{ id: c", "missing 'host'"
    ),
    (
      "preflight referring to a step",
      "runbook: x\npreflight:\n  - { id: c, host: gate, argv: [echo, \"{{ steps.a.output.stdout }}\"] }\nsteps:\n  - { id: a, host: gate, action: shell, with: { argv: [true] } }\n",
      "\"{{", "which comes later"
    ),
    ("confirm without text", head + "  - { id: a, action: confirm }\n", "{ id", "missing 'text'"),
    (
      "choose without options", head + "  - { id: a, action: choose, with: { text: pick } }\n", "{ text",
      "missing 'options'"
    ),
    (
      "choose with literal options text",
      head + "  - { id: a, action: choose, with: { text: pick, options: \"a, b\" } }\n", "\"a, b\"",
      "must be a list or a reference"
    ),
    (
      "manual without text", head + "  - { id: a, action: manual, with: { check: { host: gate, argv: [true] } } }\n",
      "{ check", "missing 'text'"
    ),
    (
      "bad capture regex",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [true], capture: { x: \"([\" } } }\n", "\"([\"",
      "not a valid regular expression"
    ),
    (
      "exit status out of range",
      head + "  - { id: a, host: gate, action: shell, with: { argv: [true], expect_exit: [256] } }\n", "256",
      "out of range 0-255"
    ),
    ("steps not a list", "runbook: x\nsteps: { a: 1 }\n", "{ a: 1 }", "must be a list"),
    (
      "a config part that does not exist",
      head + "  - { id: a, host: server, action: config.restore, with: { part: nas } }\n", "nas }",
      "config snapshots have the parts server and gate, not 'nas'"
    ),
    (
      "a secrets part that does not exist (was accepted, and failed only at run time)",
      head + "  - { id: a, host: server, action: secrets.restore, with: { part: both } }\n", "both }",
      "config snapshots have the parts server and gate, not 'both'"
    ),
    (
      "a config snapshot of an unknown host",
      head + "  - { id: a, host: server, action: config.snapshot, with: { target: /nas, hosts: [server, nas] } }\n",
      "[server, nas]", "config snapshots cover server and gate, not 'nas'"
    ),
    (
      "pg.pitr replacing something else",
      head + "  - { id: a, host: server, action: pg.pitr, with: { base: /b, replaces: everything } }\n", "everything }",
      "replaces is damaged or new-cluster, not 'everything'"
    ),
    (
      "reference inside quotes in a command line",
      "runbook: x\ninputs: { f: }\nsteps:\n  - { id: a, host: gate, action: shell, with: { command: \"echo '{{ inputs.f }}'\" } }\n",
      "\"echo", "is inside quotes in a command line"
    ),
  ]

  @Test("each malformed runbook is rejected with its place and message", arguments: malformed)
  func rejected(_ testCase: (name: String, yaml: String, at: String?, message: String)) {
    do {
      _ = try RunbookLoader.parse(testCase.yaml, file: "bad.yaml")
      Issue.record("\(testCase.name): was accepted")
    } catch {
      #expect(error.description.contains(testCase.message), "\(testCase.name): \(error.description)")
      #expect(error.description.hasPrefix("bad.yaml:"), "\(testCase.name): \(error.description)")
      if let at = testCase.at {
        let (line, column) = position(of: at, in: testCase.yaml)
        #expect(
          error.line == line && error.column == column,
          "\(testCase.name): at \(error.line):\(error.column), expected \(line):\(column) — \(error.description)")
      }
    }
  }

  @Test("the table has at least 25 cases")
  func enoughCases() { #expect(Self.malformed.count >= 25) }

  @Test("every error carries a hint or a precise message", arguments: malformed)
  func hints(_ testCase: (name: String, yaml: String, at: String?, message: String)) {
    do {
      _ = try RunbookLoader.parse(testCase.yaml, file: "bad.yaml")
    } catch {
      #expect(error.line > 0 || testCase.at == nil)
    }
  }

  func position(of needle: String, in text: String) -> (Int, Int) {
    guard let range = text.range(of: needle) else { return (0, 0) }
    let before = text[..<range.lowerBound]
    let line = before.filter { $0 == "\n" }.count + 1
    let column =
      before.distance(
        from: before.lastIndex(of: "\n").map { before.index(after: $0) } ?? before.startIndex, to: before.endIndex) + 1
    return (line, column)
  }
}

@Suite("Templates and conditions")
struct TemplateTests {
  @Test("references render; command lines quote filled-in values")
  func rendering() throws {
    let values = ReferenceValues(
      inputs: ["x": "a b; rm -rf /"], outputs: ["s": ["k": "$(id)"]], environment: ["name": "lab"])
    let template = try Template.parse("echo {{ inputs.x }} {{ steps.s.output.k }} {{ env.name }}").get()
    #expect(try template.render(values) == "echo a b; rm -rf / $(id) lab")
    #expect(try template.render(values, quote: ShellQuote.quote) == "echo 'a b; rm -rf /' '$(id)' lab")
  }

  @Test("conditions compare rendered values")
  func conditions() throws {
    let values = ReferenceValues(outputs: ["c": ["choice": "pitr"]])
    #expect(try Condition.parse("{{ steps.c.output.choice }} == pitr").get().evaluate(values))
    #expect(try Condition.parse("{{ steps.c.output.choice }} == 'pitr'").get().evaluate(values))
    #expect(try !Condition.parse("{{ steps.c.output.choice }} != pitr").get().evaluate(values))
    #expect(try Condition.parse("{{ steps.c.output.choice }}").get().evaluate(values))
    // A step that did not run reads as empty.
    #expect(try !Condition.parse("{{ steps.d.output.choice }} == x").get().evaluate(values))
    #expect(try Condition.parse("{{ steps.d.output.choice }} != x").get().evaluate(values))
  }
}
