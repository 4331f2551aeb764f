#include "MallocTuning.h"

#include <stdlib.h> /* defines __GLIBC__ on glibc */

#if defined(__GLIBC__)
#include <malloc.h>

int batch_malloc_tune(void) {
    return mallopt(M_ARENA_MAX, 1) && mallopt(M_TOP_PAD, 8 << 20);
}
#else
int batch_malloc_tune(void) { return 0; }
#endif
