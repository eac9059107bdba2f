import Foundation
import SwitchboardCore
import SwitchboardDelivery

/// amoCRM reads Switchboard needs, over `AmoClient`.
public struct AmoAPI: Sendable {
    public let client: AmoClient

    public init(client: AmoClient) { self.client = client }

    public struct Contact: Sendable, Equatable {
        public var id: Int
        public var name: String
        public var responsibleUserId: Int
        public var leadIds: [Int]
    }

    /// The oldest contact whose PHONE field matches the last 10 digits; amoCRM's `query` searches every field,
    /// so each hit is checked (api-notes A3.7).
    public func contact(byPhone phone: PhoneNumber) async throws -> Contact? {
        guard let key = phone.last10 else { return nil }
        let answer = try await client.call(.GET, "/api/v4/contacts?query=\(key)&with=leads", what: .findContact)
        guard answer.status != 204, let json = answer.json as? [String: Any],
              let list = (json["_embedded"] as? [String: Any])?["contacts"] as? [[String: Any]] else { return nil }
        let matching = list.filter { c in
            let fields = c["custom_fields_values"] as? [[String: Any]] ?? []
            return fields.contains { f in
                (f["field_code"] as? String) == "PHONE" &&
                    (f["values"] as? [[String: Any]] ?? []).contains { PhoneNumber.parse("\($0["value"] ?? "")").last10 == key }
            }
        }.sorted { ($0["id"] as? Int ?? 0) < ($1["id"] as? Int ?? 0) }
        guard let c = matching.first, let id = c["id"] as? Int else { return nil }
        let leads = ((c["_embedded"] as? [String: Any])?["leads"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? Int }
        return Contact(id: id, name: c["name"] as? String ?? "", responsibleUserId: c["responsible_user_id"] as? Int ?? 0,
                       leadIds: leads)
    }

    /// The first of `ids` still open (not won 142, not lost 143).
    public func openLead(among ids: [Int]) async throws -> Int? {
        guard !ids.isEmpty else { return nil }
        let query = ids.prefix(50).map { "filter%5Bid%5D%5B%5D=\($0)" }.joined(separator: "&")
        let answer = try await client.call(.GET, "/api/v4/leads?\(query)", what: .readContactDeals)
        guard answer.status != 204, let json = answer.json as? [String: Any],
              let leads = (json["_embedded"] as? [String: Any])?["leads"] as? [[String: Any]] else { return nil }
        return leads.filter { ![142, 143].contains($0["status_id"] as? Int ?? 0) }
            .compactMap { $0["id"] as? Int }.sorted().last
    }

    public struct User: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var email: String?
    }

    public func users() async throws -> [User] {
        let answer = try await client.call(.GET, "/api/v4/users?limit=250", what: .listUsers)
        let list = ((answer.json as? [String: Any])?["_embedded"] as? [String: Any])?["users"] as? [[String: Any]] ?? []
        return list.compactMap { u in
            (u["id"] as? Int).map { User(id: $0, name: u["name"] as? String ?? "", email: u["email"] as? String) }
        }
    }

    public struct Pipeline: Codable, Sendable, Equatable {
        public struct Status: Codable, Sendable, Equatable {
            public var id: Int
            public var name: String
            /// 1 = the Unsorted stage.
            public var type: Int
        }
        public var id: Int
        public var name: String
        public var isMain: Bool
        public var statuses: [Status]
    }

    public func pipelines() async throws -> [Pipeline] {
        let answer = try await client.call(.GET, "/api/v4/leads/pipelines", what: .listPipelines)
        let list = ((answer.json as? [String: Any])?["_embedded"] as? [String: Any])?["pipelines"] as? [[String: Any]] ?? []
        return list.compactMap { p in
            guard let id = p["id"] as? Int else { return nil }
            let statuses = ((p["_embedded"] as? [String: Any])?["statuses"] as? [[String: Any]] ?? []).compactMap { s -> Pipeline.Status? in
                (s["id"] as? Int).map { Pipeline.Status(id: $0, name: s["name"] as? String ?? "", type: s["type"] as? Int ?? 0) }
            }
            return Pipeline(id: id, name: p["name"] as? String ?? "", isMain: p["is_main"] as? Bool ?? false, statuses: statuses)
        }
    }

    public struct Account: Codable, Sendable, Equatable {
        public var id: Int
        public var name: String
        public var subdomain: String
    }

    public func account() async throws -> Account {
        let answer = try await client.call(.GET, "/api/v4/account", what: .readAccount)
        let j = answer.json as? [String: Any] ?? [:]
        return Account(id: j["id"] as? Int ?? 0, name: j["name"] as? String ?? "", subdomain: j["subdomain"] as? String ?? "")
    }
}
