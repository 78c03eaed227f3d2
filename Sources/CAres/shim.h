#ifndef EVERGREEN_CARES_SHIM_H
#define EVERGREEN_CARES_SHIM_H
#include <ares.h>
#include <ares_dns.h>
#include <arpa/nameser.h>
#endif
