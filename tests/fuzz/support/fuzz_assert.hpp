// The one invariant check of the fuzz targets: abort() so libFuzzer records
// the input (assert() is compiled out in release fuzz builds).
#pragma once
#include <stdlib.h>

#define FUZZ_ASSERT(c) \
  do {                 \
    if (!(c)) abort(); \
  } while (0)
