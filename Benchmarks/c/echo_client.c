/*
 * echo_client.c - closed-loop load generator for the Evergreen "echo" benchmark.
 *
 * Opens --connections TCP connections (all before timing starts). Each connection
 * sends a --size byte message, waits for the complete echo (checked byte for byte),
 * and sends again. Single thread, non-blocking sockets, epoll. Runs --warmup seconds
 * uncounted, then counts round trips for --seconds and stops by itself.
 *
 *   echo_client --host H --port P [--connections 100] [--size 64]
 *               [--seconds 5] [--warmup 1] [--label NAME] [--json]
 *
 * Output: "echo <label>: <rate> round trips/s"
 *   or with --json one line:
 *   {"bench":"echo","impl":"<label>","connections":C,"size":B,"seconds":S,"round_trips":N,"rate":R}
 *
 * Exits 1 with a message on stderr if the server cannot be reached, a connection
 * breaks, or the echo is wrong. --host must be a numeric address (no resolver).
 *
 * Build: cc -O2 -o echo_client echo_client.c
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct conn {
    int fd;
    int idx;
    size_t sent;     /* bytes of the current message written */
    size_t received; /* bytes of the current echo read */
    int want_out;    /* registered for EPOLLOUT */
    unsigned char *msg;
    unsigned char *rbuf;
};

static const char *host = "127.0.0.1";
static const char *port = NULL;
static const char *label = "server";
static int nconn = 100;
static size_t msg_size = 64;
static double seconds = 5.0, warmup = 1.0, connect_timeout = 5.0;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fail(const char *fmt, const char *a, const char *b) {
    fprintf(stderr, "echo_client: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n");
    exit(1);
}

static void usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s --host H --port P [--connections N] [--size B] [--seconds S]\n"
            "          [--warmup S] [--label NAME] [--connect-timeout S] [--json]\n",
            argv0);
    exit(2);
}

static int connect_one(const struct addrinfo *ai) {
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket: %s%s", strerror(errno), "");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno != EINPROGRESS) {
            fprintf(stderr, "echo_client: cannot connect to %s:%s: %s (is the server running?)\n",
                    host, port, strerror(errno));
            exit(1);
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int r;
        do { r = poll(&p, 1, (int)(connect_timeout * 1000)); } while (r < 0 && errno == EINTR);
        if (r == 0) {
            fprintf(stderr, "echo_client: cannot connect to %s:%s: timed out after %.1fs\n",
                    host, port, connect_timeout);
            exit(1);
        }
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            fprintf(stderr, "echo_client: cannot connect to %s:%s: %s (is the server running?)\n",
                    host, port, strerror(err));
            exit(1);
        }
    }
    return fd;
}

/* Write as much of the current message as possible. Returns 1 if fully sent. */
static int pump_send(int ep, struct conn *c) {
    while (c->sent < msg_size) {
        ssize_t n = send(c->fd, c->msg + c->sent, msg_size - c->sent, MSG_NOSIGNAL);
        if (n > 0) { c->sent += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!c->want_out) {
                struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                c->want_out = 1;
            }
            return 0;
        }
        fprintf(stderr, "echo_client: connection %d broke while sending: %s\n", c->idx, strerror(errno));
        exit(1);
    }
    if (c->want_out) {
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
        c->want_out = 0;
    }
    return 1;
}

