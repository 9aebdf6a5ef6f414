import Foundation
import NexusCore
import NexusEngine
import Testing

@Suite("Rehearsal")
struct RehearsalTests {
  static let inventoryText = """
    default: production
    environments:
      production:
        hosts:
          server: { transport: local }
          gate:   { address: nexus-gate }
        ssh:      { known_hosts: /etc/nexus-dr/known_hosts }
        database: { name: nexus, host: /var/run/postgresql }
        objectives: { rto: 2h, rpo: 5m }
      staging:
        hosts:
          server: { address: staging-server }
          gate:   { address: staging-gate }
        ssh:      { known_hosts: /etc/nexus-dr/known_hosts }
        database: { name: nexus, host: staging-server }
        rehearsal:
          acknowledgements: { device: ipad-1, log: /var/lib/ipad/acked.log }
          scenarios:
            server-failure: { inject: [virsh, destroy, staging-server], repair: [/usr/local/bin/reprovision], answers: { manual.provision: done } }
            corrupt-db: { drop_table: public.appointments }
    """

  /// A resolver with fixed answers: names as the site's DNS would resolve them.
  static func resolver(_ table: [String: Set<String>]) -> (String) -> Set<String> {
    { name in table[name] ?? [] }
  }

  static let dns: [String: Set<String>] = [
    "nexus-gate": ["10.0.0.2"], "staging-server": ["10.0.1.10"], "staging-gate": ["10.0.1.2"],
    "gate-alias": ["10.0.0.2"],
  ]

  func refusals(
    _ text: String, env: String, dns: [String: Set<String>] = Self.dns, own: Set<String> = ["10.0.0.1", "127.0.0.1"]
  ) throws -> [String] {
    let inventory = try InventoryLoader.parse(text, file: "inv.yaml")
    return RehearsalGuard.refusals(
      environment: try inventory.environment(env), inventory: inventory, resolve: Self.resolver(dns), ownAddresses: own)
  }

  @Test("the rehearsal section loads: witness, commands as argument arrays, answers")
  func loads() throws {
    let inventory = try InventoryLoader.parse(Self.inventoryText, file: "inv.yaml")
    let staging = try inventory.environment("staging")
    let rehearsal = try #require(staging.rehearsal)
    #expect(rehearsal.acknowledgements?.device == "ipad-1")
    #expect(rehearsal.scenarios["server-failure"]?.inject == ["virsh", "destroy", "staging-server"])
    #expect(rehearsal.scenarios["server-failure"]?.answers == ["manual.provision": "done"])
    #expect(rehearsal.scenarios["corrupt-db"]?.dropTable == "public.appointments")
    #expect(try inventory.environment("production").rehearsal == nil)
  }

  @Test(
    "a bad rehearsal section is an error with its place",
    arguments: [
      ("scenarios: { corupt-db: {} }", "unknown scenario 'corupt-db'"),
      ("scenarios: { nas-failure: { inject: [] } }", "empty command"),
      ("scenarios: { nas-failure: { inject: \"umount /mnt/nas\" } }", "must be a list"),
      ("scenarios: { nas-failure: { injekt: [x] } }", "injekt"),
      ("acknowledgements: { device: ipad-1 }", "log"),
      ("scenarios: { corrupt-db: { drop_table: staging.sync_inbox } }", "is in the staging schema"),
      ("scenarios: { corrupt-db: { drop_table: public. } }", "is not a table name"),
      ("scenarios: { corrupt-db: { drop_table: a.b.c } }", "is not a table name"),
    ])
  func rejects(yaml: String, expected: String) throws {
    let text = """
      default: staging
      environments:
        staging:
          hosts: { server: { transport: local } }
          rehearsal:
            \(yaml)
      """
    do {
      _ = try InventoryLoader.parse(text, file: "inv.yaml")
      Issue.record("accepted: \(yaml)")
    } catch {
      #expect(error.description.contains(expected), "\(error.description)")
      #expect(error.description.hasPrefix("inv.yaml:"), "names the place: \(error.description)")
    }
  }

