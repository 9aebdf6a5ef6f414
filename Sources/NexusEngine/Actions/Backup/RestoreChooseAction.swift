import Foundation
import NexusCore
import NexusPostgres
import NexusTransport

/// `restore.choose`: the restore points, each with its data-loss window and an
/// estimate of its duration from the last measured restore; the operator picks
/// one (question `choose.STEP-ID`):
/// - `dump`: the latest valid dump — loses everything written since its snapshot;
/// - `pitr-latest`: the newest verified base backup rolled forward through the
///   unbroken WAL chain — loses only what was not archived;
/// - `pitr-target`: the same, stopped at `target_time` (e.g. just before a bad migration).
/// A point-in-time option is offered only when the chain from its base backup
/// reaches the target without a gap; an option whose restore does not fit on the
/// server's disk is not offered. What is not offered is said, with the reason.
public struct RestoreChooseAction: StepAction {
  public static let name = "restore.choose"
  public enum Parameter: String, ParameterKey {
    case target
    case targetTime = "target_time"
    case dataDirectory = "data_directory"
    case serverLost = "server_lost"
  }
  public static let hostUse = HostUse.required
  public static let naturallyIdempotent = true

  public var target: Template?
  public var targetTime: Template?
  public var dataDirectory: Template?
  /// The old server is gone (server-failure): nothing of its unarchived WAL can be saved.
  public var serverLost: Bool

