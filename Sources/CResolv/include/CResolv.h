#ifndef EVERGREEN_CRESOLV_H
#define EVERGREEN_CRESOLV_H

/// Sets RES_STAYOPEN in the calling thread's glibc resolver state (`_res`),
/// initialising it first, so its stub resolver keeps its UDP sockets to the
/// name servers open between lookups. `_res` is a macro Swift cannot import.
void evg_resolver_stay_open(void);

#endif
