#define _GNU_SOURCE
#include "CLibev.h"
#include <fcntl.h>
#include <time.h>
#include <pthread.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

struct ev_loop *evg_loop_new(void) {
    struct ev_loop *loop = ev_loop_new(EVBACKEND_EPOLL | EVFLAG_NOENV);
    if (!loop) loop = ev_loop_new(EVFLAG_AUTO);
    return loop;
}

void evg_io_init(ev_io *w, evg_io_cb cb, int fd, int events) { ev_io_init(w, cb, fd, events); }
void evg_timer_init(ev_timer *w, evg_timer_cb cb, double after, double repeat) { ev_timer_init(w, cb, after, repeat); }
void evg_async_init(ev_async *w, evg_async_cb cb) { ev_async_init(w, cb); }
void evg_prepare_init(ev_prepare *w, evg_prepare_cb cb) { ev_prepare_init(w, cb); }
void evg_check_init(ev_check *w, evg_check_cb cb) { ev_check_init(w, cb); }
void evg_idle_init(ev_idle *w, evg_idle_cb cb) { ev_idle_init(w, cb); }

static _Thread_local void *current_hub;
void *evg_current_hub(void) { return current_hub; }
void evg_set_current_hub(void *hub) { current_hub = hub; }

uint64_t evg_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int evg_fd_is_open(int fd) { return fd >= 0 && fcntl(fd, F_GETFD) != -1; }

int evg_probe_loop_descriptors(void) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return errno;
    int ev = eventfd(0, EFD_CLOEXEC);
    int err = ev < 0 ? errno : 0;
    if (ev >= 0) close(ev);
    close(ep);
    return err;
}

void evg_set_thread_name(const char *name) {
    char buf[16];
    strncpy(buf, name, 15);
    buf[15] = 0;
    pthread_setname_np(pthread_self(), buf);
}
