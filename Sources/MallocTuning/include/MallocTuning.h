#ifndef BATCH_MALLOC_TUNING_H
#define BATCH_MALLOC_TUNING_H

/// Tunes glibc's malloc for a process that keeps many requests in flight. Call before other
/// threads start. Returns 1 if applied, 0 if not (other C libraries).
///
/// - One arena instead of one per busy thread (up to 8 per core): request bodies are built on
///   the run loop's thread and freed on the HTTP event thread, and with an arena per thread each
///   keeps its own slack. At 1,024 requests in flight one arena gave a peak RSS about 6-8 MB
///   lower (64-66 against 71-74 MB) for the same CPU time; small allocations still come from
///   glibc's per-thread caches without taking the arena lock.
/// - 8 MB of top padding: freeing a 12 KB body at the top of the heap no longer shrinks it and
///   the next body no longer faults its pages back in. At 16 requests in flight page faults went
///   from 16,000 to 2,000 per 1,000 rows and CPU from 0.48 to 0.41 s; peak RSS is unchanged
///   (the padding is address space until it is used).
int batch_malloc_tune(void);

#endif
