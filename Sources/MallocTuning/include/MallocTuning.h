#ifndef BATCH_MALLOC_TUNING_H
#define BATCH_MALLOC_TUNING_H

/// Makes glibc's malloc use a single arena instead of one per busy thread (up to 8 per core).
///
/// batch builds request bodies on the run loop's thread and frees them on the HTTP event
/// thread; with an arena per thread each keeps its own slack. At 1,024 requests in flight one
/// arena gave a peak RSS about 6 MB lower (66 against 72 MB) for the same CPU time; small
/// allocations still come from glibc's per-thread caches without taking the arena lock.
/// Call before other threads start. Returns 1 if applied, 0 if not (other C libraries).
int batch_malloc_use_one_arena(void);

#endif
