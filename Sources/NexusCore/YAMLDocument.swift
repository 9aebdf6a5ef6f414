import Foundation
import Yams

/// A YAML node with the file it came from, so every accessor can report a
/// mistake as `file:line:column` with a hint.
///
/// Decoding is strict on purpose: `mapping(allowed:)` rejects keys it does not
/// know, so a typo such as `min_fre:` is an error rather than a silent default.
public struct YAMLValue {
  public let node: Node
  public let file: String
  /// The dotted path from the document root, for messages (`environments.lab.nas`).
  public let path: String

  public init(node: Node, file: String, path: String) {
    self.node = node
    self.file = file
    self.path = path
  }

  /// Parses a whole file into its root value.
  public static func load(file: String) throws(ConfigError) -> YAMLValue {
    guard let data = FileManager.default.contents(atPath: file),
      let text = String(data: data, encoding: .utf8)
    else {
      throw ConfigError(
        .fileUnreadable, file: file, message: "cannot read the file",
        hint: "check that it exists and is readable by this user")
    }
    return try parse(text, file: file)
  }

  /// Parses YAML text; `file` names it in errors.
  public static func parse(_ text: String, file: String) throws(ConfigError) -> YAMLValue {
    do {
      guard let node = try Yams.compose(yaml: text) else {
        throw ConfigError(.syntax, file: file, line: 1, column: 1, message: "the file is empty")
      }
      return YAMLValue(node: node, file: file, path: "")
    } catch let error as ConfigError {
      throw error
    } catch let error as YamlError {
      throw Self.syntaxError(error, file: file)
    } catch {
      throw ConfigError(.syntax, file: file, message: "not valid YAML: \(error)")
    }
  }

  private static func syntaxError(_ error: YamlError, file: String) -> ConfigError {
    switch error {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
      .composer(_, let problem, let mark, _):
      return ConfigError(
        .syntax, file: file, line: mark.line, column: mark.column,
        message: "not valid YAML: \(problem)",
        hint: "check the indentation and quoting around this place")
    case .duplicatedKeysInMapping(let duplicates, let context):
      return ConfigError(
        .duplicate, file: file, line: context.mark.line, column: context.mark.column,
        message: "duplicate key \(duplicates.joined(separator: ", "))",
        hint: "each key may appear once in a mapping")
    case .reader(let problem, let offset, let value, let yaml):
      // libyaml's reader gives a character offset, not a line: count it out (found by fuzzing).
      var line = 1
      var column = 1
      for character in yaml.unicodeScalars.prefix(max(0, offset ?? 0)) {
        if character == "\n" {
          line += 1
          column = 1
        } else {
          column += 1
        }
      }
      return ConfigError(
        .syntax, file: file, line: line, column: column,
        message: "not valid YAML: \(problem) (character U+\(String(format: "%04X", value)))",
        hint: "remove the control character (an editor or a copy from a terminal can leave one)")
    default:
      return ConfigError(.syntax, file: file, line: 1, column: 1, message: "not valid YAML: \(error)")
    }
  }

  /// Where an omitted value is reported: at the mapping that omits it.
  var fallbackPosition: (line: Int, column: Int)?

  /// An empty mapping standing for one `owner` omits (a step without `with:`);
  /// its errors point at `owner`.
  public static func emptyMapping(standingIn owner: YAMLValue, key: String) -> YAMLValue {
    var value = YAMLValue(
      node: Node([(Node, Node)]()), file: owner.file, path: owner.path.isEmpty ? key : "\(owner.path).\(key)")
    value.fallbackPosition = (owner.line, owner.column)
    return value
  }

  public var line: Int { node.mark?.line ?? fallbackPosition?.line ?? 0 }
  public var column: Int { node.mark?.column ?? fallbackPosition?.column ?? 0 }

  /// An error located at this value.
  public func error(_ code: ConfigError.Code, _ message: String, hint: String? = nil) -> ConfigError {
    ConfigError(code, file: file, line: line, column: column, message: message, hint: hint)
  }

  private var described: String { path.isEmpty ? "the document" : "'\(path)'" }

  private func child(_ node: Node, _ key: String) -> YAMLValue {
    YAMLValue(node: node, file: file, path: path.isEmpty ? key : "\(path).\(key)")
  }

