import NexusCore
import NexusTransport

/// A command written in a runbook: an argument array (the normal form) or a
/// command line for the host's shell, with its expected exit statuses.
public struct CommandSpec: Sendable {
  public enum Form: Sendable {
    case argv([Template])
    case shell(Template)
  }

  public var form: Form
  public var expectedExit: Set<Int32>

  public var templates: [Template] {
    switch form {
    case .argv(let arguments): arguments
    case .shell(let line): [line]
    }
  }

  /// The command with references filled in. In a command line every filled-in
  /// value is shell-quoted; in an argument array values are passed as they are.
  public func render(_ values: ReferenceValues, timeout: Duration?) throws(TemplateError) -> HostCommand {
    switch form {
    case .argv(let arguments):
      var rendered: [String] = []
      for argument in arguments { rendered.append(try argument.render(values)) }
      return HostCommand(.argv(rendered), timeout: timeout)
    case .shell(let line):
      return HostCommand(.shell(try line.render(values, quote: ShellQuote.quote)), timeout: timeout)
    }
  }

  /// The command as it will be sent, references shown as `{{ … }}` when not yet known.
  public func display(_ values: ReferenceValues) -> String {
    if let command = try? render(values, timeout: nil) { return command.displayLine }
    switch form {
    case .argv(let arguments):
      return arguments.map { $0.isLiteral ? ShellQuote.quote($0.description) : $0.description }.joined(separator: " ")
    case .shell(let line): return line.description
    }
  }

  static let keys = ["argv", "command", "expect_exit"]

  /// The first reference that sits inside '…' or "…" in a command line, if any.
  static func referenceInsideQuotes(_ line: Template) -> Reference? {
    var single = false
    var double = false
    var escaped = false
    for segment in line.segments {
      switch segment {
      case .literal(let text):
        for character in text {
          if escaped {
            escaped = false
            continue
          }
          switch character {
          case "\\" where !single: escaped = true
          case "'" where !double: single.toggle()
          case "\"" where !single: double.toggle()
          default: break
          }
        }
      case .reference(let reference):
        if single || double { return reference }
      }
    }
    return nil
  }

  /// Reads `argv:` or `command:` (exactly one) and `expect_exit:` from a mapping's fields.
  static func decode(_ fields: YAMLFields, _ context: StepDecodingContext) throws(ConfigError) -> CommandSpec {
    let argv = fields["argv"]
    let command = fields["command"]
    let form: Form
    switch (argv, command) {
    case (let argv?, nil):
      let items = try argv.list()
      guard !items.isEmpty else {
        throw argv.error(.invalidValue, "'argv' is empty", hint: "the first element is the program to run")
      }
      var templates: [Template] = []
      for item in items { templates.append(try context.template(item)) }
      form = .argv(templates)
    case (nil, let command?):
      let line = try context.template(command)
      guard !line.description.trimmingCharacters(in: .whitespaces).isEmpty else {
        throw command.error(.invalidValue, "'command' is empty")
      }
      if let reference = referenceInsideQuotes(line) {
        throw command.error(
          .invalidValue, "{{ \(reference) }} is inside quotes in a command line",
          hint:
            "write references bare: nexus-dr quotes every filled-in value itself, and quoting it again would let $(…) in the value run"
        )
      }
      form = .shell(line)
    case (.some, .some):
      throw fields.owner.error(
        .invalidValue, "give either 'argv' or 'command', not both",
        hint: "argv is an argument array; command is a line for the host's shell")
    case (nil, nil):
      throw fields.owner.error(
        .missingKey, "a command needs 'argv' (an argument array) or 'command' (a shell line)",
        hint: "e.g. argv: [\"systemctl\", \"is-active\", \"nexus-api\"]")
    }
    var expected: Set<Int32> = [0]
    if let node = fields["expect_exit"] {
      expected = []
      for item in try node.list() {
        let code = try item.int()
        guard (0...255).contains(code) else {
          throw item.error(.invalidValue, "exit status \(code) is out of range 0-255")
        }
        expected.insert(Int32(code))
      }
      guard !expected.isEmpty else { throw node.error(.invalidValue, "'expect_exit' is empty") }
    }
    return CommandSpec(form: form, expectedExit: expected)
  }
}
