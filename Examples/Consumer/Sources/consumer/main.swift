import Sockets
#if canImport(Glibc)
import Glibc
#endif

let hub = Hub(name: "consumer")
var fds: [Int32] = [0, 0]
_ = pipe(&fds)
let (r, w) = (fds[0], fds[1])
let events = try await hub.run {
    let reader = hub.spawn { try await waitRead(r, timeout: .seconds(2)) }
    var b: UInt8 = 1
    _ = write(w, &b, 1)
    return try await reader.value
}
print("events:", events, "on hub:", Hub.current == nil ? "caller is off-hub" : "?")
let qualified: EvergreenHub.Hub = Hub.default
_ = qualified
let t: Sockets.TimeoutError = TimeoutError()
print("qualified names ok:", t)
do {
    try await withTimeout(.milliseconds(10)) { try await hub.sleep(for: .seconds(5)) }
} catch {
    print("withTimeout:", error)
}
hub.shutdown()
// The calling thread as a hub's thread (a one-thread program's main).
let ranHere = try Hub.withCurrentThreadAsHub(name: "consumer-main") { here in
    try await here.sleep(for: .milliseconds(1))
    return Hub.current === here
}
print("withCurrentThreadAsHub:", ranHere)