  @Test(
    "production is never rehearsed; a staging whose host or database is production's is refused; a separate staging is not"
  )
  func productionGuard() throws {
    #expect(
      try refusals(Self.inventoryText, env: "production").first?.contains("'production' is never rehearsed") == true)
    #expect(try refusals(Self.inventoryText, env: "staging").isEmpty)
    // The gate by another name that resolves to production's gate.
    let alias = Self.inventoryText.replacingOccurrences(
      of: "gate:   { address: staging-gate }", with: "gate:   { address: gate-alias }")
    #expect(
      try refusals(alias, env: "staging") == [
        "staging's host 'gate' (gate-alias) is production's 'gate' (both reach 10.0.0.2)"
      ])
    // By its address.
    let byAddress = Self.inventoryText.replacingOccurrences(
      of: "gate:   { address: staging-gate }", with: "gate:   { address: 10.0.0.2 }")
    #expect(
      try refusals(byAddress, env: "staging", dns: Self.dns.merging(["10.0.0.2": ["10.0.0.2"]]) { a, _ in a }).count
        == 1)
    // Production's server is this machine (local): a staging host that is this machine is production's.
    let here = Self.inventoryText.replacingOccurrences(
      of: "server: { address: staging-server }", with: "server: { address: 10.0.0.1 }")
    let hereRefusals = try refusals(
      here, env: "staging", dns: Self.dns.merging(["10.0.0.1": ["10.0.0.1"]]) { a, _ in a })
    #expect(
      hereRefusals.contains { $0.contains("host 'server'") && $0.contains("production's 'server'") }, "\(hereRefusals)")
    #expect(hereRefusals.count == 1, "its database (staging-server) is not production's: \(hereRefusals)")
    // The database alone pointing at production's.
    let database = Self.inventoryText.replacingOccurrences(
      of: "database: { name: nexus, host: staging-server }", with: "database: { name: nexus, host: localhost }"
    )
    .replacingOccurrences(of: "server: { address: staging-server }", with: "server: { transport: local }")
    #expect(try refusals(database, env: "staging").count == 2)
  }

  @Test("acknowledgement log: complete lines only, both time forms")
  func logParse() {
    let entries = AcknowledgementLog.parse(
      "1\t2026-11-27T18:00:00.100Z\n2\t2026-11-27T18:00:01Z\nnoise\n3\t2026-11-27T18:00:0")
    #expect(entries.map(\.seq) == [1, 2])
    #expect(entries.last.map { JournalTime.format($0.at) } == "2026-11-27T18:00:01.000Z")
  }

  @Test(
    "data loss: only what was promised before the failure and held before it; the window from the first lost to the failure"
  )
  func loss() {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let entries = (1...10).map { AcknowledgementLog.Entry(seq: Int64($0), at: t0.addingTimeInterval(Double($0))) }
    // Baseline at t0+5 held 2...5 (1 was lost by an earlier rehearsal: not this one's); the failure at t0+8.5;
    // after the recovery 2, 3, 4, 5, 6 and 10 are there: 7 and 8 lost; 9 was after the failure and is gone too.
    let loss = AcknowledgementLog.loss(
      device: "ipad-1", entries: entries, baselineTakenAt: t0.addingTimeInterval(5.5), presentBefore: [2, 3, 4, 5],
      failure: t0.addingTimeInterval(8.5), recovered: t0.addingTimeInterval(9.5), presentAfter: [2, 3, 4, 5, 6, 10])
    #expect(loss.acknowledged == 7)
    #expect(loss.lost == 2 && loss.lostSeqs == [7, 8])
    #expect(loss.windowMs == 1500)
    #expect(loss.acknowledgedAfter == 1 && loss.lostAfter == 1)
  }

  func result(_ scenario: String, daysAgo: Double, outcome: RehearsalResult.Outcome, recoveryMs: Int64 = 20_000)
    -> RehearsalResult
  {
    var result = RehearsalResult(
      id: "x-\(scenario)", scenario: scenario, environment: "staging", operatorName: "op", toolVersion: "0",
      failure: "f",
      injectedAt: Date().addingTimeInterval(-daysAgo * 86_400))
    result.recoveryMs = recoveryMs
    result.runState = outcome == .failed ? "failed" : "completed"
    result.outcome = outcome
    result.reason = outcome == .failed ? "the recovery run r ended failed" : ""
    return result
  }

  @Test(
    "health: never → WARNING, fresh and within the objective → OK, 31 days → WARNING, failed → WARNING, slower than the RTO → WARNING"
  )
  func health() {
    let objectives = Objectives(rto: .seconds(3600), rpo: .seconds(300))
    let items = RehearsalHealth.items(
      rehearsals: [
        result("corrupt-db", daysAgo: 40, outcome: .passed), result("corrupt-db", daysAgo: 1, outcome: .passed),
        result("server-failure", daysAgo: 31, outcome: .passed),
        result("gateway-failure", daysAgo: 2, outcome: .failed),
      ], objectives: objectives, now: Date(), warningAge: 30 * 86_400)
    let byName = Dictionary(uniqueKeysWithValues: items.map { ($0.name, $0) })
    #expect(byName["rehearsal_corrupt_db"]?.status == .ok)
    #expect(byName["rehearsal_corrupt_db"]?.summary.contains("recovered in 20.0 s (objective 1 h 00 min)") == true)
    #expect(byName["rehearsal_server_failure"]?.status == .warning)
    #expect(byName["rehearsal_server_failure"]?.summary.hasPrefix("NOT REHEARSED FOR 31 DAYS") == true)
    #expect(byName["rehearsal_gateway_failure"]?.summary.hasPrefix("LAST REHEARSAL FAILED") == true)
    #expect(byName["rehearsal_nas_failure"]?.status == .warning)
    #expect(byName["rehearsal_nas_failure"]?.summary.hasPrefix("NEVER REHEARSED") == true)
    let slow = RehearsalHealth.items(
      rehearsals: [result("corrupt-db", daysAgo: 1, outcome: .passed, recoveryMs: 4_000_000)], objectives: objectives,
      now: Date(),
      warningAge: 30 * 86_400)
    #expect(
      slow.first?.status == .warning && slow.first?.summary.hasPrefix("RECOVERY SLOWER THAN THE OBJECTIVE") == true)
  }

  @Test("the outcome: objectives decide between passed and objective-missed; an unfinished run fails")
  func outcome() {
    var result = result("server-failure", daysAgo: 0, outcome: .passed)
    result.rtoMs = 10_000
    result.rpoMs = 300_000
    result.verified = true
    result.dataLoss = .init(
      device: "ipad-1", acknowledged: 10, lost: 1, lostSeqs: [9], windowStart: "", windowEnd: "", windowMs: 900,
      acknowledgedAfter: 0, lostAfter: 0)
    result.conclude()
    #expect(result.outcome == .objectiveMissed && result.reason.contains("recovery took 20.0 s, objective 10.0 s"))
    result.rtoMs = 60_000
    result.conclude()
    #expect(result.outcome == .passed)
    result.runState = "failed"
    result.conclude()
    #expect(result.outcome == .failed)
  }

  @Test("the reports carry the figures; HTML escapes what it shows")
  func reports() throws {
    var result = result("corrupt-db", daysAgo: 0, outcome: .passed, recoveryMs: 9_400)
    result.failure = "an accidental DROP TABLE <script>"
    result.rtoMs = 7_200_000
    result.rpoMs = 300_000
    result.verified = true
    result.checks = ["public.appointments is back with 18000 rows (18000 before the drop)"]
    result.dataLoss = .init(
      device: "ipad-1", acknowledged: 50, lost: 0, lostSeqs: [], windowStart: "", windowEnd: "", windowMs: 0,
      acknowledgedAfter: 1, lostAfter: 1)
    result.phases = [
      .init(label: "Failure injected", kind: "injection", status: "completed", startMs: 0, durationMs: 40),
      .init(label: "Point-in-time recovery", kind: "step", status: "completed", startMs: 2000, durationMs: 5500),
    ]
    result.conclude()
    let markdown = try RehearsalReport.render(result, format: .md)
    #expect(markdown.contains("| **Recovery time** | **9.4 s** — objective 2 h 00 min: met |"))
    #expect(markdown.contains("0 of 50 records ipad-1 had acknowledged before the failure"))
    #expect(markdown.contains("| +2.0 s | 5.5 s | Point-in-time recovery | completed |"))
    let html = try RehearsalReport.render(result, format: .html)
    #expect(html.contains("&lt;script&gt;") && !html.contains("<script>"))
    #expect(html.contains("RTO 2 h 00 min"))
  }
}
