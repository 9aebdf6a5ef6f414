import ArgumentParser

/// `--input NAME=VALUE`: one of a runbook's inputs.
struct RunbookInput: ExpressibleByArgument, Sendable {
  var name: String
  var value: String

  init?(argument: String) {
    guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
    name = String(argument[..<equals])
    value = String(argument[argument.index(after: equals)...])
  }
}

extension [RunbookInput] {
  /// By name; a later `--input` of the same name wins.
  var values: [String: String] {
    reduce(into: [:]) { values, input in values[input.name] = input.value }
  }
}
