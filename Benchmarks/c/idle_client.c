/*
 * idle_client.c - opens K idle TCP connections for the "memory" benchmark.
 *
 * Connects --connections K sockets to an echo server in batches of --batch. Unless
 * --no-ping, each connection then sends one byte and waits for its echo: that
 * proves the server accepted it AND its per-connection handler (greenlet / task)
 * ran and is back to blocking in recv. Batching also keeps the server's accept
 * queue from overflowing. Then it prints
 *     idle_client connected K
 * (flushed) and holds every connection open, doing nothing, until stdin reaches
 * EOF or it gets SIGTERM/SIGINT. On exit it resets (RST) the connections so that
 * no TIME_WAIT sockets pile up between runs.
 *
 *   idle_client --host H --port P [--connections 10000] [--batch 100]
 *               [--timeout 120] [--no-ping]
 *
 * --host must be numeric. Exits 1 with a message if anything fails.
 *
 * Build: cc -O2 -o idle_client idle_client.c
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int *fds;
static int nopen = 0;
static volatile sig_atomic_t stop = 0;

static void on_signal(int sig) { (void)sig; stop = 1; }

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void reset_all(void) {
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    for (int i = 0; i < nopen; i++) {
        setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fds[i]);
    }
    nopen = 0;
}

static void fail(const char *msg, int err) {
    fprintf(stderr, "idle_client: %s%s%s (after %d connections)\n", msg, err ? ": " : "",
            err ? strerror(err) : "", nopen);
    reset_all();
    exit(1);
}

int main(int argc, char **argv) {
    const char *host = "127.0.0.1", *port = NULL;
    int k = 10000, batch = 100, ping = 1;
    double timeout = 120;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (!strcmp(a, "--host") && has) host = argv[++i];
        else if (!strcmp(a, "--port") && has) port = argv[++i];
        else if (!strcmp(a, "--connections") && has) k = atoi(argv[++i]);
        else if (!strcmp(a, "--batch") && has) batch = atoi(argv[++i]);
        else if (!strcmp(a, "--timeout") && has) timeout = atof(argv[++i]);
        else if (!strcmp(a, "--no-ping")) ping = 0;
        else {
            fprintf(stderr, "usage: %s --host H --port P [--connections K] [--batch N] [--timeout S] [--no-ping]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!port || k <= 0 || batch <= 0) {
        fprintf(stderr, "idle_client: --port is required; --connections and --batch must be > 0\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur != RLIM_INFINITY && (rlim_t)k + 16 > rl.rlim_cur) {
            fprintf(stderr, "idle_client: RLIMIT_NOFILE hard limit %llu is too low for %d connections\n",
                    (unsigned long long)rl.rlim_max, k);
            return 1;
        }
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "idle_client: bad --host/--port %s:%s (numeric address required): %s\n", host, port,
                gai_strerror(rc));
        return 2;
    }

    fds = calloc((size_t)k, sizeof *fds);
    struct pollfd *pfd = calloc((size_t)batch, sizeof *pfd);
    if (!fds || !pfd) fail("out of memory", 0);
    double deadline = now_s() + timeout;

    while (nopen < k && !stop) {
        int first = nopen, n = k - nopen < batch ? k - nopen : batch;
        /* 1. start n non-blocking connects */
        for (int i = 0; i < n; i++) {
            int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) fail("socket", errno);
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
                int e = errno;
                close(fd);
                fail("connect", e);
            }
            fds[nopen++] = fd;
            pfd[i].fd = fd;
            pfd[i].events = POLLOUT;
            pfd[i].revents = 0;
        }
        /* 2. wait until each is connected (then ping), then until each echo arrived */
        for (int phase = 0; phase < (ping ? 2 : 1); phase++) {
            int pending = n;
            for (int i = 0; i < n; i++) {
                pfd[i].fd = fds[first + i];
                pfd[i].events = phase == 0 ? POLLOUT : POLLIN;
                pfd[i].revents = 0;
            }
            while (pending > 0) {
                if (stop) break;
                int ms = (int)((deadline - now_s()) * 1000);
                if (ms <= 0) fail(phase == 0 ? "timed out connecting" : "timed out waiting for ping echoes", 0);
                int r = poll(pfd, (nfds_t)n, ms > 1000 ? 1000 : ms);
                if (r < 0 && errno != EINTR) fail("poll", errno);
                for (int i = 0; r > 0 && i < n; i++) {
                    if (pfd[i].fd < 0 || !pfd[i].revents) continue;
                    int fd = pfd[i].fd;
                    if (phase == 0) {
                        int err = 0;
                        socklen_t len = sizeof err;
                        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
                        if (err) fail("connect", err);
                        if (ping && send(fd, "p", 1, MSG_NOSIGNAL) != 1) fail("send ping", errno);
                    } else {
                        char c;
                        ssize_t got = recv(fd, &c, 1, 0);
                        if (got == 0) fail("server closed a connection", 0);
                        if (got < 0) {
                            if (errno == EAGAIN || errno == EINTR) continue;
                            fail("recv ping echo", errno);
                        }
                    }
                    pfd[i].fd = -1; /* done with this one in this phase */
                    pending--;
                }
            }
        }
    }
    freeaddrinfo(ai);
    if (stop) { reset_all(); return 1; }

    printf("idle_client connected %d\n", nopen);
    fflush(stdout);

    /* Hold: wait for stdin EOF or a signal. */
    struct pollfd in = {.fd = 0, .events = POLLIN};
    while (!stop) {
        int r = poll(&in, 1, 1000);
        if (r > 0) {
            char buf[256];
            ssize_t got = read(0, buf, sizeof buf);
            if (got <= 0) break;
        }
    }
    reset_all();
    return 0;
}
