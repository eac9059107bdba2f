import Foundation
import NIOCore
import NIOPosix

/// A bare TCP connection to a test server, for tests that speak HTTP byte by byte (slow clients, kept-alive
/// connections, many connections from one address).
final class RawConnection: @unchecked Sendable {
    final class Inbox: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        var received: String { lock.withLock { text } }
        func append(_ s: String) { lock.withLock { text += s } }
        func take() -> String { lock.withLock { defer { text = "" }; return text } }
    }

    final class Reader: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        let inbox: Inbox
        init(inbox: Inbox) { self.inbox = inbox }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            inbox.append(String(buffer: unwrapInboundIn(data)))
        }
    }

    let channel: any Channel
    let inbox: Inbox

    private init(channel: any Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    /// Connects to `127.0.0.1:port`, from `localAddress` (another loopback address stands for another client).
    static func open(port: Int, from localAddress: String = "127.0.0.1") async throws -> RawConnection {
        let inbox = Inbox()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Reader(inbox: inbox)) }
            }
            .bind(to: try SocketAddress(ipAddress: localAddress, port: 0))
            .connect(host: "127.0.0.1", port: port)
            .get()
        return RawConnection(channel: channel, inbox: inbox)
    }

    var isClosed: Bool { !channel.isActive }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Sends a GET on this (kept-alive) connection and returns the response's head and body as text.
    func get(_ path: String, timeout: Duration = .seconds(20)) async throws -> String {
        _ = inbox.take()
        try await send("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n")
        try await eventually(timeout: timeout, "a response to GET \(path)") {
            let text = inbox.received
            guard let end = text.range(of: "\r\n\r\n") else { return isClosed }
            let length = text[..<end.lowerBound].split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            return text[end.upperBound...].utf8.count >= length
        }
        return inbox.take()
    }

    /// Sends `piece` again and again, a little apart, as a slow client does, until the server closes the connection.
    func trickle(_ piece: String, until what: String) async throws {
        try await eventually(what) {
            if !isClosed { try? await send(piece) }
            try await Task.sleep(for: .milliseconds(50))
            return isClosed
        }
    }

    func waitClosed(_ what: String, timeout: Duration = .seconds(20)) async throws {
        try await eventually(timeout: timeout, what) { isClosed }
    }

    func close() async {
        try? await channel.close()
    }
}
