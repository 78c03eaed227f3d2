#ifndef EVERGREEN_CLIBEV_H
#define EVERGREEN_CLIBEV_H

// libev's watcher set-up API is made of macros, which Swift cannot import.
// These small functions wrap them; everything else in libev is a real
// function and is called from Swift directly.
#include <ev.h>
#include <stdint.h>

typedef void (*evg_io_cb)(struct ev_loop *loop, ev_io *w, int revents);
typedef void (*evg_timer_cb)(struct ev_loop *loop, ev_timer *w, int revents);
typedef void (*evg_async_cb)(struct ev_loop *loop, ev_async *w, int revents);
typedef void (*evg_prepare_cb)(struct ev_loop *loop, ev_prepare *w, int revents);
typedef void (*evg_check_cb)(struct ev_loop *loop, ev_check *w, int revents);
typedef void (*evg_idle_cb)(struct ev_loop *loop, ev_idle *w, int revents);

/// A new loop on epoll (falls back to libev's automatic choice).
struct ev_loop *evg_loop_new(void);

void evg_io_init(ev_io *w, evg_io_cb cb, int fd, int events);
void evg_timer_init(ev_timer *w, evg_timer_cb cb, double after, double repeat);
void evg_async_init(ev_async *w, evg_async_cb cb);
void evg_prepare_init(ev_prepare *w, evg_prepare_cb cb);
void evg_check_init(ev_check *w, evg_check_cb cb);
void evg_idle_init(ev_idle *w, evg_idle_cb cb);

// Used on every wait: inline, so Swift compiles them into its callers.
static inline void evg_io_set(ev_io *w, int fd, int events) { ev_io_set(w, fd, events); }
static inline void evg_timer_set(ev_timer *w, double after, double repeat) { ev_timer_set(w, after, repeat); }
static inline void evg_set_priority(void *w, int priority) { ev_set_priority((ev_watcher *)w, priority); }
static inline int evg_is_active(const void *w) { return ev_is_active((const ev_watcher *)w); }
static inline int evg_is_pending(const void *w) { return ev_is_pending((const ev_watcher *)w); }
static inline void *evg_get_data(const void *w) { return ((const ev_watcher *)w)->data; }
static inline void evg_set_data(void *w, void *data) { ((ev_watcher *)w)->data = data; }

/// The hub whose loop runs on the calling thread, or NULL. A real
/// thread-local read through an opaque call: the optimiser cannot merge it
/// across a suspension point the way it may merge `pthread_self()`.
void *evg_current_hub(void);
void evg_set_current_hub(void *hub);

/// CLOCK_MONOTONIC in nanoseconds.
uint64_t evg_monotonic_ns(void);

/// Names the calling thread (at most 15 bytes are kept).
void evg_set_thread_name(const char *name);

/// Whether `fd` refers to an open descriptor (fcntl F_GETFD).
int evg_fd_is_open(int fd);

/* Creates and closes the descriptors a loop needs (epoll, eventfd):
   0 when both could be made, else the errno of the first failure. */
int evg_probe_loop_descriptors(void);

/* Task cancellation handlers for the task running on the calling thread.
   The record comes from the task's stack allocator: remove it from the same
   task, after everything the task allocated since has been freed (an await
   in between is fine). If the task is already cancelled, adding runs the
   handler at once on this thread. Handlers run under the task's
   status-record lock, so once removal returns the handler is not running
   and never will. `c` must stay valid until removal. Adding returns NULL
   when the task was already cancelled (the handler has run, nothing is
   kept); removing NULL does nothing. */
typedef void (*evg_cancel_fn)(void *owner, void *item);
typedef struct evg_cancellation {
    evg_cancel_fn fn;
    void *owner;
    void *item;
} evg_cancellation;
const void *evg_add_cancellation_handler(const evg_cancellation *c);
void evg_remove_cancellation_handler(const void *record);

#endif
