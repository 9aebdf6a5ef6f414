/// The rows a query returned, copied out of libpq's result.
public struct PGRows: Sendable, Sequence {
  public var columns: [String]
  public var rows: [PGRow]
  /// For INSERT/UPDATE/DELETE: the number of rows affected.
  public var affected: Int?

  public func makeIterator() -> IndexingIterator<[PGRow]> { rows.makeIterator() }
  public var count: Int { rows.count }
  public var first: PGRow? { rows.first }
}

/// One row; values are in PostgreSQL's text format and decoded on access.
public struct PGRow: Sendable {
  let columns: [String]
  let values: [String?]

  /// The raw text of a column; nil for NULL. Traps on an unknown column name,
  /// which is a programming error.
  public subscript(_ column: String) -> String? {
    guard let index = columns.firstIndex(of: column) else {
      preconditionFailure("no column '\(column)' in \(columns)")
    }
    return values[index]
  }

  public subscript(_ index: Int) -> String? { values[index] }

  /// The column decoded as `T`; throws when it is NULL or not a `T`.
  public func decode<T: PGDecodable>(_ type: T.Type = T.self, _ column: String) throws(PGError) -> T {
    guard let text = self[column] else {
      throw PGError(.decoding, message: "column '\(column)' is NULL, expected \(T.self)")
    }
    guard let value = T(pgText: text) else {
      throw PGError(.decoding, message: "column '\(column)' holds '\(text.prefix(40))', not a \(T.self)")
    }
    return value
  }

  /// The column decoded as `T`, or nil when it is NULL.
  public func decodeIfPresent<T: PGDecodable>(_ type: T.Type = T.self, _ column: String) throws(PGError) -> T? {
    guard self[column] != nil else { return nil }
    return try decode(type, column)
  }
}

/// A Swift value that can be read from PostgreSQL's text format.
public protocol PGDecodable {
  init?(pgText: String)
}

extension String: PGDecodable { public init?(pgText: String) { self = pgText } }
extension Int: PGDecodable { public init?(pgText: String) { self.init(pgText) } }
extension Int64: PGDecodable { public init?(pgText: String) { self.init(pgText) } }
extension Double: PGDecodable { public init?(pgText: String) { self.init(pgText) } }
extension Bool: PGDecodable {
  public init?(pgText: String) {
    switch pgText {
    case "t", "true", "on": self = true
    case "f", "false", "off": self = false
    default: return nil
    }
  }
}
