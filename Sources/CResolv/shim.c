#include "CResolv.h"
#include <netinet/in.h>
#include <resolv.h>

void evg_resolver_stay_open(void) {
    if (!(_res.options & RES_INIT)) {
        if (res_init() != 0) return;
    }
    _res.options |= RES_STAYOPEN;
}