  public init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError) {
    target = try parameters[.target].map(context.template)
    targetTime = try parameters[.targetTime].map(context.template)
    dataDirectory = try parameters[.dataDirectory].map(context.template)
    serverLost = try parameters[.serverLost]?.bool() ?? false
  }

  public var declaredOutputs: Set<String>? {
    [
      "choice", "method", "source", "manifest", "base", "target_time", "timeline", "loss_since", "loss_window",
      "estimate", "data_directory",
    ]
  }

  public func plan(_ context: PlanContext) -> [String] {
    [
      "list the restore points — latest dump; point-in-time to the end of the archived WAL; to --target-time if given — each with what it loses and how long it should take",
      "a point-in-time option needs a verified base backup and an unbroken WAL chain from it to the target; ask which (question choose.\(context.step.id))",
    ]
  }

  public func run(_ context: StepContext) async throws(StepFailure) -> StepResult {
    guard let nas = context.environment.nas else { throw StepFailure(.failed, "no nas in the inventory") }
    let root = try target.map { template throws(StepFailure) in try context.render(template) } ?? nas.path
    let targetText =
      try targetTime.map { template throws(StepFailure) in try context.render(template) }?.trimmingCharacters(
        in: .whitespaces) ?? ""
    var targetDate: Date?
    if !targetText.isEmpty {
      guard let parsed = TargetTime.parse(targetText) else {
        throw StepFailure(
          .failed,
          "target time '\(targetText)' is not a time: write 2026-11-27T14:03:00Z, 2026-11-27T15:03:00+01:00, or 2026-11-27 15:03 (local time here)"
        )
      }
      guard parsed < Date() else {
        throw StepFailure(.failed, "target time \(JournalTime.display(parsed)) is in the future")
      }
      targetDate = parsed
    }
    let now = Date()
    let dataDir = try await DataDirectory.resolve(
      try dataDirectory.map { template throws(StepFailure) in try context.render(template) }, context: context)
    let sources = try await NASCatalog.load(
      context, roots: [root], spool: "\(nas.fallback)/wal-spool", dataDirectory: dataDir)
    let estimates = RestoreEstimates(sources)
    let free = sources.available.map { ByteSize(bytes: $0).description } ?? "unknown"
    var options: [ChoiceOption] = []
    var outputs: [String: [String: String]] = [:]
    var notOffered: [String] = []

    // The latest valid dump.
    let dumps = sources.daily(in: root)
    let serverAnswers = await Self.serverAnswers(context)
    if !serverAnswers {
      notOffered.append("a dump: PostgreSQL does not accept connections, and a logical restore needs a running server")
    } else if let (latest, manifest) = try await Self.newestIntactDump(dumps, context: context, notOffered: &notOffered)
    {
      let since = JournalTime.parse(manifest.startedAt) ?? now
      let window = "everything written after \(JournalTime.display(since)) (\(Self.ago(since, now)))"
      let estimate = estimates.logical(dumpBytes: latest.size)
      let needed = await Self.databaseSize(context)
      if let needed, let available = sources.available, needed > available {
        notOffered.append(
          "latest dump \(latest.name): the restored database needs about \(ByteSize(bytes: needed)) next to the damaged one, \(free) free"
        )
      } else {
        options.append(
          ChoiceOption(
            id: "dump",
            label:
              "\(latest.name == dumps.entries.first?.name ? "latest" : "older") dump \(latest.name): loses \(window); about \(DurationText.about(estimate.seconds)) (\(estimate.basis))"
          ))
        // A logical restore writes the whole database into WAL, which archive_command puts on the NAS.
        if let needed, let nasFree = sources.nasAvailable, needed + nas.minFree.bytes > nasFree {
          context.console.line(
            "    note — a logical restore archives about \(ByteSize(bytes: needed)) of WAL and the NAS has \(ByteSize(bytes: nasFree)) free (min_free \(nas.minFree)): what does not fit is spooled on the server's disk until nas-failure moves it"
          )
        }
        outputs["dump"] = [
          "method": "logical", "source": "\(root)/daily/\(latest.name)",
          "manifest": "\(root)/daily/\(DumpManifest.name(forDump: latest.name))",
          "base": "", "target_time": "", "timeline": "", "loss_since": manifest.startedAt, "loss_window": window,
          "estimate": DurationText.about(estimate.seconds),
        ]
      }
    } else {
      notOffered.append("a dump: no valid dump (with a manifest that matches its size and sha256) in \(root)/daily")
    }

    // Point in time, to the end of the archive and to the operator's target, each along the
    // timeline production was on at that time (after an earlier recovery the archive holds
    // several, and another timeline's segment of the same number is never replayed).
    for problem in sources.historyProblems {
      context.console.line("    note — a timeline history file cannot be read: \(problem)")
    }
    if serverAnswers, let archived = sources.archiveCluster, let database = context.environment.database,
      let running = await HealthCheck.systemIdentifier(database), running != archived
    {
      context.console.line(
        "    note — the WAL archive belongs to the cluster \(archived), this server runs the cluster \(running): point in time replaces it by the archive's cluster; a dump restore keeps \(running), whose WAL the archive refuses until it has one of its own (docs/nas.md, 'The archive knows its cluster')"
      )
    }
    let timelines = sources.timelines
    let current = timelines.timeline(at: now)
    if sources.bases.first != nil, sources.base(reaching: current) == nil, let newest = sources.bases.first {
      notOffered.append(
        "point-in-time from base \(newest.name): it is on timeline \(newest.timeline), which does not lead to timeline \(current), the one production is on"
      )
    }
    if let base = sources.base(reaching: current) {
      let chain = sources.chain(from: base, along: current)
      if let last = chain.last, let lastAt = sources.archivedAt(last) {
        let rate = estimates.pitr == nil ? await Self.decompressionRate(context, base: base) : nil
        let walBytes = sources.walBytes(chain)
        let estimate = estimates.pointInTime(baseBytes: base.bytes, walBytes: walBytes, decompressRate: rate)
        let needed = base.dataBytes + walBytes
        let window =
          chain.unbroken
          ? (serverLost
            ? "what was not archived: writes after about \(JournalTime.display(lastAt)) (\(Self.ago(lastAt, now))), the last archived WAL segment; the old server's unarchived WAL is gone with it"
            : "at most what was not archived yet: writes after about \(JournalTime.display(lastAt)) (\(Self.ago(lastAt, now))); less if PostgreSQL still runs (its current WAL is archived first) or the damaged copy's pg_wal holds the rest")
          : "everything after about \(JournalTime.display(lastAt)): WAL segment \(chain.firstMissing ?? "?") is missing, so \(chain.beyondGap) later segment(s) cannot be replayed"
        if let available = sources.available, needed > available {
          notOffered.append(
            "point-in-time from base \(base.name): needs about \(ByteSize(bytes: needed)) for the new data directory, \(free) free (the damaged one is kept)"
          )
        } else {
          options.append(
            ChoiceOption(
              id: "pitr-latest",
              label:
                "point in time, to the end of the archived WAL (base \(base.name) + \(walBytes >> 20) MiB of WAL, timeline \(current)): loses \(window); about \(DurationText.about(estimate.seconds)) (\(estimate.basis))"
            ))
          outputs["pitr-latest"] = [
            "method": "pitr", "source": base.path, "manifest": "", "base": base.path, "target_time": "",
            "timeline": String(current),
            "loss_since": JournalTime.format(lastAt), "loss_window": window,
            "estimate": DurationText.about(estimate.seconds),
          ]
        }
      } else {
        notOffered.append(
          "point-in-time from base \(base.name): its first WAL segment \(chain.firstMissing ?? base.startSegment) is not archived"
        )
      }
      // The archive forks after this base backup (an earlier recovery left the branch it
      // abandoned): each other branch is an option of its own, with its time range.
      for branch in timelines.branches(from: base.startSegment) where branch.timeline != current {
        guard let last = branch.chain.last, let lastAt = sources.archivedAt(last) else { continue }
        let range = [branch.firstArchived, branch.lastArchived].compactMap { $0.map(JournalTime.display) }.joined(
          separator: " to ")
        let walBytes = sources.walBytes(branch.chain)
        let estimate = estimates.pointInTime(baseBytes: base.bytes, walBytes: walBytes, decompressRate: nil)
        let id = "pitr-timeline-\(branch.timeline)"
        let window =
          "everything production wrote on timeline \(current) (the current one), and on timeline \(branch.timeline) after about \(JournalTime.display(lastAt))"
        options.append(
          ChoiceOption(
            id: id,
            label:
              "point in time, to the end of timeline \(branch.timeline), a branch an earlier recovery left (archived \(range); base \(base.name)): loses \(window); about \(DurationText.about(estimate.seconds))"
          ))
        outputs[id] = [
          "method": "pitr", "source": base.path, "manifest": "", "base": base.path, "target_time": "",
          "timeline": String(branch.timeline),
          "loss_since": JournalTime.format(lastAt), "loss_window": window,
          "estimate": DurationText.about(estimate.seconds),
        ]
      }
    }
    if let targetDate, !sources.bases.isEmpty {
      let targetTimeline = timelines.timeline(at: targetDate)
      if let targetBase = sources.base(reaching: targetTimeline, before: targetDate) {
        let chain = sources.chain(from: targetBase, along: targetTimeline)
        let lastAt = chain.last.flatMap(sources.archivedAt)
        if let lastAt, chain.unbroken || lastAt >= targetDate {
          let rate = estimates.pitr == nil ? await Self.decompressionRate(context, base: targetBase) : nil
          let walBytes = sources.walBytes(chain)
          let estimate = estimates.pointInTime(baseBytes: targetBase.bytes, walBytes: walBytes, decompressRate: rate)
          let window = "everything committed after \(JournalTime.display(targetDate)) (\(Self.ago(targetDate, now)))"
          let needed = targetBase.dataBytes + walBytes
          if let available = sources.available, needed > available {
            notOffered.append(
              "point-in-time to \(JournalTime.display(targetDate)): needs about \(ByteSize(bytes: needed)), \(free) free"
            )
          } else {
            options.append(
              ChoiceOption(
                id: "pitr-target",
                label:
                  "point in time, to \(JournalTime.display(targetDate)) (base \(targetBase.name), timeline \(targetTimeline): production's then): loses \(window); about \(DurationText.about(estimate.seconds)) (\(estimate.basis))"
              ))
            outputs["pitr-target"] = [
              "method": "pitr", "source": targetBase.path, "manifest": "", "base": targetBase.path,
              "target_time": TargetTime.postgres(targetDate), "timeline": String(targetTimeline),
              "loss_since": JournalTime.format(targetDate), "loss_window": window,
              "estimate": DurationText.about(estimate.seconds),
            ]
          }
        } else {
          notOffered.append(
            "point-in-time to \(JournalTime.display(targetDate)): the WAL from base \(targetBase.name) breaks before it (segment \(chain.firstMissing ?? targetBase.startSegment) is missing)"
          )
        }
      } else {
        notOffered.append(
          "point-in-time to \(JournalTime.display(targetDate)): no verified base backup finished before that time leads to timeline \(targetTimeline), the one production was on then"
        )
      }
    }
    if sources.bases.isEmpty {
      notOffered.append("point-in-time: no verified base backup in \(root)/base")
    }

    for line in notOffered { context.console.line("    not offered — \(line)") }
    guard !options.isEmpty else {
      throw StepFailure(.failed, "no restore point can be offered:\n  " + notOffered.joined(separator: "\n  "))
    }
    if options.count == 1 { options[0].label += " (the only option)" }
    let answer = try await context.ask(
      Question(
        id: "choose.\(context.step.id)",
        text: "Which restore point? Each option says what it loses.", kind: .choice(options)))
    guard var chosen = outputs[answer.value] else {
      throw StepFailure(.failed, "'\(answer.value)' is not one of the options offered")
    }
    chosen["choice"] = answer.value
    chosen["data_directory"] = dataDir
    context.console.line("    chosen: \(answer.value) — loses \(chosen["loss_window"] ?? "")")
    return StepResult(outputs: chosen)
  }
}
