import AsyncHTTPClient
import Foundation
import NIOCore
import SwitchboardCore
import SwitchboardOutbound

/// An employee as the PBX lists them.
public struct PBXAccount: Codable, Sendable, Equatable {
    public var login: String
    public var name: String?
    public var `extension`: String?
    public var email: String?
    public var directNumber: String?

    public init(login: String, name: String? = nil, extension: String? = nil, email: String? = nil, directNumber: String? = nil) {
        self.login = login
        self.name = name
        self.extension = `extension`
        self.email = email
        self.directNumber = directNumber
    }
}

/// One line of the PBX's call history (for reconciliation).
public struct PBXHistoryRecord: Codable, Sendable, Equatable {
    public var callId: String
    public var type: String
    public var client: String
    public var account: String?
    public var via: String?
    public var start: String
    public var wait: Int?
    public var duration: Int?
    public var record: String?
}

/// Why a PBX command failed, with the PBX's status when it answered one.
public struct PBXCommandError: Error, CustomStringConvertible, Sendable, TenantReadable {
    /// Why, in the tenant's words (the PBX's own text, when it gave one, is carried as it is).
    public enum Reason: Sendable, Equatable, PhraseCatalog {
        case unsupported(String)
        case addressRefused(OutboundPolicy.Problem)
        case unreachable(command: String, error: String)
        case refused(command: String, status: Int, detail: String)
        case notJSON(command: String)
        case notJSONArray(command: String)
        case noItems(command: String)
        /// A test's stand-in was called where no PBX may be.
        case stray(command: String)

        public var phrase: Phrase {
            let (code, en, ru): (String, String, String) = switch self {
            case .unsupported(let what):
                ("unsupported", "\(what) is not supported by this PBX's API", "\(what): не поддерживается API этой АТС")
            case .addressRefused(let problem):
                ("addressRefused", "PBX API address refused: \(problem.phrase.en)", "адрес API АТС отклонён: \(problem.phrase.ru)")
            case .unreachable(let command, let error):
                ("unreachable", "PBX unreachable (\(command)): \(error)", "АТС недоступна (\(command)): \(error)")
            case .refused(let command, let status, let detail):
                ("refused", "PBX refused \(command): HTTP \(status) \(detail)", "АТС отказала (\(command)): HTTP \(status) \(detail)")
            case .notJSON(let command):
                ("notJSON", "\(command) answered something that is not JSON", "\(command): АТС ответила не в JSON")
            case .notJSONArray(let command):
                ("notJSONArray", "\(command) answered something that is not a JSON array", "\(command): АТС ответила не списком JSON")
            case .noItems(let command):
                ("noItems", "\(command) answered something without items", "\(command): в ответе АТС нет списка items")
            case .stray(let command):
                ("stray", "no PBX may be called here, yet \(command) was sent", "здесь АТС вызывать нельзя, но отправлено: \(command)")
            }
            return Phrase(code: "pbx.command." + code, en: en, ru: ru)
        }

        public static var samples: [Reason] {
            [.unsupported("hang-up"), .addressRefused(.unresolved("h")), .unreachable(command: "c", error: "e"),
             .refused(command: "c", status: 500, detail: "d"), .notJSON(command: "c"), .notJSONArray(command: "c"),
             .noItems(command: "c"), .stray(command: "c")]
        }
    }

    public let reason: Reason
    public let status: Int?
    /// Whether trying again later may help (network, 5xx).
    public let retryable: Bool

    public init(_ reason: Reason, status: Int? = nil, retryable: Bool) {
        self.reason = reason
        self.status = status
        self.retryable = retryable
    }

    public var phrase: Phrase { reason.phrase }
    public var message: String { phrase.en }
    public var description: String { message }

    public static func unsupported(_ what: String) -> PBXCommandError {
        PBXCommandError(.unsupported(what), retryable: false)
    }
}

extension OutboundHTTP {
    /// Sends one PBX command's request and reads the answer, as every protocol's command client does: an address the
    /// outbound policy refuses fails for good, a request that got no answer may be tried again.
    public func pbxCommand(_ request: HTTPClientRequest, command: String, timeout: TimeAmount) async throws -> (status: Int, body: [UInt8]) {
        let response: HTTPClientResponse
        do {
            response = try await execute(request, timeout: timeout)
        } catch let refused as OutboundPolicy.Problem {
            throw PBXCommandError(.addressRefused(refused), retryable: false)
        } catch {
            throw PBXCommandError(.unreachable(command: command, error: "\(error)"), retryable: true)
        }
        var buffer = try await response.body.collect(upTo: 4 << 20)
        return (Int(response.status.code), buffer.readBytes(length: buffer.readableBytes) ?? [])
    }
}

/// Commands Switchboard sends to a PBX.
public protocol PBXCommands: Sendable {
    /// Click-to-call: the PBX rings the employee first, then the client. Returns the PBX's call id if it gives one.
    func originate(employeeLogin: String, clientNumber: PhoneNumber, callerId: String?) async throws -> String?
    /// Ends a call.
    func hangup(callId: String) async throws
    func setDND(employeeLogin: String, on: Bool) async throws
    func getDND(employeeLogin: String) async throws -> Bool
    /// The PBX's employees.
    func accounts() async throws -> [PBXAccount]
    /// Puts the employee in or out of their groups' (queues') calls.
    func subscribeOnCalls(employeeLogin: String, on: Bool, groupId: String?) async throws
    func history(from: Date, to: Date, type: String) async throws -> [PBXHistoryRecord]
    /// Sends a call the PBX reported to an employee (protocols whose routing is `.byCommand`).
    func route(callRef: String, toEmployee login: String) async throws
}

extension PBXCommands {
    public func route(callRef: String, toEmployee login: String) async throws {
        throw PBXCommandError.unsupported("routing a call by command")
    }
}

/// For tests that must not reach a PBX: every command is reported through `report` (a test records it as a failure)
/// and fails, so a stray command cannot pass unnoticed. Give a test double for the commands a test expects instead.
public struct FailingPBXCommands: PBXCommands {
    let report: @Sendable (String) -> Void

    public init(report: @escaping @Sendable (String) -> Void) { self.report = report }

    func fail<T>(_ command: String) throws -> T {
        report("unexpected PBX command: " + command)
        throw PBXCommandError(.stray(command: command), retryable: false)
    }

    public func originate(employeeLogin: String, clientNumber: PhoneNumber, callerId: String?) async throws -> String? {
        try fail("originate \(employeeLogin) → \(clientNumber.e164 ?? clientNumber.raw)")
    }
    public func hangup(callId: String) async throws { try fail("hangup \(callId)") as Void }
    public func setDND(employeeLogin: String, on: Bool) async throws { try fail("setDND \(employeeLogin) \(on)") as Void }
    public func getDND(employeeLogin: String) async throws -> Bool { try fail("getDND \(employeeLogin)") }
    public func accounts() async throws -> [PBXAccount] { try fail("accounts") }
    public func subscribeOnCalls(employeeLogin: String, on: Bool, groupId: String?) async throws {
        try fail("subscribeOnCalls \(employeeLogin) \(on)") as Void
    }
    public func history(from: Date, to: Date, type: String) async throws -> [PBXHistoryRecord] { try fail("history") }
    public func route(callRef: String, toEmployee login: String) async throws { try fail("route \(callRef) → \(login)") as Void }
}
