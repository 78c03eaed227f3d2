#define _GNU_SOURCE
#include "CSockets.h"

int evg_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags) {
    return accept4(fd, address, length, flags);
}
