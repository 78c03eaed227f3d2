#ifndef EVERGREEN_CSOCKETS_H
#define EVERGREEN_CSOCKETS_H
#include <sys/socket.h>

/// accept4(2): declared only under _GNU_SOURCE, which Swift's Glibc module
/// does not define.
int evg_accept4(int fd, struct sockaddr *address, socklen_t *length, int flags);

#endif
