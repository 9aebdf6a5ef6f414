import NexusCore
import NexusTransport

/// What every action type provides. Adding an action is one file in its namespace's
/// folder under Actions/ with a type conforming to this protocol, plus one line in ``ActionRegistry/types``.
public protocol StepAction: Sendable {
  /// The name runbooks use after `action:`.
  static var name: String { get }
  /// The keys its `with:` mapping accepts, as an enum; anything else is a load error.
  associatedtype Parameter: ParameterKey = NoParameters
  /// Whether a step with this action names a host.
  static var hostUse: HostUse { get }
  /// Running it twice is harmless (asking a question again, a read-only check).
  static var naturallyIdempotent: Bool { get }

  /// Decodes the step's `with:` mapping (empty when the step has none).
  init(with parameters: StepParameters<Parameter>, context: StepDecodingContext) throws(ConfigError)

  /// The output keys later steps may reference; nil when only known at run time.
  var declaredOutputs: Set<String>? { get }

  /// What `plan` prints for it: the exact commands, or what the operator will be asked.
  func plan(_ context: PlanContext) -> [String]

  /// Does the work.
  func run(_ context: StepContext) async throws(StepFailure) -> StepResult

  /// What `plan --probe` adds by looking at the hosts, read-only (e.g. which files rotation would remove).
  func probe(_ context: StepContext) async throws(StepFailure) -> [String]
}

extension StepAction {
  /// The keys its `with:` mapping accepts, from ``Parameter``.
  public static var parameterKeys: [String] { Parameter.allCases.map(\.rawValue) }

  /// Decodes a step's `with:` mapping, already checked against ``parameterKeys``.
  static func decode(_ fields: YAMLFields, context: StepDecodingContext) throws(ConfigError) -> Self {
    try Self(with: StepParameters(fields), context: context)
  }

  public func probe(_ context: StepContext) async throws(StepFailure) -> [String] { [] }
}

public enum HostUse: Sendable {
  case required
  case forbidden
  case optional
}

/// The actions a runbook can use. The set is closed: a name not here is a load error.
public enum ActionRegistry {
  public static let types: [any StepAction.Type] = [
    ShellAction.self,
    ManualAction.self,
    ConfirmAction.self,
    ChooseAction.self,
    CheckAction.self,
    NASCheckAction.self,
    BackupDumpAction.self,
    BackupSizeCheckAction.self,
    BackupRotateAction.self,
    BackupBaseAction.self,
    WALStatusAction.self,
    WALPruneAction.self,
    FilesMirrorAction.self,
    BackupClarityAction.self,
    ConfigSnapshotAction.self,
    RestoreTestAction.self,
    RestoreChooseAction.self,
    ServicesStopAction.self,
    ServicesStartAction.self,
    ServicesSyncResumesAction.self,
    PGSetAsideAction.self,
    PGRestoreAction.self,
    PGPITRAction.self,
    NASCopyBackAction.self,
    GateReplacementAction.self,
    WGInstallAction.self,
    NetTakeAddressAction.self,
    WGUpAction.self,
    WGHandshakesAction.self,
    HostVerifyAction.self,
    ConfigRestoreAction.self,
    SecretsRestoreAction.self,
    WGPeerUpdateAction.self,
    PGVerifyAction.self,
  ]

  public static func type(named name: String) -> (any StepAction.Type)? {
    types.first { $0.name == name }
  }

  public static var names: [String] { types.map { $0.name } }
}

/// What a step produced.
public struct StepResult: Sendable {
  public var outputs: [String: String]
  public var exitStatus: Int32?
  public var command: String?
  public var bytes: Int64?

  public init(outputs: [String: String] = [:], exitStatus: Int32? = nil, command: String? = nil, bytes: Int64? = nil) {
    self.outputs = outputs
    self.exitStatus = exitStatus
    self.command = command
    self.bytes = bytes
  }
}

/// Why a step did not complete.
public struct StepFailure: Error, Sendable, CustomStringConvertible {
  public enum Kind: String, Sendable, Codable {
    /// The work failed; the run stops (resumable) unless `on_failure: continue`.
    case failed
    /// The command was ended by its timeout, or the connection broke while it ran:
    /// whether it took effect is unknown, so it is retried or re-run only if it is
    /// safe to run twice, and `resume` asks otherwise.
    case uncertain
    /// The operator said no.
    case declined
    /// A question had no answer (no terminal, nothing in --answers).
    case unanswered
    /// Ctrl-C or SIGTERM.
    case interrupted
  }

  public var kind: Kind
  public var message: String
  public var exitStatus: Int32?

  public init(_ kind: Kind, _ message: String, exitStatus: Int32? = nil) {
    self.kind = kind
    self.message = Redactor.redact(message)
    self.exitStatus = exitStatus
  }

  public var description: String { message }

  /// Maps a transport error: an interrupt stays an interrupt; a timeout or a lost
  /// connection leaves the outcome unknown; everything else is a failure.
  public static func from(_ error: TransportError) -> StepFailure {
    let kind: Kind
    switch error.code {
    case .interrupted: kind = .interrupted
    case .timeout, .connectionLost: kind = .uncertain
    default: kind = .failed
    }
    return StepFailure(
      kind, error.description,
      exitStatus: error.termination.flatMap { if case .exited(let code) = $0 { code } else { nil } })
  }
}
