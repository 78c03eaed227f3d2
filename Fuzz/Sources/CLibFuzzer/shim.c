// SwiftPM needs a source file in a C target; the declaration is all there is.
#include "CLibFuzzer.h"
