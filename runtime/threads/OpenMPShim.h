//===- OpenMPShim.h - The OpenMP runtime ABI on the pool ------ -*- C++ -*-===//
//
// Declarations of the libomp entry points that OpenMPShim.cpp implements on
// kiln::ThreadPool. Generated code calls them by name; this header exists for
// tests and for runtime code written in C or C++.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_THREADS_OPENMPSHIM_H
#define KILN_RUNTIME_THREADS_OPENMPSHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// libomp's source-location descriptor; only passed through.
typedef struct kiln_omp_ident kiln_omp_ident;
/// Outlined parallel region: (global tid, bound tid, shared args...).
typedef void (*kiln_omp_microtask)(int32_t *gtid, int32_t *btid, ...);
/// Storage libomp reserves per named critical section; unused here.
typedef int32_t kiln_omp_critical_name[8];

int32_t __kmpc_global_thread_num(kiln_omp_ident *loc);
/// Runs `microtask` with `argc` (at most 16) pointer arguments on a team.
void __kmpc_fork_call(kiln_omp_ident *loc, int32_t argc,
                      kiln_omp_microtask microtask, ...);
void __kmpc_fork_call_if(kiln_omp_ident *loc, int32_t argc,
                         kiln_omp_microtask microtask, int32_t cond, void *arg);
void __kmpc_push_num_threads(kiln_omp_ident *loc, int32_t gtid,
                             int32_t numThreads);
void __kmpc_push_proc_bind(kiln_omp_ident *loc, int32_t gtid, int32_t procBind);
void __kmpc_serialized_parallel(kiln_omp_ident *loc, int32_t gtid);
void __kmpc_end_serialized_parallel(kiln_omp_ident *loc, int32_t gtid);

/// Static worksharing: narrows the inclusive [*lower, *upper] to this
/// thread's share. schedule 34 (static) or 33 (static, chunked).
void __kmpc_for_static_init_4(kiln_omp_ident *loc, int32_t gtid,
                              int32_t schedule, int32_t *lastIter,
                              int32_t *lower, int32_t *upper, int32_t *stride,
                              int32_t incr, int32_t chunk);
void __kmpc_for_static_init_4u(kiln_omp_ident *loc, int32_t gtid,
                               int32_t schedule, int32_t *lastIter,
                               uint32_t *lower, uint32_t *upper,
                               int32_t *stride, int32_t incr, int32_t chunk);
void __kmpc_for_static_init_8(kiln_omp_ident *loc, int32_t gtid,
                              int32_t schedule, int32_t *lastIter,
                              int64_t *lower, int64_t *upper, int64_t *stride,
                              int64_t incr, int64_t chunk);
void __kmpc_for_static_init_8u(kiln_omp_ident *loc, int32_t gtid,
                               int32_t schedule, int32_t *lastIter,
                               uint64_t *lower, uint64_t *upper,
                               int64_t *stride, int64_t incr, int64_t chunk);
void __kmpc_for_static_fini(kiln_omp_ident *loc, int32_t gtid);
void __kmpc_barrier(kiln_omp_ident *loc, int32_t gtid);

int32_t __kmpc_master(kiln_omp_ident *loc, int32_t gtid);
void __kmpc_end_master(kiln_omp_ident *loc, int32_t gtid);
int32_t __kmpc_masked(kiln_omp_ident *loc, int32_t gtid, int32_t filter);
void __kmpc_end_masked(kiln_omp_ident *loc, int32_t gtid);
void __kmpc_critical(kiln_omp_ident *loc, int32_t gtid,
                     kiln_omp_critical_name *lock);
void __kmpc_end_critical(kiln_omp_ident *loc, int32_t gtid,
                         kiln_omp_critical_name *lock);
void __kmpc_flush(kiln_omp_ident *loc);
/// Reductions use the critical-section method: always return 1.
int32_t __kmpc_reduce_nowait(kiln_omp_ident *loc, int32_t gtid, int32_t numVars,
                             size_t size, void *data,
                             void (*reduce)(void *, void *),
                             kiln_omp_critical_name *lock);
void __kmpc_end_reduce_nowait(kiln_omp_ident *loc, int32_t gtid,
                              kiln_omp_critical_name *lock);
int32_t __kmpc_reduce(kiln_omp_ident *loc, int32_t gtid, int32_t numVars,
                      size_t size, void *data, void (*reduce)(void *, void *),
                      kiln_omp_critical_name *lock);
void __kmpc_end_reduce(kiln_omp_ident *loc, int32_t gtid,
                       kiln_omp_critical_name *lock);

int omp_get_thread_num(void);
int omp_get_num_threads(void);
int omp_get_max_threads(void);
void omp_set_num_threads(int numThreads);
int omp_in_parallel(void);
int omp_get_num_procs(void);
double omp_get_wtime(void);

#ifdef __cplusplus
} // extern "C"
#endif

#endif // KILN_RUNTIME_THREADS_OPENMPSHIM_H
