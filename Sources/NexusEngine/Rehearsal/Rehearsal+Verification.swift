import Foundation
import NexusCore
import NexusPostgres

// After the recovery: the service answers, what was dropped is back, and what the witness had
// been promised before the failure is still there.
extension Rehearsal {
  /// What the database held of the witness's records before anything was broken.
  struct Baseline {
    var present: Set<Int64>
    var at: Date
  }

  /// Adds a sentence per check to `result` (each failed one starting with FAILED) and sets
  /// `verified` to their conjunction; measures the data loss when there is a witness.
  func verify(_ result: inout RehearsalResult, droppedRows: Int64?, baseline: Baseline?, failureAt: Date) async {
    guard let database = environment.database else {
      result.checks.append("the recovery run completed (no database in the inventory to check)")
      result.verified = true
      return
    }
    var ok = true
    do {
      try await PGConnection.with(conninfo: database.conninfo()) { connection in
        let recovering = try await connection.query("SELECT pg_is_in_recovery()::text AS r").first?["r"] ?? "?"
        if recovering == "false" {
          result.checks.append("\(database.name) answers and accepts writes (not in recovery)")
        } else {
          ok = false
          result.checks.append("FAILED: \(database.name) is still in recovery")
        }
        if let dropTable, let droppedRows {
          let rows = try? await connection.query(
            "SELECT count(*)::text AS n FROM \(identifier: dropTable.schema).\(identifier: dropTable.table)"
          ).first?["n"].flatMap { Int64($0) }
          if let rows, rows >= droppedRows {
            result.checks.append(
              "\(dropTable.schema).\(dropTable.table) is back with \(rows) rows (\(droppedRows) before the drop)")
          } else {
            ok = false
            result.checks.append(
              "FAILED: \(dropTable.schema).\(dropTable.table) is \(rows.map { "back with only \($0) rows of \(droppedRows)" } ?? "not back")"
            )
          }
        }
      }
    } catch {
      ok = false
      result.checks.append("FAILED: \(database.name) does not answer after the recovery: \(error)")
    }
    if let acknowledgements, let baseline {
      do {
        let present = try await presentRecords(device: acknowledgements.device)
        let entries = try AcknowledgementLog.read(acknowledgements.log)
        let loss = AcknowledgementLog.loss(
          device: acknowledgements.device, entries: entries, baselineTakenAt: baseline.at,
          presentBefore: baseline.present, failure: failureAt,
          recovered: JournalTime.parse(result.recoveredAt) ?? Date(), presentAfter: present)
        result.dataLoss = loss
        result.checks.append(
          "\(loss.lost) of the \(loss.acknowledged) records \(loss.device) had acknowledged before the failure are missing"
        )
        // The service works end to end: the witness is acknowledged again.
        let count = entries.count
        let deadline = Date().addingTimeInterval(120)
        var now = count
        while now <= count && Date() < deadline {
          try await Task.sleep(for: .milliseconds(500))
          now = try AcknowledgementLog.read(acknowledgements.log).count
        }
        if now > count {
          result.checks.append("\(acknowledgements.device)'s records are acknowledged again (\(now - count) new)")
        } else {
          ok = false
          result.checks.append(
            "FAILED: \(acknowledgements.device) got no acknowledgement in the 120 s after the recovery")
        }
      } catch {
        ok = false
        result.checks.append("FAILED: measuring the data loss: \(error)")
      }
    }
    result.verified = ok
  }

  /// The seqs of the witness's records in the database.
  func presentRecords(device: String) async throws -> Set<Int64> {
    guard let database = environment.database else { return [] }
    return try await PGConnection.with(conninfo: database.conninfo()) { connection in
      let rows = try await connection.query("SELECT seq::text AS seq FROM staging.sync_inbox WHERE device = \(device)")
      return Set(rows.rows.compactMap { $0["seq"].flatMap { Int64($0) } })
    }
  }
}
