import Foundation
import SwitchboardCore
import SwitchboardOutbound
import SwitchboardStorage

/// Everything one PBX protocol brings: its name, its endpoints under `/pbx/`, how long a finished call waits for the
/// final record, and its command client. The web layer registers the endpoints of every adapter the registry lists and
/// does the generic part (connection lookup, storing events, routing, the answer when storage is busy); the adapter
/// only reads requests and writes answers, and never sees the web framework.
public struct PBXAdapter: Sendable {
    public let id: PBXProtocol
    /// How the cabinet names the protocol.
    public var title: String
    public var titleRU: String
    /// The endpoints a PBX of this protocol calls; the first is the one a tenant pastes into the PBX.
    public var endpoints: [PBXEndpoint]
    /// How long a finished call waits for the PBX's final record before its CRM actions run anyway.
    public var finalGrace: TimeInterval
    /// Refuses a request for a connection that does not exist or speaks another protocol.
    public var unknownConnection: PBXRefusal
    /// The command client of a connection with an API address and key; nil when the protocol takes no commands.
    public var commands: (@Sendable (_ connection: PBXConnection, _ apiURL: String, _ key: String, OutboundHTTP) -> any PBXCommands)?
    /// How a call is routed to the caller's personal manager: in the answer to the PBX's question, or by a command sent
    /// after the PBX reported the call (a callback API).
    public var routing: RoutingStyle = .inResponse
    /// For a protocol Switchboard reads from instead of one that posts to it (a TCP session to the PBX): the host keeps
    /// one session per connection of this protocol and restarts it when it ends.
    public var pull: PBXPull? = nil

    public init(id: PBXProtocol, title: String, titleRU: String, endpoints: [PBXEndpoint], finalGrace: TimeInterval,
                unknownConnection: PBXRefusal,
                commands: (@Sendable (PBXConnection, String, String, OutboundHTTP) -> any PBXCommands)? = nil) {
        self.id = id
        self.title = title
        self.titleRU = titleRU
        self.endpoints = endpoints
        self.finalGrace = finalGrace
        self.unknownConnection = unknownConnection
        self.commands = commands
    }

    /// The path a tenant pastes into the PBX for a connection, without the base URL: `pbx/<endpoint>` with its id.
    public func webhookPath(connectionId: String) -> String {
        "pbx/" + (endpoints.first?.path ?? ":id").replacingOccurrences(of: ":id", with: connectionId)
    }
}

/// One pushed endpoint: `POST /pbx/<path>`, where the path holds the connection's `:id`.
public struct PBXEndpoint: Sendable {
    public var path: String
    /// The largest body read.
    public var bodyLimit: Int
    /// Reads a request of a known connection, checked against its secret, into events or a routing question.
    public var decode: @Sendable (InboundRequest, _ secret: String) throws(PBXRefusal) -> PBXInbound
    /// Writes an answer in the protocol's own shape.
    public var encode: @Sendable (PBXAnswer) -> InboundResponse

    public init(path: String, bodyLimit: Int,
                decode: @escaping @Sendable (InboundRequest, String) throws(PBXRefusal) -> PBXInbound,
                encode: @escaping @Sendable (PBXAnswer) -> InboundResponse) {
        self.path = path
        self.bodyLimit = bodyLimit
        self.decode = decode
        self.encode = encode
    }
}

/// An inbound request as an adapter sees it.
public struct InboundRequest: Sendable {
    public var body: [UInt8]
    /// A header's value by name, as the web layer reads it.
    public var header: @Sendable (String) -> String?
    public var receivedAt: Date

    public init(body: [UInt8], header: @escaping @Sendable (String) -> String?, receivedAt: Date = Date()) {
        self.body = body
        self.header = header
        self.receivedAt = receivedAt
    }
}

/// An answer as an adapter writes it: a status and a JSON body.
public struct InboundResponse: Sendable, Equatable {
    public var status: Int
    public var json: [UInt8]

    public init(status: Int = 200, json: [UInt8]) {
        self.status = status
        self.json = json
    }

    /// A value encoded as Switchboard encodes every JSON answer.
    public static func json<T: Encodable>(_ value: T, status: Int = 200) -> InboundResponse {
        InboundResponse(status: status, json: Array((try? JSON.encoder.encode(value)) ?? Data("null".utf8)))
    }

    /// A value that writes its own JSON (an answer sent on every event), without the encoder.
    public static func json<T: JSONWritable>(_ value: T, status: Int = 200) -> InboundResponse {
        var json = JSONWriter(capacity: 128)
        value.write(to: &json)
        return InboundResponse(status: status, json: json.bytes)
    }
}

/// Why a request is refused: the status and the reason the PBX's integrator reads.
public struct PBXRefusal: Error, Equatable, Sendable {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }
}

/// What a request asks for.
public enum PBXInbound: Sendable {
    /// Events to store durably before the answer; `raw` is kept with them (secrets left out).
    case events([CallEvent], raw: String)
    /// Who should take a call from this number; `askedMs` is the deadline the PBX asked for, if any.
    case routing(client: String, askedMs: Int?)
    /// Events to store, answered at once, and a call to route afterwards by the connection's `route` command (a
    /// protocol whose routing is `.byCommand`).
    case eventsAndRouting([CallEvent], raw: String, question: RoutingQuestion)
}

/// A call the PBX wants routed by command: the caller's number and the PBX's own reference of the call.
public struct RoutingQuestion: Sendable, Equatable {
    public var client: String
    public var callRef: String
    /// The deadline the PBX asked for, if any.
    public var askedMs: Int?

    public init(client: String, callRef: String, askedMs: Int? = nil) {
        self.client = client
        self.callRef = callRef
        self.askedMs = askedMs
    }
}

/// How a protocol routes a call to the caller's personal manager.
public enum RoutingStyle: Sendable, Equatable {
    /// The PBX asks and waits: the answer names the employee.
    case inResponse
    /// The PBX reports the call and takes a `route` command within `budget` (a callback API).
    case byCommand(budget: Duration)
}

/// A protocol that Switchboard reads from: `run` keeps one session with the PBX for a connection (a TCP client), hands
/// what it reads to the sink, and returns or throws when the session ends; the host runs it again after a pause.
public struct PBXPull: Sendable {
    public var run: @Sendable (_ connection: PBXConnection, _ secret: String, _ sink: PBXPullSink) async throws -> Void

    public init(run: @escaping @Sendable (PBXConnection, String, PBXPullSink) async throws -> Void) { self.run = run }
}

/// What a pulled session gives its events to: the same storage and routing as a pushed request's.
public struct PBXPullSink: Sendable {
    /// Stores events durably, as a pushed request's are stored before its answer; throws when they could not be stored
    /// (the session reads them again or asks the PBX to resend).
    public var ingest: @Sendable (_ events: [CallEvent], _ raw: String) async throws -> [IngestOutcome]
    /// Who should take a call from this number, within the connection's routing deadline.
    public var route: @Sendable (_ client: String) async -> RoutingDecision

    public init(ingest: @escaping @Sendable ([CallEvent], String) async throws -> [IngestOutcome],
                route: @escaping @Sendable (String) async -> RoutingDecision) {
        self.ingest = ingest
        self.route = route
    }
}

/// What the generic part answers, for the adapter to write.
public enum PBXAnswer: Sendable {
    case stored([IngestOutcome])
    case routed(RoutingDecision)
    case refused(PBXRefusal)
    /// Nothing was stored (overload or a storage failure); the PBX is asked to send again later.
    case busy(message: String)
}
