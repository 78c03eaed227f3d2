/*
 * pingpong_libev.c - reference for the Evergreen "wait" benchmark.
 *
 * Two "sides" on one libev loop ping-pong one byte over two pipes:
 *   side A: write pipe1, wait readable on pipe2, read, repeat
 *   side B: wait readable on pipe1, read, write pipe2
 * Both io watchers are PERSISTENT: started once, never stopped until the end.
 * This is the floor for "wake a waiter on fd readiness": the Evergreen hub pays
 * the same libev cost plus its own task switching.
 *
 *   pingpong_libev [--rounds N] [--json]
 *
 * Output: "wait ping-pong (C libev): <rate> round trips/s"
 *   or with --json one line:
 *   {"bench":"wait","impl":"c-libev","rounds":N,"seconds":S,"rate":R}
 *
 * Build: cc -O2 -o pingpong_libev pingpong_libev.c -lev
 */
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int pipe1[2], pipe2[2];
static long rounds_target = 200000;
static long rounds_done = 0;
static ev_io watch_a; /* side A: readable on pipe2[0] */
static ev_io watch_b; /* side B: readable on pipe1[0] */

static void die(const char *what) {
    fprintf(stderr, "pingpong_libev: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void set_nonblock(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) die("fcntl");
}

static void write_byte(int fd) {
    char c = 'x';
    for (;;) {
        ssize_t n = write(fd, &c, 1);
        if (n == 1) return;
        if (n < 0 && errno == EINTR) continue;
        die("write");
    }
}

/* Returns 1 if a byte was read, 0 on EAGAIN (spurious wakeup). */
static int read_byte(int fd) {
    char c;
    for (;;) {
        ssize_t n = read(fd, &c, 1);
        if (n == 1) return 1;
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
        if (n == 0) { fprintf(stderr, "pingpong_libev: unexpected EOF\n"); exit(1); }
        die("read");
    }
}

/* Side B: pipe1 readable -> read, answer on pipe2. */
static void side_b_cb(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop; (void)revents;
    if (read_byte(w->fd)) write_byte(pipe2[1]);
}

/* Side A: pipe2 readable -> read (one round trip done), ping again on pipe1. */
static void side_a_cb(struct ev_loop *loop, ev_io *w, int revents) {
    (void)revents;
    if (!read_byte(w->fd)) return;
    if (++rounds_done >= rounds_target) {
        ev_break(loop, EVBREAK_ALL);
        return;
    }
    write_byte(pipe1[1]);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--rounds") && i + 1 < argc) {
            rounds_target = strtol(argv[++i], NULL, 10);
        } else if (!strcmp(argv[i], "--json")) {
            json = 1;
        } else {
            fprintf(stderr, "usage: %s [--rounds N] [--json]\n", argv[0]);
            return 2;
        }
    }
    if (rounds_target <= 0) {
        fprintf(stderr, "pingpong_libev: --rounds must be > 0\n");
        return 2;
    }

    if (pipe(pipe1) < 0 || pipe(pipe2) < 0) die("pipe");
    for (int i = 0; i < 2; i++) { set_nonblock(pipe1[i]); set_nonblock(pipe2[i]); }

    struct ev_loop *loop = ev_default_loop(0);
    if (!loop) { fprintf(stderr, "pingpong_libev: cannot init libev loop\n"); return 1; }

    ev_io_init(&watch_a, side_a_cb, pipe2[0], EV_READ);
    ev_io_init(&watch_b, side_b_cb, pipe1[0], EV_READ);
    ev_io_start(loop, &watch_a);
    ev_io_start(loop, &watch_b);

    double t0 = now_s();
    write_byte(pipe1[1]); /* side A's first ping */
    ev_run(loop, 0);
    double secs = now_s() - t0;

    ev_io_stop(loop, &watch_a);
    ev_io_stop(loop, &watch_b);

    double rate = rounds_done / secs;
    if (json) {
        printf("{\"bench\":\"wait\",\"impl\":\"c-libev\",\"rounds\":%ld,\"seconds\":%.6f,\"rate\":%.1f}\n",
               rounds_done, secs, rate);
    } else {
        printf("wait ping-pong (C libev): %.0f round trips/s\n", rate);
    }
    return 0;
}
