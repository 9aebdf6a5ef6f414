import NexusCore

/// A runbook: checks that must pass first, then steps in order. Loaded from YAML
/// by ``RunbookLoader``, which rejects anything it does not understand.
public struct Runbook: Sendable {
  public var id: String
  public var title: String
  public var description: String?
  /// The file it was read from.
  public var file: String
  /// The file's text, kept so that `resume` can show what changed.
  public var content: String
  /// SHA-256 of the file's bytes; `resume` refuses a runbook whose hash changed.
  public var contentHash: String
  public var inputs: [InputSpec]
  public var preflight: [Check]
  public var steps: [Step]

  public func step(_ id: String) -> Step? { steps.first { $0.id == id } }
}

/// A value the operator passes with `--input NAME=VALUE`.
public struct InputSpec: Sendable, Hashable {
  public var name: String
  public var description: String?
  /// Used when the operator gives none; without a default the input is required.
  public var defaultValue: String?
}

/// One typed action on one host.
public struct Step: Sendable {
  public var id: String
  public var title: String
  /// The host role it runs on, when the action runs commands.
  public var host: String?
  public var action: Action
  public var timeout: Duration?
  public var retries: RetryPolicy
  /// Asks before it runs (the operator types the environment's name in production).
  public var destructive: Bool
  /// Safe to run twice: `resume` re-runs it without asking when it was interrupted.
  public var idempotent: Bool
  public var when: Condition?
  public var onFailure: FailurePolicy
  /// Where it is in the file, for messages.
  public var line: Int
}

public struct RetryPolicy: Sendable, Hashable {
  /// Additional attempts after the first.
  public var count: Int
  public var backoff: Duration

  public init(count: Int, backoff: Duration) {
    self.count = count
    self.backoff = backoff
  }

  public static let none = RetryPolicy(count: 0, backoff: .seconds(0))
}

public enum FailurePolicy: Sendable, Hashable {
  case stop
  /// Go on with the next step, journaling the failure and this reason.
  case `continue`(reason: String)
}

/// A step's action: its name and its typed parameters.
///
/// The set of actions is closed: only the types listed in ``ActionRegistry``
/// decode, each with its own parameter struct.
public struct Action: Sendable {
  public var name: String
  public var definition: any StepAction
}
