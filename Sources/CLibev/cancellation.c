// A task cancellation handler registered from synchronous code. Swift's
// `withTaskCancellationHandler` makes exactly these two runtime calls, but
// as an opaque async function isolated to its caller it also costs three
// executor checks per use, each taking the task's status-record lock; on a
// hub wait that was a fifth of the user-space time.
#include "CLibev.h"

#define EVG_SWIFTCALL __attribute__((swiftcall))
#define EVG_SWIFT_CONTEXT __attribute__((swift_context))

// The Swift runtime's entry points (swift/stdlib/public/Concurrency/TaskStatus.cpp),
// which the standard library's TaskCancellation.swift declares the same way.
typedef EVG_SWIFTCALL void (*evg_swift_handler)(EVG_SWIFT_CONTEXT void *context);
extern EVG_SWIFTCALL const void *swift_task_addCancellationHandler(evg_swift_handler handler, void *context);
extern EVG_SWIFTCALL void swift_task_removeCancellationHandler(const void *record);

static EVG_SWIFTCALL void evg_cancellation_trampoline(EVG_SWIFT_CONTEXT void *context) {
    const evg_cancellation *c = context;
    c->fn(c->owner, c->item);
}

const void *evg_add_cancellation_handler(const evg_cancellation *c) {
    return swift_task_addCancellationHandler(evg_cancellation_trampoline, (void *)c);
}

void evg_remove_cancellation_handler(const void *record) {
    // NULL: the task was already cancelled, the handler ran, and no record
    // was kept (the runtime does the same check; this one does not rely on it).
    if (record) swift_task_removeCancellationHandler(record);
}