  /// The entries of a mapping, in file order, refusing keys outside `allowed`.
  public func mapping(allowed: [String]? = nil) throws(ConfigError) -> [(key: String, value: YAMLValue)] {
    guard case .mapping(let mapping) = node else {
      throw error(.wrongType, "\(described) must be a mapping (key: value)")
    }
    var entries: [(key: String, value: YAMLValue)] = []
    for (keyNode, valueNode) in mapping {
      guard let key = keyNode.string else {
        throw YAMLValue(node: keyNode, file: file, path: path)
          .error(.wrongType, "a key in \(described) is not a string")
      }
      if let allowed, !allowed.contains(key) {
        throw ConfigError(
          .unknownKey, file: file, line: keyNode.mark?.line ?? 0, column: keyNode.mark?.column ?? 0,
          message: "unknown key '\(key)' in \(described)",
          hint: Self.suggestion(for: key, among: allowed))
      }
      entries.append((key, child(valueNode, key)))
    }
    return entries
  }

  /// A keyed view of a mapping for required and optional fields.
  public func fields(allowed: [String]) throws(ConfigError) -> YAMLFields {
    YAMLFields(owner: self, entries: try mapping(allowed: allowed))
  }

  public func string() throws(ConfigError) -> String {
    guard case .scalar(let scalar) = node else {
      throw error(.wrongType, "\(described) must be a single value, not a list or mapping")
    }
    return scalar.string
  }

  public func int() throws(ConfigError) -> Int {
    guard let value = Int(try string()) else {
      throw error(.wrongType, "\(described) must be a whole number, got '\(try string())'")
    }
    return value
  }

  public func bool() throws(ConfigError) -> Bool {
    switch try string() {
    case "true", "yes", "on": return true
    case "false", "no", "off": return false
    case let other: throw error(.wrongType, "\(described) must be true or false, got '\(other)'")
    }
  }

  public func duration() throws(ConfigError) -> Duration {
    let text = try string()
    guard let value = DurationText.parse(text) else {
      throw error(
        .invalidValue, "\(described) is not a duration: '\(text)'",
        hint: "write a number with a unit: 500ms, 30s, 5m, 2h, 14d or 1h30m")
    }
    return value
  }

  public func byteSize() throws(ConfigError) -> ByteSize {
    let text = try string()
    guard let value = ByteSize(parsing: text) else {
      throw error(
        .invalidValue, "\(described) is not a size: '\(text)'",
        hint: "write a number with a unit: 512MiB, 20GiB, 1.5TB")
    }
    return value
  }

  public func list() throws(ConfigError) -> [YAMLValue] {
    guard case .sequence(let sequence) = node else {
      throw error(.wrongType, "\(described) must be a list")
    }
    return sequence.enumerated().map { index, node in child(node, "\(index)") }
  }

  public func stringList() throws(ConfigError) -> [String] {
    var strings: [String] = []
    for item in try list() { strings.append(try item.string()) }
    return strings
  }

  /// "did you mean …" for a misspelt key.
  public static func suggestion(for key: String, among allowed: [String]) -> String {
    let close = allowed.min { editDistance($0, key) < editDistance($1, key) }
    if let close, editDistance(close, key) <= max(2, key.count / 3) {
      return "did you mean '\(close)'? Allowed here: \(allowed.joined(separator: ", "))"
    }
    return "allowed here: \(allowed.joined(separator: ", "))"
  }

  static func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
      var current = [i] + Array(repeating: 0, count: b.count)
      for j in 1...max(b.count, 1) where !b.isEmpty {
        current[j] = min(
          previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
  }
}

/// The fields of one mapping, with required and optional access.
public struct YAMLFields {
  public let owner: YAMLValue
  let entries: [(key: String, value: YAMLValue)]

  public subscript(_ key: String) -> YAMLValue? {
    entries.first { $0.key == key }?.value
  }

  public func required(_ key: String, hint: String? = nil) throws(ConfigError) -> YAMLValue {
    guard let value = self[key] else {
      let place = owner.path.isEmpty ? "the document" : "'\(owner.path)'"
      throw owner.error(.missingKey, "\(place) is missing '\(key)'", hint: hint)
    }
    return value
  }
}