int main(int argc, char **argv) {
    int json = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--host") && has) host = argv[++i];
        else if (!strcmp(a, "--port") && has) port = argv[++i];
        else if (!strcmp(a, "--connections") && has) nconn = atoi(argv[++i]);
        else if (!strcmp(a, "--size") && has) msg_size = (size_t)atol(argv[++i]);
        else if (!strcmp(a, "--seconds") && has) seconds = atof(argv[++i]);
        else if (!strcmp(a, "--warmup") && has) warmup = atof(argv[++i]);
        else if (!strcmp(a, "--label") && has) label = argv[++i];
        else if (!strcmp(a, "--connect-timeout") && has) connect_timeout = atof(argv[++i]);
        else if (!strcmp(a, "--json")) json = 1;
        else usage(argv[0]);
    }
    if (!port || nconn <= 0 || msg_size == 0 || seconds <= 0 || warmup < 0) usage(argv[0]);
    for (const char *p = label; *p; p++) {
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20) {
            fprintf(stderr, "echo_client: --label must not contain quotes, backslashes or control characters\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "echo_client: bad --host/--port %s:%s (numeric address required): %s\n",
                host, port, gai_strerror(rc));
        return 2;
    }

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) fail("epoll_create1: %s%s", strerror(errno), "");

    struct conn *conns = calloc((size_t)nconn, sizeof *conns);
    unsigned char *bufs = malloc((size_t)nconn * msg_size * 2);
    if (!conns || !bufs) fail("out of memory%s%s", "", "");

    for (int i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        c->idx = i;
        c->fd = connect_one(ai);
        c->msg = bufs + (size_t)i * msg_size * 2;
        c->rbuf = c->msg + msg_size;
        for (size_t k = 0; k < msg_size; k++) c->msg[k] = (unsigned char)('A' + (i + k) % 58);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) fail("epoll_ctl: %s%s", strerror(errno), "");
    }
    freeaddrinfo(ai);

    /* Timing starts now: every connection fires its first message. */
    double t_start = now_s();
    double t_measure = t_start + warmup;
    double t_end = t_measure + seconds;
    int measuring = (warmup == 0);
    unsigned long long total = 0, at_measure = 0;
    double measure_began = measuring ? t_start : 0;

    for (int i = 0; i < nconn; i++) pump_send(ep, &conns[i]);

    struct epoll_event events[512];
    for (;;) {
        double t = now_s();
        if (!measuring && t >= t_measure) {
            measuring = 1;
            at_measure = total;
            measure_began = t;
        }
        if (measuring && t >= t_end) break;
        double deadline = measuring ? t_end : t_measure;
        int timeout_ms = (int)((deadline - t) * 1000) + 1;
        if (timeout_ms > 100) timeout_ms = 100;
        int n = epoll_wait(ep, events, 512, timeout_ms);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("epoll_wait: %s%s", strerror(errno), "");
        }
        for (int e = 0; e < n; e++) {
            struct conn *c = events[e].data.ptr;
            uint32_t ev = events[e].events;
            if ((ev & EPOLLOUT) && c->sent < msg_size) pump_send(ep, c);
            if (!(ev & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
            for (;;) {
                ssize_t r = recv(c->fd, c->rbuf + c->received, msg_size - c->received, 0);
                if (r > 0) {
                    c->received += (size_t)r;
                    if (c->received < msg_size) continue;
                    if (c->sent < msg_size || memcmp(c->rbuf, c->msg, msg_size) != 0) {
                        fprintf(stderr, "echo_client: connection %d received data that is not the echo of what it sent\n",
                                c->idx);
                        exit(1);
                    }
                    total++;
                    c->received = 0;
                    c->sent = 0;
                    pump_send(ep, c);
                    break;
                }
                if (r == 0) {
                    fprintf(stderr, "echo_client: connection %d closed by the server after %llu round trips\n",
                            c->idx, total);
                    exit(1);
                }
                if (errno == EINTR) continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
                fprintf(stderr, "echo_client: connection %d broke: %s\n", c->idx, strerror(errno));
                exit(1);
            }
        }
    }
    double measured = now_s() - measure_began;
    unsigned long long counted = total - at_measure;
    for (int i = 0; i < nconn; i++) close(conns[i].fd);

    double rate = counted / measured;
    if (json) {
        printf("{\"bench\":\"echo\",\"impl\":\"%s\",\"connections\":%d,\"size\":%zu,"
               "\"seconds\":%.6f,\"round_trips\":%llu,\"rate\":%.1f}\n",
               label, nconn, msg_size, measured, counted, rate);
    } else {
        printf("echo %s: %.0f round trips/s\n", label, rate);
    }
    return 0;
}
