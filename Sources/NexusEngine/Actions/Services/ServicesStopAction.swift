import Foundation
import NexusCore
import NexusTransport

/// `services.stop` and `services.start`: the environment's nexus services (the
/// inventory's `services`) through systemctl on the host, each checked with
/// `systemctl is-active` afterwards.
public struct ServicesStopAction: ServicesVerbAction {
  public static let name = "services.stop"
  static let verb = "stop"
  public var services: [String]?
  public init(services: [String]?) { self.services = services }
}
