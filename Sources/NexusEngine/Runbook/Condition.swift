/// A step's `when`: `{{ a }} == text`, `{{ a }} != text`, or a single operand
/// that is true unless empty, `false`, `no` or `0`.
public struct Condition: Sendable, Hashable, CustomStringConvertible {
  public enum Operator: String, Sendable {
    case equal = "=="
    case notEqual = "!="
  }

  public var left: Template
  public var comparison: (op: Operator, right: Template)?

  public static func == (lhs: Condition, rhs: Condition) -> Bool {
    lhs.left == rhs.left && lhs.comparison?.op == rhs.comparison?.op && lhs.comparison?.right == rhs.comparison?.right
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(left)
    hasher.combine(comparison?.op)
    hasher.combine(comparison?.right)
  }

  public var references: [Reference] { left.references + (comparison?.right.references ?? []) }

  public var description: String {
    guard let comparison else { return left.description }
    return "\(left) \(comparison.op.rawValue) \(comparison.right)"
  }

  public static func parse(_ text: String) -> Result<Condition, TemplateError> {
    for op in [Operator.equal, .notEqual] {
      if let range = text.range(of: " \(op.rawValue) ") {
        let left = Template.parse(text[..<range.lowerBound].trimmingCharacters(in: .whitespaces).unquoted)
        let right = Template.parse(text[range.upperBound...].trimmingCharacters(in: .whitespaces).unquoted)
        switch (left, right) {
        case (.success(let l), .success(let r)): return .success(Condition(left: l, comparison: (op, r)))
        case (.failure(let error), _), (_, .failure(let error)): return .failure(error)
        }
      }
    }
    if text.contains("==") || text.contains("!=") {
      return .failure(TemplateError(message: "write spaces around == and != in \"\(text)\""))
    }
    return Template.parse(text.trimmingCharacters(in: .whitespaces)).map { Condition(left: $0, comparison: nil) }
  }

  /// Evaluates the condition. An output of a step that did not run (skipped, or
  /// failed with `on_failure: continue`) reads as empty, so `== x` is false and `!= x` true.
  public func evaluate(_ values: ReferenceValues) throws(TemplateError) -> Bool {
    var values = values
    for case .stepOutput(let step, _) in references where values.outputs[step] == nil { values.outputs[step] = [:] }
    for case .stepOutput(let step, let key) in references
    where values.outputs[step]?[key] == nil && values.outputs[step]?.isEmpty == true {
      values.outputs[step]?[key] = ""
    }
    let left = try self.left.render(values)
    guard let comparison else { return !["", "false", "no", "0"].contains(left.lowercased()) }
    let right = try comparison.right.render(values)
    return comparison.op == .equal ? left == right : left != right
  }
}

extension String {
  /// Without one pair of surrounding quotes, so `== 'pitr'` and `== pitr` mean the same.
  var unquoted: String {
    if count >= 2, let first, let last, first == last, first == "'" || first == "\"" {
      return String(dropFirst().dropLast())
    }
    return self
  }
}
