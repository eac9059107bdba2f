import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import ServiceLifecycle
import SwitchboardCore

/// How long a client may take over a request, and how many connections one address may hold open.
public struct HTTPLimits: Sendable {
    /// A request's head must be complete this long after the connection opened or its first byte arrived.
    public var headerTimeout: Duration
    /// A request's body must be complete this long after its head.
    public var bodyTimeout: Duration
    /// A kept-alive connection with nothing to do is closed after this (also the bound on a head whose first bytes
    /// came in one packet with the previous request's end, which the head timer cannot tell apart).
    public var idleTimeout: Duration
    /// Open connections one client address may hold; 0 means no limit (behind a proxy every client shares its address).
    public var maxConnectionsPerAddress: Int

    public init(headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
                idleTimeout: Duration = .seconds(75), maxConnectionsPerAddress: Int = 128) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.maxConnectionsPerAddress = maxConnectionsPerAddress
    }

    public init(_ config: AppConfig) {
        self.init(headerTimeout: .milliseconds(Int64(config.httpHeaderTimeoutMs)),
                  bodyTimeout: .milliseconds(Int64(config.httpBodyTimeoutMs)),
                  idleTimeout: .milliseconds(Int64(config.httpIdleTimeoutMs)),
                  maxConnectionsPerAddress: config.maxConnectionsPerAddress)
    }
}

/// The start of a graceful shutdown, as the HTTP server and the workers see it: from `begin()` every response says
/// `Connection: close` (and its connection closes after it) and the workers hand their jobs back, while the server
/// still accepts connections and acknowledges PBX events for `period`; only then does it close idle connections
/// and stop listening.
public final class ShutdownDrain: @unchecked Sendable {
    public let period: Duration
    private let lock = NSLock()
    private var begun = false
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    public init(period: Duration = .seconds(2)) { self.period = period }

    public var isDraining: Bool { lock.withLock { begun } }

    public func begin() {
        let resumed: [CheckedContinuation<Void, Never>] = lock.withLock {
            begun = true
            defer { waiters = [:] }
            return Array(waiters.values)
        }
        resumed.forEach { $0.resume() }
    }

    /// Returns once the drain has begun, or the task is cancelled.
    public func waitUntilBegun() async {
        let id: Int = lock.withLock {
            nextWaiter += 1
            return nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now: Bool = lock.withLock {
                    if begun || Task.isCancelled { return true }
                    waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            lock.withLock { waiters.removeValue(forKey: id) }?.resume()
        }
    }
}

/// Begins the drain when graceful shutdown reaches it, and lasts its period. It runs after the application in one
/// group, so it is the first to hear of a shutdown and the application's own shutdown waits for it.
struct DrainService: Service {
    let drain: ShutdownDrain
    let logger: Logger

    func run() async throws {
        do { try await gracefulShutdown() } catch { return }
        drain.begin()
        logger.info("shutting down: responses say Connection: close and running jobs are handed back",
                    metadata: ["drain": "\(drain.period)"])
        try? await Task.sleep(for: drain.period)
    }
}

/// Switchboard's application: Hummingbird's, run so that a graceful shutdown drains (`ShutdownDrain`) before the
/// server closes its connections.
public struct SwitchboardApplication<Inner: ApplicationProtocol>: ApplicationProtocol {
    public typealias Responder = Inner.Responder
    let inner: Inner
    let drain: ShutdownDrain

    public var responder: Responder { get async throws { try await inner.responder } }
    public var server: HTTPServerBuilder { inner.server }
    public var eventLoopGroup: any EventLoopGroup { inner.eventLoopGroup }
    public var configuration: ApplicationConfiguration { inner.configuration }
    public var logger: Logger { inner.logger }
    @Sendable public func onServerRunning(_ channel: any Channel) async { await inner.onServerRunning(channel) }
    public var services: [any Service] { inner.services }
    public var processesRunBeforeServerStart: [@Sendable () async throws -> Void] { inner.processesRunBeforeServerStart }

