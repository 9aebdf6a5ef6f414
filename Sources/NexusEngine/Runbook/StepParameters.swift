import NexusCore

/// The keys an action's `with:` mapping accepts, declared once: the loader
/// rejects any other key, and the action reads its values by these cases.
public protocol ParameterKey: RawRepresentable<String>, CaseIterable, Sendable {}

/// The keys of an action that takes no parameters.
public enum NoParameters: ParameterKey {
  public init?(rawValue: String) { nil }
  public var rawValue: String {
    switch self {}
  }
}

/// A step's `with:` mapping, read by its action's keys.
public struct StepParameters<Key: ParameterKey> {
  public let fields: YAMLFields

  public init(_ fields: YAMLFields) { self.fields = fields }

  /// The step's `with:` mapping (or the step itself when it has none), for errors.
  public var owner: YAMLValue { fields.owner }

  public subscript(_ key: Key) -> YAMLValue? { fields[key.rawValue] }

  public func required(_ key: Key, hint: String? = nil) throws(ConfigError) -> YAMLValue {
    try fields.required(key.rawValue, hint: hint)
  }

  /// A value from a closed set, decoded as its enum; `fallback` when the key is absent.
  /// `invalid` words the error for any other value.
  public func choice<Value: RawRepresentable<String> & CaseIterable>(
    _ key: Key, default fallback: Value, invalid: (String) -> String
  ) throws(ConfigError) -> Value {
    guard let node = self[key] else { return fallback }
    let text = try node.string()
    guard let value = Value(rawValue: text) else { throw node.error(.invalidValue, invalid(text)) }
    return value
  }

  /// A list of values from a closed set; `fallback` when the key is absent.
  public func choices<Value: RawRepresentable<String> & CaseIterable>(
    _ key: Key, default fallback: [Value], code: ConfigError.Code = .invalidValue, invalid: (String) -> String
  ) throws(ConfigError) -> [Value] {
    guard let node = self[key] else { return fallback }
    var values: [Value] = []
    for text in try node.stringList() {
      guard let value = Value(rawValue: text) else { throw node.error(code, invalid(text)) }
      values.append(value)
    }
    return values
  }
}
