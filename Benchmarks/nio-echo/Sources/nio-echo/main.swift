// nio-echo: TCP echo server on a single SwiftNIO event loop.
//
//   nio-echo --port P [--host H]
//
// Prints "nio-echo listening on H:P" (flushed) once bound, then runs until killed.
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Echoes every inbound buffer straight back; flushes once per read burst.
final class EchoHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.write(data, promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

/// Unbuffered write to a file descriptor (avoids the C `stdout`/`stderr` globals,
/// which Swift 6 strict concurrency rejects).
func writeFD(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { buf in
        var off = 0
        while off < buf.count {
            let n = write(fd, buf.baseAddress! + off, buf.count - off)
            if n <= 0 { return }
            off += n
        }
    }
}

func usage() -> Never {
    writeFD(2, "usage: nio-echo --port P [--host H]\n")
    exit(2)
}

var host = "127.0.0.1"
var port: Int? = nil
var args = CommandLine.arguments.dropFirst().makeIterator()
while let arg = args.next() {
    switch arg {
    case "--port":
        guard let v = args.next(), let p = Int(v), (0...65535).contains(p) else { usage() }
        port = p
    case "--host":
        guard let v = args.next() else { usage() }
        host = v
    case "-h", "--help":
        usage()
    default:
        writeFD(2, "nio-echo: unknown argument \(arg)\n")
        usage()
    }
}
guard let port else { usage() }

signal(SIGPIPE, SIG_IGN)

let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let bootstrap = ServerBootstrap(group: group)
    .serverChannelOption(ChannelOptions.backlog, value: 4096)
    .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
    .childChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(EchoHandler())
        }
    }

do {
    let channel = try bootstrap.bind(host: host, port: port).wait()
    let bound = channel.localAddress?.port ?? port
    writeFD(1, "nio-echo listening on \(host):\(bound)\n")
    try channel.closeFuture.wait()
} catch {
    writeFD(2, "nio-echo: \(error)\n")
    exit(1)
}
