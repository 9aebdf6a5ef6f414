import CLibPQ
import Dispatch
import Foundation
import NexusCore

// Every libpq call of nexus-dr is in this file. libpq blocks, so each
// connection runs its calls on its own serial dispatch queue, never on Swift
// concurrency's shared threads.

/// One PostgreSQL connection.
public final class PGConnection: @unchecked Sendable {
  private let queue: DispatchQueue
  // Only touched on `queue`.
  private var handle: OpaquePointer?
  /// `database nexus on host:port`, for messages; never the conninfo itself.
  public let target: String
  /// The server version as PostgreSQL numbers it (150018 for 15.18).
  public let serverVersionNumber: Int

  private init(handle: OpaquePointer, target: String, queue: DispatchQueue) {
    self.handle = handle
    self.target = target
    self.queue = queue
    self.serverVersionNumber = Int(PQserverVersion(handle))
  }

  deinit {
    if let handle { PQfinish(handle) }
  }

  /// Connects with a libpq conninfo string. libpq's environment applies
  /// (`PGPASSFILE`, `PGHOST`, …), and passwords come from `.pgpass`; whatever
  /// libpq answers, the error text is redacted of passwords.
  public static func connect(conninfo: String, connectTimeout: Duration = .seconds(10)) async throws(PGError)
    -> PGConnection
  {
    let queue = DispatchQueue(label: "nexus-dr.pg")
    let full = conninfo + " connect_timeout=\(max(2, connectTimeout.components.seconds))"
    let result: Result<PGConnection, PGError> = await withCheckedContinuation { continuation in
      queue.async {
        // PQconnectdb always returns a handle, even on failure: it must be finished.
        guard let handle = PQconnectdb(full) else {
          continuation.resume(
            returning: .failure(PGError(.connectionFailed, message: "libpq could not allocate a connection")))
          return
        }
        let target = describe(handle)
        guard PQstatus(handle) == CONNECTION_OK else {
          let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
          PQfinish(handle)
          continuation.resume(returning: .failure(connectionError(message, target: target)))
          return
        }
        continuation.resume(returning: .success(PGConnection(handle: handle, target: target, queue: queue)))
      }
    }
    return try result.get()
  }

  /// Connects, runs `body` with the connection, and closes it on every path: when `body`
  /// returns, when it throws (a failed query, a cancelled task), as `connect` then `close`
  /// by hand would only on the paths written out.
  @discardableResult
  public static func with<Result>(
    conninfo: String, connectTimeout: Duration = .seconds(10), isolation: isolated (any Actor)? = #isolation,
    _ body: (PGConnection) async throws -> Result
  ) async throws -> Result {
    try await using(try await connect(conninfo: conninfo, connectTimeout: connectTimeout), body)
  }

  /// Runs `body` with a connection already made, and closes it on every path.
  @discardableResult
  public static func using<Result>(
    _ connection: PGConnection, isolation: isolated (any Actor)? = #isolation,
    _ body: (PGConnection) async throws -> Result
  ) async throws -> Result {
    do {
      let result = try await body(connection)
      await connection.close()
      return result
    } catch {
      await connection.close()
      throw error
    }
  }

  private static func describe(_ handle: OpaquePointer) -> String {
    let database = PQdb(handle).map { String(cString: $0) } ?? "?"
    let host = PQhost(handle).map { String(cString: $0) } ?? "?"
    let port = PQport(handle).map { String(cString: $0) } ?? ""
    return "database \(database) on \(host)\(port.isEmpty ? "" : ":\(port)")"
  }

  private static func connectionError(_ message: String, target: String) -> PGError {
    if message.contains("password authentication failed") || message.contains("no password supplied")
      || message.contains("authentication failed")
    {
      return PGError(
        .authenticationFailed, message: message,
        hint:
          "check the role's entry in the .pgpass file (PGPASSFILE, mode 0600) and that the role exists with that password",
        target: target)
    }
    return PGError(
      .connectionFailed, message: message,
      hint: "is PostgreSQL running and listening there? Check the inventory's database settings and pg_hba.conf",
      target: target)
  }

  /// Runs one statement with its parameters bound, and returns its rows.
  @discardableResult
  public func query(_ query: PGQuery) async throws(PGError) -> PGRows {
    let result: Result<PGRows, PGError> = await withCheckedContinuation { continuation in
      queue.async {
        continuation.resume(returning: self.execute(query))
      }
    }
    return try result.get()
  }

  private func execute(_ query: PGQuery) -> Result<PGRows, PGError> {
    guard let handle else { return .failure(PGError(.closed, message: "the connection is closed", target: target)) }
    // NUL-terminated copies of the parameters, alive while libpq reads them.
    let cStrings: [UnsafeMutablePointer<CChar>?] = query.parameters.map { parameter in
      parameter.flatMap { text in
        let bytes = text.utf8CString
        let copy = UnsafeMutableBufferPointer<CChar>.allocate(capacity: bytes.count)
        _ = copy.initialize(from: bytes)
        return copy.baseAddress
      }
    }
    defer { for string in cStrings { string?.deallocate() } }
    let values = cStrings.map { UnsafePointer($0) }
    let result = values.withUnsafeBufferPointer { buffer in
      PQexecParams(handle, query.sql, Int32(buffer.count), nil, buffer.baseAddress, nil, nil, 0)
    }
    guard let result else {
      return .failure(PGError(.queryFailed, message: String(cString: PQerrorMessage(handle)), target: target))
    }
    defer { PQclear(result) }
    switch PQresultStatus(result) {
    case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
      break
    default:
      func field(_ code: UInt8) -> String? {
        PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
      }
      let primary = field(UInt8(ascii: "M")) ?? String(cString: PQresultErrorMessage(result))
      let broken = PQstatus(handle) != CONNECTION_OK
      return .failure(
        PGError(
          broken ? .connectionFailed : .queryFailed,
          sqlState: field(UInt8(ascii: "C")),
          message: broken
            ? "the connection to the server broke: \(primary.trimmingCharacters(in: .whitespacesAndNewlines))"
            : primary,
          detail: field(UInt8(ascii: "D")),
          hint: field(UInt8(ascii: "H"))
            ?? (broken
              ? "no answer from the server (keepalives unanswered): is the server down or its network cut? A statement it was running may still finish there"
              : nil),
          target: target))
    }
    let fieldCount = Int(PQnfields(result))
    let columns = (0..<fieldCount).map { String(cString: PQfname(result, Int32($0))) }
    var rows: [PGRow] = []
    let rowCount = Int(PQntuples(result))
    rows.reserveCapacity(rowCount)
    for row in 0..<rowCount {
      let values: [String?] = (0..<fieldCount).map { column in
        PQgetisnull(result, Int32(row), Int32(column)) != 0
          ? nil : String(cString: PQgetvalue(result, Int32(row), Int32(column)))
      }
      rows.append(PGRow(columns: columns, values: values))
    }
    let affected = Int(String(cString: PQcmdTuples(result)))
    return .success(PGRows(columns: columns, rows: rows, affected: affected))
  }

  /// The server's version string (`15.18`) as `SHOW server_version` reports it.
  public func serverVersion() async throws(PGError) -> String {
    try await query("SHOW server_version").first?.decode(String.self, "server_version") ?? "unknown"
  }

  /// Closes the connection; later queries fail with `closed`.
  public func close() async {
    await withCheckedContinuation { continuation in
      queue.async {
        if let handle = self.handle { PQfinish(handle) }
        self.handle = nil
        continuation.resume()
      }
    }
  }
}
