#ifndef BATCH_MALLOC_TUNING_H
#define BATCH_MALLOC_TUNING_H

/// Tunes glibc's malloc for a process that keeps many requests in flight. Call before other
/// threads start. Returns 1 if applied, 0 if not (other C libraries).
///
/// - One arena instead of one per busy thread (up to 8 per core): request bodies are built on
///   the run loop's thread and freed on the HTTP event thread, and with an arena per thread each
///   keeps its own slack. One arena lowers the peak RSS at many requests in flight for the same
///   CPU time (BENCHMARKS.md); small allocations still come from glibc's per-thread caches
///   without taking the arena lock.
/// - 8 MB of top padding: freeing a 12 KB body at the top of the heap no longer shrinks it and
///   the next body no longer faults its pages back in, which saves page faults and CPU
///   (BENCHMARKS.md); peak RSS is unchanged (the padding is address space until it is used).
int batch_malloc_tune(void);

#endif
