import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1

/// The first request's head timer on the WebSocket-capable server. There the HTTP decoder belongs to the upgrade
/// machinery until that head is read, and `ConnectionGuardHandler` joins only when the connection stays HTTP; so
/// this handler, first in the pipeline, times the first head on the raw bytes: it ends at its first empty line (the
/// blank lines a client may send before a request do not count).
///
/// It also answers a request nothing else answered: when the HTTP decoder cannot read a request (bytes that are not
/// a request line), the upgrade machinery ends with an error and writes nothing; being first, this handler writes a
/// plain `400 Bad Request` to the socket itself and closes the connection (`answerIfSilent`).
final class FirstRequestGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Whether anything was written to this connection (an answer, a WebSocket frame).
    private var wrote = false
    private var context: ChannelHandlerContext?

    let limiter: ConnectionLimiter
    let address: String?
    private var started = false
    private var timer: Scheduled<Void>?
    /// Bytes of the head seen so far that may start its end (`\r\n\r\n`), and whether the request line began.
    private var tail: [UInt8] = []
    private var begun = false
    private var headDone = false

    init(limiter: ConnectionLimiter, address: String?) {
        self.limiter = limiter
        self.address = address
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        wrote = true
        context.write(data, promise: promise)
    }

    /// Answers 400 and closes when the connection is still open and nothing was ever written to it.
    func answerIfSilent() {
        guard !wrote, let context, context.channel.isActive else { return }
        wrote = true
        let answer = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 25\r\n"
            + "Connection: close\r\n\r\nthe request is not HTTP.\n"
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer))).whenComplete { _ in channel.close(promise: nil) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        guard !started else { return }
        started = true
        let address = self.address
        let limiter = self.limiter
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limiter.limits.headerTimeout)) {
            if let address { limiter.bite("HTTP connection closed: request head not complete in time", address) }
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if !headDone { scan(unwrapInboundIn(data)) }
        context.fireChannelRead(data)
    }

    /// Looks for the end of the first head; once found, the timer stops and later bytes pass unread.
    private func scan(_ buffer: ByteBuffer) {
        for byte in buffer.readableBytesView {
            if !begun {
                if byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\n") { continue }
                begun = true
            }
            tail.append(byte)
            if tail.count > 4 { tail.removeFirst(tail.count - 4) }
            if tail == Array("\r\n\r\n".utf8) || tail.suffix(2) == Array("\n\n".utf8) {
                headDone = true
                timer?.cancel()
                timer = nil
                tail = []
                return
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }
}

/// Last in the pipeline: a request the HTTP decoder cannot read (`HTTPParserError`), which no other handler answers on
/// this channel, makes `FirstRequestGuard` answer 400 and close, when nothing was written yet.
final class UnreadableRequest: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = Any
    let first: NIOLoopBound<FirstRequestGuard>
    init(first: NIOLoopBound<FirstRequestGuard>) { self.first = first }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // Only a request the decoder cannot read; any other error belongs to whoever is answering the request.
        if error is HTTPParserError { first.value.answerIfSilent() }
        context.fireErrorCaught(error)
    }
}

/// Hummingbird's HTTP/1.1 channel with a WebSocket upgrade, guarded: the address's place
/// in the connection limit is taken before anything else (a refused connection is not set up at all) and held until
/// the connection closes, a WebSocket's too; `FirstRequestGuard` and `ByteArrivalHandler` come first in the pipeline,
/// and `ConnectionGuardHandler` after the HTTP decoder once the connection stays HTTP.
struct GuardedWebSocketChannel: ServerChildChannel {
    struct Value: ServerChildChannelValue {
        /// Nil for a connection refused by the limit: it closes as it opens, with nothing to handle.
        let upgrade: HTTP1WebSocketUpgradeChannel.Value?
        let channel: any Channel
    }
    let inner: HTTP1WebSocketUpgradeChannel
    let limiter: ConnectionLimiter

    /// Closes a refused connection as soon as it is open.
    final class Refusal: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        func handlerAdded(context: ChannelHandlerContext) { if context.channel.isActive { context.close(promise: nil) } }
        func channelActive(context: ChannelHandlerContext) { context.close(promise: nil) }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let limiter = self.limiter
        return channel.eventLoop.makeCompletedFuture { () -> NIOLoopBound<FirstRequestGuard>? in
            let address = channel.remoteAddress?.ipAddress
            if let address {
                guard limiter.admit(address) else {
                    try channel.pipeline.syncOperations.addHandler(Refusal())
                    return nil
                }
                channel.closeFuture.whenComplete { _ in limiter.release(address) }
            }
            try channel.pipeline.syncOperations.addHandler(ByteArrivalHandler(), position: .first)
            let first = FirstRequestGuard(limiter: limiter, address: address)
            try channel.pipeline.syncOperations.addHandler(first, position: .first)
            return NIOLoopBound(first, eventLoop: channel.eventLoop)
        }.flatMap { (first: NIOLoopBound<FirstRequestGuard>?) in
            guard let first else { return channel.eventLoop.makeSucceededFuture(Value(upgrade: nil, channel: channel)) }
            return inner.setup(channel: channel, logger: logger).flatMapThrowing { upgrade in
                try channel.pipeline.syncOperations.addHandler(UnreadableRequest(first: first))
                return Value(upgrade: upgrade, channel: channel)
            }
        }
    }

    func handle(value: Value, logger: Logger) async {
        guard let upgrade = value.upgrade else { return }
        await inner.handle(value: upgrade, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with Switchboard's limits (head, body and idle timeouts, connections per address, the shutdown drain)
    /// on every request, upgraded to WebSocket where `shouldUpgrade` says so; an open WebSocket holds its address's
    /// place in the connection limit.
    static func guardedHTTP1WebSocket(
        limits: HTTPLimits, drain: ShutdownDrain, logger: Logger, webSocket: WebSocketServerConfiguration,
        shouldUpgrade: @escaping @Sendable (HTTPRequest, any Channel, Logger) async throws
            -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    ) -> HTTPServerBuilder {
        let limiter = ConnectionLimiter(limits: limits, logger: logger)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [ConnectionGuardHandler(limiter: limiter, drain: drain)],
            idleTimeout: TimeAmount(limits.idleTimeout))
        return HTTPServerBuilder { responder in
            GuardedWebSocketChannel(
                inner: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: .init(http1: http1, ws: webSocket),
                                                    shouldUpgrade: shouldUpgrade),
                limiter: limiter)
        }
    }
}
