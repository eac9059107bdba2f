import Foundation
import SwitchboardCore

/// A request a CRM sends to Switchboard (an installation, an event, a click in its interface), as connectors see it:
/// no web framework type crosses the seam (decision 0006, step 9).
public struct InboundRequest: Sendable {
    public var method: String
    /// The endpoint's path parameters by name (`:tenant`, `:credential`, `:key`, …).
    public var params: [String: String]
    public var query: [String: String]
    /// Header names in lower case.
    public var headers: [String: String]
    public var body: [UInt8]

    public init(method: String, params: [String: String], query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = []) {
        self.method = method
        self.params = params
        self.query = query
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body's fields, form-encoded or a flat JSON object (nested form keys stay as they came: `data[CALL_ID]`).
    public var fields: [String: String] {
        if headers["content-type"]?.contains("json") == true,
           let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] {
            return object.compactMapValues { v in (v as? String) ?? (v as? NSNumber).map { "\($0)" } }
        }
        return FormURLEncoding.decode(text)
    }
}

/// What Switchboard answers the CRM.
public struct InboundResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: String

    public init(status: Int, contentType: String = "application/json", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    public static func json(_ object: [String: Any], status: Int = 200) -> InboundResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return InboundResponse(status: status, body: String(decoding: data, as: UTF8.self))
    }

    /// A refusal with its reason, in the shape of the management API's errors.
    public static func refused(_ status: Int, _ reason: String) -> InboundResponse {
        json(["error": ["status": status, "message": reason]], status: status)
    }
}

/// One address a CRM calls: `path` is relative to the server's root, with `:name` parameters. The handler checks the
/// caller itself (a key in the path, a token the CRM signs its events with) before it acts.
public struct InboundEndpoint: Sendable {
    public var method: String
    public var path: String
    public var handle: @Sendable (InboundRequest, HostServices) async throws -> InboundResponse

    public init(method: String = "POST", path: String,
                handle: @escaping @Sendable (InboundRequest, HostServices) async throws -> InboundResponse) {
        self.method = method
        self.path = path
        self.handle = handle
    }
}

/// What the host does for a connector's inbound endpoints: the side effects that belong to the application, not to a
/// CRM. Built by the server; tests build their own.
public struct HostServices: Sendable {
    /// CORE-12: the PBX calls the employee, then the client; the PBX's call id when it gave one. Throws a
    /// `ClickToCallRefusal` a CRM can show.
    public var clickToCall: @Sendable (_ integration: Integration, _ employeeId: String, _ phone: String) async throws -> String?
    /// Forgets the cached personal managers of an integration on every instance.
    public var forgetRouting: @Sendable (_ integrationId: String) async -> Void
    /// Runs after an integration's CRM became reachable (an installation finished): what saving it would do.
    public var integrationSaved: @Sendable (Integration) async -> Void
    /// Do-not-disturb for an employee, sent to the PBX where its protocol can; throws a `ClickToCallRefusal` a CRM can
    /// show where it cannot.
    public var setDND: @Sendable (_ integration: Integration, _ employeeId: String, _ on: Bool) async throws -> Void = { _, _, _ in
        throw ClickToCallRefusal("this installation sends no do-not-disturb to the PBX")
    }
    /// Ends a call (Switchboard's call id) at the PBX; throws a `ClickToCallRefusal` where the PBX's API cannot.
    public var hangUp: @Sendable (_ integration: Integration, _ callId: String) async throws -> Void = { _, _ in
        throw ClickToCallRefusal("this installation sends no hang-up to the PBX")
    }

    /// CORE-16: the CRM says these deals (its ids) of an integration were created or changed; the host queues
    /// their import (`DealJobs`).
    public var dealsChanged: @Sendable (_ integration: Integration, _ dealIds: [String]) async throws -> Void = { _, _ in
        throw ClickToCallRefusal("this installation imports no deals")
    }

    public init(clickToCall: @escaping @Sendable (Integration, String, String) async throws -> String?,
                forgetRouting: @escaping @Sendable (String) async -> Void,
                integrationSaved: @escaping @Sendable (Integration) async -> Void) {
        self.clickToCall = clickToCall
        self.forgetRouting = forgetRouting
        self.integrationSaved = integrationSaved
    }
}

/// Why a click-to-call was not placed, in words a CRM user can read.
public struct ClickToCallRefusal: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A CRM user as the employee mapping lists them (CORE-3).
public struct CRMUserSummary: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var email: String?
    /// The user's inner phone number in the CRM, when it keeps one.
    public var extension_: String?
    public var active: Bool

    enum CodingKeys: String, CodingKey { case id, name, email, extension_ = "extension", active }

    public init(id: String, name: String, email: String? = nil, extension_: String? = nil, active: Bool = true) {
        self.id = id
        self.name = name
        self.email = email
        self.extension_ = extension_
        self.active = active
    }
}
