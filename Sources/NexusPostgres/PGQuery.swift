/// A SQL statement whose interpolated values become bind parameters.
///
/// `"SELECT count(*) FROM patients WHERE name = \(name)"` sends
/// `... WHERE name = $1` with `name` bound: values are never spliced into SQL.
/// Identifiers and fixed SQL fragments that cannot be parameters go through
/// `\(unsafeSQL: ...)`, which says in the code that the text is trusted.
public struct PGQuery: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
  public var sql: String
  public var parameters: [String?]

  public init(unsafeSQL sql: String, parameters: [String?] = []) {
    self.sql = sql
    self.parameters = parameters
  }

  public init(stringLiteral value: String) {
    self.init(unsafeSQL: value)
  }

  public init(stringInterpolation: StringInterpolation) {
    self.init(unsafeSQL: stringInterpolation.sql, parameters: stringInterpolation.parameters)
  }

  public struct StringInterpolation: StringInterpolationProtocol {
    var sql = ""
    var parameters: [String?] = []

    public init(literalCapacity: Int, interpolationCount: Int) {
      sql.reserveCapacity(literalCapacity + interpolationCount * 3)
    }

    public mutating func appendLiteral(_ literal: String) { sql += literal }

    /// A value, bound as the next `$n` parameter.
    public mutating func appendInterpolation(_ value: some PGEncodable) {
      parameters.append(value.pgText)
      sql += "$\(parameters.count)"
    }

    /// Trusted SQL text, inserted as it is.
    public mutating func appendInterpolation(unsafeSQL text: String) { sql += text }

    /// A string constant where PostgreSQL takes no parameter (COMMENT ON, some DDL):
    /// single-quoted with quotes doubled, as `standard_conforming_strings` (the default) reads it.
    public mutating func appendInterpolation(literal: String) {
      sql += "'" + literal.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// An identifier (table, schema, role), quoted with `"` as PostgreSQL requires.
    public mutating func appendInterpolation(identifier: String) {
      sql += "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
  }

  /// The SQL with placeholders; parameter values are not shown.
  public var description: String { sql }
}

/// A Swift value that can be sent as a text-format bind parameter.
public protocol PGEncodable: Sendable {
  /// The PostgreSQL text representation; nil for NULL.
  var pgText: String? { get }
}

extension String: PGEncodable { public var pgText: String? { self } }
extension Int: PGEncodable { public var pgText: String? { String(self) } }
extension Int32: PGEncodable { public var pgText: String? { String(self) } }
extension Int64: PGEncodable { public var pgText: String? { String(self) } }
extension Double: PGEncodable { public var pgText: String? { String(self) } }
extension Bool: PGEncodable { public var pgText: String? { self ? "t" : "f" } }
extension Optional: PGEncodable where Wrapped: PGEncodable {
  public var pgText: String? { self?.pgText }
}
