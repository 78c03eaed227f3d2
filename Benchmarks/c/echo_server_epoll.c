/*
 * echo_server_epoll.c - reference TCP echo server for the Evergreen "echo" benchmark.
 *
 * Single thread, non-blocking sockets, level-triggered epoll. On readable: one
 * read() into a 64 KiB buffer, write() it straight back; a short write parks the
 * rest in a per-connection buffer and switches the socket to EPOLLOUT until it is
 * flushed (no reading meanwhile = back-pressure). That is 1 read + 1 write per
 * request plus an amortised epoll_wait, which is as cheap as echo gets.
 *
 *   echo_server_epoll --port P [--host H] [--backlog N]
 *
 * Prints "echo_server_epoll listening on H:P" once ready; runs until killed.
 *
 * Build: cc -O2 -o echo_server_epoll echo_server_epoll.c
 */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ 65536
#define MAX_EVENTS 256

struct conn {
    int fd;
    char *pending; /* unsent tail of the last echo, NULL if none */
    size_t pending_len, pending_off;
};

static void die(const char *what) {
    fprintf(stderr, "echo_server_epoll: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void raise_nofile(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void close_conn(int ep, struct conn *c) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->pending);
    free(c);
}

/* Write buf fully if possible; otherwise keep the rest and wait for EPOLLOUT.
 * Returns -1 if the connection must be closed. */
static int send_or_park(int ep, struct conn *c, const char *buf, size_t len) {
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(c->fd, buf + off, len - off);
        if (n > 0) { off += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        return -1;
    }
    if (off == len) return 0;
    c->pending = malloc(len - off);
    if (!c->pending) return -1;
    memcpy(c->pending, buf + off, len - off);
    c->pending_len = len - off;
    c->pending_off = 0;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) return -1;
    return 0;
}

static int flush_pending(int ep, struct conn *c) {
    while (c->pending_off < c->pending_len) {
        ssize_t n = write(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
        if (n > 0) { c->pending_off += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        return -1;
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    return epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1";
    const char *port = NULL;
    int backlog = 4096;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--port") && i + 1 < argc) port = argv[++i];
        else if (!strcmp(argv[i], "--host") && i + 1 < argc) host = argv[++i];
        else if (!strcmp(argv[i], "--backlog") && i + 1 < argc) backlog = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s --port P [--host H] [--backlog N]\n", argv[0]);
            return 2;
        }
    }
    if (!port) {
        fprintf(stderr, "usage: %s --port P [--host H] [--backlog N]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    /* Numeric host only: never touch a resolver. */
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
    struct addrinfo *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "echo_server_epoll: bad --host/--port %s:%s: %s\n", host, port, gai_strerror(rc));
        return 2;
    }
    int lfd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0) die("bind");
    freeaddrinfo(ai);
    if (listen(lfd, backlog) < 0) die("listen");

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL}; /* NULL = listener */
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev) < 0) die("epoll_ctl");

    printf("echo_server_epoll listening on %s:%s\n", host, port);
    fflush(stdout);

    static char buf[BUFSZ];
    struct epoll_event events[MAX_EVENTS];
    for (;;) {
        int n = epoll_wait(ep, events, MAX_EVENTS, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; i++) {
            struct conn *c = events[i].data.ptr;
            if (c == NULL) {
                /* Accept everything that is queued. */
                for (;;) {
                    int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                    if (fd < 0) {
                        if (errno == EINTR) continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                        if (errno == EMFILE || errno == ENFILE) {
                            fprintf(stderr, "echo_server_epoll: accept: %s\n", strerror(errno));
                            break;
                        }
                        break; /* ECONNABORTED etc.: just try again next time */
                    }
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct conn *nc = calloc(1, sizeof *nc);
                    if (!nc) { close(fd); continue; }
                    nc->fd = fd;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) { close(fd); free(nc); }
                }
                continue;
            }
            uint32_t e = events[i].events;
            if (c->pending) {
                if (e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
                    if (flush_pending(ep, c) < 0) close_conn(ep, c);
                }
                continue;
            }
            if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
                ssize_t r = read(c->fd, buf, sizeof buf);
                if (r > 0) {
                    if (send_or_park(ep, c, buf, (size_t)r) < 0) close_conn(ep, c);
                } else if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
                    close_conn(ep, c);
                }
            }
        }
    }
}
