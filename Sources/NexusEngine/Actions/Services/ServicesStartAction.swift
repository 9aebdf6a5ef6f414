import Foundation
import NexusCore
import NexusTransport

public struct ServicesStartAction: ServicesVerbAction {
  public static let name = "services.start"
  static let verb = "start"
  public var services: [String]?
  public init(services: [String]?) { self.services = services }
}