    public func run() async throws {
        let group = ServiceGroup(configuration: .init(services: [inner, DrainService(drain: drain, logger: logger)],
                                                      logger: logger))
        try await group.run()
    }
}

/// Counts open connections per client address, and logs (a few a minute per address) when a limit bites.
final class ConnectionLimiter: @unchecked Sendable {
    let limits: HTTPLimits
    let logger: Logger
    let logs = LogThrottle()
    private let lock = NSLock()
    private var open: [String: Int] = [:]

    init(limits: HTTPLimits, logger: Logger) {
        self.limits = limits
        self.logger = logger
    }

    /// Takes a place for a new connection from `address`, or refuses it.
    func admit(_ address: String) -> Bool {
        let limit = limits.maxConnectionsPerAddress
        let admitted: Bool = lock.withLock {
            let count = open[address, default: 0]
            if limit > 0, count >= limit { return false }
            open[address] = count + 1
            return true
        }
        if !admitted { bite("HTTP connection refused: too many open connections from one address", address) }
        return admitted
    }

    func release(_ address: String) {
        lock.withLock {
            let count = open[address, default: 1] - 1
            open[address] = count > 0 ? count : nil
        }
    }

    func openConnections(_ address: String) -> Int { lock.withLock { open[address, default: 0] } }

    func bite(_ message: Logger.Message, _ address: String) {
        guard case .log(let suppressed) = logs.admit(address) else { return }
        var metadata: Logger.Metadata = ["remote": "\(address)", "limit": "\(limits.maxConnectionsPerAddress)",
                                         "header_timeout": "\(limits.headerTimeout)", "body_timeout": "\(limits.bodyTimeout)"]
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        logger.warning(message, metadata: metadata)
    }
}

/// Sent down the pipeline whenever bytes arrive, before they are decoded: the first byte of a request starts its
/// head timer, which HTTP parts alone cannot tell (a head is decoded only once complete).
struct BytesArrived {}

/// Sits before the HTTP decoder and announces arriving bytes.
final class ByteArrivalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireUserInboundEventTriggered(BytesArrived())
        context.fireChannelRead(data)
    }
}

/// Guards one HTTP connection: the head and body timers, and, once shutdown begins, `Connection: close` on every
/// response with the connection closed after it. (The address's place in the connection limit is taken when the
/// connection is set up, `GuardedWebSocketChannel`, and the first head is timed before this handler joins.)
final class ConnectionGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    let limiter: ConnectionLimiter
    let drain: ShutdownDrain
    private var address: String?
    private var started = false
    private var awaitingHead = true
    private var closeAfterResponse = false
    private var headTimer: Scheduled<Void>?
    private var bodyTimer: Scheduled<Void>?

    init(limiter: ConnectionLimiter, drain: ShutdownDrain) {
        self.limiter = limiter
        self.drain = drain
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        address = context.channel.remoteAddress?.ipAddress
        startHeadTimer(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is BytesArrived else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        if awaitingHead, headTimer == nil { startHeadTimer(context) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            awaitingHead = false
            headTimer?.cancel()
            headTimer = nil
            bodyTimer?.cancel()
            bodyTimer = schedule(context, after: limiter.limits.bodyTimeout,
                                 "HTTP connection closed: request body not complete in time")
        case .body:
            break
        case .end:
            bodyTimer?.cancel()
            bodyTimer = nil
            awaitingHead = true
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where drain.isDraining:
            head.headerFields[.connection] = "close"
            closeAfterResponse = true
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where closeAfterResponse:
            context.writeAndFlush(data, promise: promise)
            context.close(promise: nil)
        default:
            context.write(data, promise: promise)
        }
    }

    private func startHeadTimer(_ context: ChannelHandlerContext) {
        headTimer?.cancel()
        headTimer = schedule(context, after: limiter.limits.headerTimeout,
                             "HTTP connection closed: request head not complete in time")
    }

    private func schedule(_ context: ChannelHandlerContext, after delay: Duration, _ message: Logger.Message) -> Scheduled<Void> {
        let address = self.address
        let limiter = self.limiter
        return context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(delay)) {
            if let address { limiter.bite(message, address) }
            context.close(promise: nil)
        }
    }

    private func cancelTimers() {
        headTimer?.cancel()
        bodyTimer?.cancel()
        headTimer = nil
        bodyTimer = nil
    }
}
