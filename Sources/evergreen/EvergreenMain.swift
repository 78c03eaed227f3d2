import ArgumentParser
import Sockets

/// The entry point. Every command runs on the main thread: a synchronous one
/// (`bench wait`) directly, an asynchronous one in a task on a hub whose loop
/// runs there (`Hub.withCurrentThreadAsHub`), as gevent's hub runs in the
/// main thread.
///
/// Not through an async `main`: that hands the main thread to the dispatch
/// library, whose worker threads then run the command, and whose manager
/// thread opens a timer descriptor at a moment of its own choosing (so a
/// command's descriptor needs would vary from run to run). Here no thread
/// starts unless a command starts one (its hub's, a thread pool's).
@main
enum EvergreenMain {
    static func main() {
        let command: any ParsableCommand
        do {
            command = try Evergreen.parseAsRoot()
        } catch {
            Evergreen.exit(withError: error)
        }
        guard let asynchronous = command as? any AsyncParsableCommand else {
            var command = command
            do {
                try command.run()
            } catch {
                Evergreen.exit(withError: error)
            }
            Evergreen.exit()
        }
        let box = CommandBox(asynchronous)
        do {
            // Commands make hubs of their own for their work: this one only
            // drives them, and its thread pool (one thread) starts only if used.
            try Hub.withCurrentThreadAsHub(name: "main", threadPoolSize: 1) { _ in
                var command = box.command
                try await command.run()
            }
        } catch {
            Evergreen.exit(withError: error)
        }
        Evergreen.exit()
    }
}

/// Hands the parsed command to the task that runs it: made before the
/// task, used only by it.
private final class CommandBox: @unchecked Sendable {
    let command: any AsyncParsableCommand
    init(_ command: any AsyncParsableCommand) { self.command = command }
}
