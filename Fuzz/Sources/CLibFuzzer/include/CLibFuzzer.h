#ifndef EVERGREEN_CLIBFUZZER_H
#define EVERGREEN_CLIBFUZZER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer). Called from
/// a fuzzer's own entry point, because SwiftPM links every executable with
/// `main` defined as `<Target>_main`, which would hide libFuzzer's `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
