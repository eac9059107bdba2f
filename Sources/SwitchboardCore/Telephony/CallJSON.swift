import Foundation

// The call and its event are written on every PBX event: by hand, the same JSON as the encoder's (members sorted by
// their UTF-8 bytes, nil members left out). `JSONWriterTests` compares both on random calls and events.

extension PhoneNumber: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("e164", e164)
            j.key("raw"); j.string(raw)
        }
    }
}

extension Leg: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("answeredAt", answeredAt)
            j.member("employeeLogin", employeeLogin)
            j.member("endReason", endReason)
            j.member("endedAt", endedAt)
            j.member("extension", extension_)
            j.member("group", group)
            j.key("id"); j.string(id)
            j.member("segment", segment)
            j.key("startedAt"); j.date(startedAt)
            j.key("state"); j.string(state.rawValue)
        }
    }
}

extension CallFinal: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("durationSec", durationSec)
            j.member("employeeLogin", employeeLogin)
            j.key("result"); j.string(result.rawValue)
            j.member("startedAt", startedAt)
            j.key("status"); j.string(status)
            j.member("waitSec", waitSec)
        }
    }
}

extension Call: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("answeredAt", answeredAt)
            j.member("client", client)
            j.key("createdAt"); j.date(createdAt)
            j.key("direction"); j.string(direction.rawValue)
            j.member("endedAt", endedAt)
            j.member("externalIds", strings: externalIds)
            j.member("final", final)
            j.key("id"); j.string(id)
            j.key("legs"); j.array(legs) { $0.value($1) }
            j.member("lineNumber", lineNumber)
            j.key("origin"); j.string(origin)
            j.key("pbxConnectionId"); j.string(pbxConnectionId)
            j.member("rating", rating)
            j.member("recordingURL", recordingURL)
            j.key("state"); j.string(state.rawValue)
            j.member("talkers", strings: talkers)
            j.key("tenantId"); j.string(tenantId)
            j.key("transferPending"); j.bool(transferPending)
            j.key("transfers"); j.array(transfers) { j, pair in j.array(pair) { $0.string($1) } }
        }
    }
}

extension CallEvent: JSONWritable {
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("clientNumberRaw", clientNumberRaw)
            j.member("direction", direction?.rawValue)
            j.member("employeeLogin", employeeLogin)
            j.member("extension", extension_)
            j.key("externalCallId"); j.string(externalCallId)
            j.member("final", final)
            j.member("group", group)
            j.key("key"); j.string(key)
            j.key("kind"); j.string(kind.rawValue)
            j.member("lineNumber", lineNumber)
            j.key("occurredAt"); j.date(occurredAt)
            j.key("occurredAtIsProviderTime"); j.bool(occurredAtIsProviderTime)
            j.key("providerType"); j.string(providerType)
            j.member("rating", rating)
            j.member("recordingURL", recordingURL)
            j.member("relatedExternalId", relatedExternalId)
            j.member("sequence", sequence)
        }
    }
}
