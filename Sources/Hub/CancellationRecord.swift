import CLibev

/// A cancellation handler registered on the current task until `remove()`.
///
/// `withTaskCancellationHandler` makes the same two runtime calls, but it is
/// an opaque async function isolated to its caller: every use also costs
/// three executor checks, each taking the task's status-record lock. On a
/// hub wait that was a fifth of the user-space time. This registers the
/// handler from synchronous code instead (`evg_add_cancellation_handler`
/// states the runtime's contract): add and remove on the same task, in
/// stack order, with nothing the task allocated in between still alive.
@usableFromInline
struct CancellationRecord {
    /// nil when the task was already cancelled: the handler has run.
    @usableFromInline let record: UnsafeRawPointer?

    /// Registers `handler`, which must stay valid until `remove()`. Runs it
    /// at once, on this thread, if the task is already cancelled.
    @usableFromInline
    init(_ handler: UnsafePointer<evg_cancellation>) {
        record = evg_add_cancellation_handler(handler)
    }

    /// Unregisters the handler; once this returns it is not running and
    /// never will.
    @usableFromInline
    func remove() {
        evg_remove_cancellation_handler(record)
    }
}
