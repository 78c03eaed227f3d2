#ifndef EVERGREEN_IDN2_SHIM_H
#define EVERGREEN_IDN2_SHIM_H
#include <idn2.h>
#endif
