import NexusCore

/// The two hosts a config snapshot holds a part for: `config/<time>/server/` and `…/gate/`.
public enum ConfigPart: String, CaseIterable, Sendable {
  case server
  case gate

  /// The inventory's config paths for this part.
  func paths(_ config: ConfigPaths) -> [String] {
    switch self {
    case .server: config.server
    case .gate: config.gate
    }
  }
}
