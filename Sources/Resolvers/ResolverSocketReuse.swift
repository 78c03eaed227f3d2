import CResolv

/// Lets a thread's glibc stub resolver keep its UDP sockets to the name
/// servers open between lookups (`RES_STAYOPEN` in the thread's `_res`),
/// instead of opening, connecting and closing one per lookup.
///
/// A thread-pool resolver makes thousands of lookups per thread; the saved
/// `socket`/`connect`/`close` calls are about a third of glibc's cost per
/// lookup. Answers do not change: the same servers get the same queries, and
/// glibc still matches each reply to its query. TCP connections (for
/// truncated answers) are closed after each lookup as before: glibc keeps
/// only sockets it did not open "temporarily". When /etc/resolv.conf changes
/// glibc re-initialises the thread's state (dropping the bit and the old
/// sockets); the next call sets the bit again. Sockets close when the thread
/// exits.
enum ResolverSocketReuse {
    /// Sets `RES_STAYOPEN` for the calling thread. Cheap enough to call
    /// before every lookup.
    static func enableForCurrentThread() {
        evg_resolver_stay_open()
    }
}
