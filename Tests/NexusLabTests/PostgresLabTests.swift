import Foundation
import NexusPostgres
import NexusTestSupport
import Testing

extension LabSuites {
  /// The libpq client against the lab's PostgreSQL 15.
  @Suite("PostgreSQL client (lab)", .serialized)
  struct PostgresLabTests {
    let lab: Lab

    init() throws { lab = try Lab.require() }

    @Test("connects through .pgpass and reports version and archiving")
    func versionAndArchiving() async throws {
      try await PGConnection.with(conninfo: try lab.conninfo()) { connection in
        #expect(connection.serverVersionNumber / 10000 == 15)
        #expect(try await connection.serverVersion().hasPrefix("15."))
        let mode = try await connection.query("SHOW archive_mode").first?.decode(String.self, "archive_mode")
        #expect(mode == "on")
      }
    }

    @Test("hostile strings are bound as values, never run as SQL")
    func parameterised() async throws {
      try await PGConnection.with(conninfo: try lab.conninfo()) { connection in
        let hostile = [
          "'; DROP TABLE patients; --", "Robert'); DROP TABLE students;--", "$1", "\\", "Zürich ⚕", "a\nb",
          "\"quoted\"",
        ]
        for value in hostile {
          let echoed = try await connection.query("SELECT \(value)::text AS v, length(\(value)) AS n").first
          #expect(try echoed?.decode(String.self, "v") == value)
          #expect(try echoed?.decode(Int.self, "n") == value.count)
        }
        try await connection.query("CREATE TEMP TABLE hostile (name text)")
        for value in hostile { try await connection.query("INSERT INTO hostile VALUES (\(value))") }
        let found = try await connection.query("SELECT count(*) AS n FROM hostile WHERE name = \(hostile[0])").first
        #expect(try found?.decode(Int.self, "n") == 1)
        let patients = try await connection.query("SELECT to_regclass('public.patients') IS NOT NULL AS present").first
        #expect(try patients?.decode(Bool.self, "present") == true)
      }
    }

    @Test("typed access: integers, booleans, NULL")
    func typedRows() async throws {
      try await PGConnection.with(conninfo: try lab.conninfo()) { connection in
        let row = try #require(
          try await connection.query("SELECT 42::int8 AS answer, true AS yes, NULL::text AS nothing").first)
        #expect(try row.decode(Int64.self, "answer") == 42)
        #expect(try row.decode(Bool.self, "yes") == true)
        #expect(try row.decodeIfPresent(String.self, "nothing") == nil)
        #expect(throws: PGError.self) { try row.decode(String.self, "nothing") }
      }
    }

    @Test("an error keeps its SQLSTATE and the connection stays usable")
    func sqlState() async throws {
      try await PGConnection.with(conninfo: try lab.conninfo()) { connection async throws in
        do throws(PGError) {
          try await connection.query("SELECT * FROM no_such_table")
          Issue.record("no error")
        } catch {
          #expect(error.code == .queryFailed)
          #expect(error.sqlState == "42P01")
          #expect(error.description.contains("no_such_table"))
        }
        #expect(try await connection.query("SELECT 1 AS one").first?.decode(Int.self, "one") == 1)
      }
    }

    @Test("a wrong password is a clear error without the password in it")
    func wrongPassword() async throws {
      let scratch = try ScratchDirectory()
      let secret = "Wrong-\(UUID().uuidString)"
      let host = try lab.value("PGHOST")
      let passfile = try scratch.write("pgpass", "\(host):*:*:nexus_backup:\(secret)\n")
      for conninfo in [
        "host=\(host) dbname=nexus user=nexus_backup passfile=\(passfile)",
        "host=\(host) dbname=nexus user=nexus_backup password=\(secret)",
      ] {
        do {
          _ = try await PGConnection.connect(conninfo: conninfo)
          Issue.record("connected with a wrong password")
        } catch {
          #expect(error.code == .authenticationFailed)
          #expect(error.description.contains("nexus_backup"))
          #expect(!error.description.contains(secret))
          #expect(!"\(error)".contains(secret))
        }
      }
    }

    @Test("an unreachable server is a connection error naming where")
    func unreachable() async throws {
      let nowhere = try lab.unusedAddress()
      do {
        _ = try await PGConnection.connect(
          conninfo: "host=\(nowhere) dbname=nexus user=postgres", connectTimeout: .seconds(2))
        Issue.record("connected to nothing")
      } catch {
        #expect(error.code == .connectionFailed)
        #expect(error.description.contains(nowhere))
      }
    }
  }
}
