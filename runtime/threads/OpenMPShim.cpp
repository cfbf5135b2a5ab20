//===- OpenMPShim.cpp - The OpenMP runtime ABI on Kiln's thread pool ------===//
//
// Generated kernels parallelize loops the way LLVM's OpenMPIRBuilder lowers
// them: calls into libomp's `__kmpc_*` entry points. Linking libomp would give
// every executable a second thread pool fighting ours for the cores, so the
// subset that code generation emits is implemented here on kiln::ThreadPool.
// Semantics follow libomp (static schedules are libomp's "balanced" ones), so
// objects built for libomp behave the same.
//
//===----------------------------------------------------------------------===//

#include "runtime/threads/OpenMPShim.h"
#include "runtime/threads/ThreadPool.h"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdarg>
#include <mutex>
#include <type_traits>
#include <utility>

using kiln::ThreadPool;

namespace {

// libomp's schedule kinds that static_init accepts.
constexpr int32_t kSchedStaticChunked = 33;
constexpr int32_t kSchedStatic = 34;
constexpr int32_t kSchedStaticBalancedChunked = 45;
// "distribute" variants are the same kinds offset by 58 (kmp_distribute_*);
// with a single team they behave like the plain ones.
constexpr int32_t kDistributeOffset = 91 - 33;

constexpr int kMaxMicrotaskArgs = 16;

/// Global thread ids: unique per thread, handed out on first use.
std::atomic<int32_t> nextGlobalThreadId{0};
thread_local int32_t globalThreadId = -1;

int32_t currentGlobalThreadId() {
  if (globalThreadId < 0)
    globalThreadId = nextGlobalThreadId.fetch_add(1);
  return globalThreadId;
}

/// Team size requested by __kmpc_push_num_threads for the next fork on this
/// thread; 0 when none.
thread_local int pushedNumThreads = 0;

using Microtask = void (*)(int32_t *, int32_t *, ...);

template <size_t> using VoidPtr = void *;

/// Calls `task` with exactly N pointer arguments. The outlined function is
/// not variadic, so it must be called through a pointer of its real type.
template <size_t... I>
void invokeWith(Microtask task, int32_t *gtid, int32_t *btid, void **args,
                std::index_sequence<I...>) {
  using Fn = void (*)(int32_t *, int32_t *, VoidPtr<I>...);
  reinterpret_cast<Fn>(task)(gtid, btid, args[I]...);
}

template <size_t N>
void invokeN(Microtask task, int32_t *gtid, int32_t *btid, void **args) {
  invokeWith(task, gtid, btid, args, std::make_index_sequence<N>());
}

using Invoker = void (*)(Microtask, int32_t *, int32_t *, void **);

template <size_t... N>
constexpr std::array<Invoker, sizeof...(N)>
makeInvokerTable(std::index_sequence<N...>) {
  return {{&invokeN<N>...}};
}

void invokeMicrotask(Microtask task, int32_t argc, void **args) {
  static constexpr auto table =
      makeInvokerTable(std::make_index_sequence<kMaxMicrotaskArgs + 1>());
  int32_t gtid = currentGlobalThreadId();
  int32_t btid = ThreadPool::threadIndex();
  table[argc](task, &gtid, &btid, args);
}

struct ForkContext {
  Microtask task;
  int32_t argc;
  void **args;
};

void forkMicrotask(Microtask task, int32_t argc, void **args) {
  int teamSize = pushedNumThreads;
  pushedNumThreads = 0;
  ForkContext context{task, argc, args};
  // Nested forks run serialized inside runTeam.
  ThreadPool::global().runTeam(
      teamSize,
      [](void *ctx, int, int) {
        auto *fork = static_cast<ForkContext *>(ctx);
        invokeMicrotask(fork->task, fork->argc, fork->args);
      },
      &context);
}

/// libomp's __kmp_for_static_init for T in {int32, uint32, int64, uint64}.
template <typename T>
void staticInit(int32_t schedule, int32_t *lastIter, T *lower, T *upper,
                std::make_signed_t<T> *stride, std::make_signed_t<T> incr,
                std::make_signed_t<T> chunk) {
  using UT = std::make_unsigned_t<T>;
  using ST = std::make_signed_t<T>;

  // Zero-trip loop: leave the bounds alone so the loop does not run.
  if (incr > 0 ? (*upper < *lower) : (*lower < *upper)) {
    if (lastIter)
      *lastIter = 0;
    *stride = incr;
    return;
  }

  UT nth = static_cast<UT>(ThreadPool::teamSize());
  UT tid = static_cast<UT>(ThreadPool::threadIndex());
  if (nth <= 1) {
    // A team of one runs the whole range.
    if (lastIter)
      *lastIter = 1;
    *stride = incr > 0 ? static_cast<ST>(*upper - *lower + 1)
                       : static_cast<ST>(-(*lower - *upper + 1));
    return;
  }

  // Computed in the unsigned type: upper - lower may not fit the signed one.
  UT tripCount;
  if (incr == 1)
    tripCount = static_cast<UT>(*upper - *lower) + 1;
  else if (incr == -1)
    tripCount = static_cast<UT>(*lower - *upper) + 1;
  else if (incr > 0)
    tripCount = static_cast<UT>(*upper - *lower) / static_cast<UT>(incr) + 1;
  else
    tripCount =
        static_cast<UT>(*lower - *upper) / (UT(0) - static_cast<UT>(incr)) + 1;

  // Drop the monotonic/nonmonotonic modifier bits.
  schedule &= ~(int32_t(3) << 29);
  if (schedule >= kSchedStaticChunked + kDistributeOffset)
    schedule -= kDistributeOffset;

  switch (schedule) {
  case kSchedStaticChunked: {
    if (chunk < 1)
      chunk = 1;
    ST span = chunk * incr;
    *stride = span * static_cast<ST>(nth);
    *lower = *lower + static_cast<T>(span * static_cast<ST>(tid));
    *upper = *lower + static_cast<T>(span - incr);
    if (lastIter)
      *lastIter = tid == ((tripCount - 1) / static_cast<UT>(chunk)) % nth;
    return;
  }
  case kSchedStaticBalancedChunked: {
    // Equal blocks rounded up to a multiple of the (power of two) chunk.
    T oldUpper = *upper;
    UT span = (tripCount + nth - 1) / nth;
    UT c = chunk < 1 ? 1 : static_cast<UT>(chunk);
    c = (span + c - 1) & ~(c - 1);
    ST step = static_cast<ST>(c) * incr;
    *lower = *lower + static_cast<T>(step * static_cast<ST>(tid));
    *upper = *lower + static_cast<T>(step - incr);
    if (incr > 0 ? *upper > oldUpper : *upper < oldUpper)
      *upper = oldUpper;
    if (lastIter)
      *lastIter = tid == (tripCount - 1) / c;
    *stride = step * static_cast<ST>(nth);
    return;
  }
  case kSchedStatic:
  default: {
    // Balanced blocks: the first tripCount % nth threads get one more.
    if (tripCount < nth) {
      if (tid < tripCount)
        *upper = *lower = *lower + static_cast<T>(static_cast<ST>(tid) * incr);
      else
        *lower = *upper + static_cast<T>(incr); // An empty range.
      if (lastIter)
        *lastIter = tid == tripCount - 1;
    } else {
      UT small = tripCount / nth;
      UT extras = tripCount % nth;
      *lower += static_cast<T>(
          incr * static_cast<ST>(tid * small + (tid < extras ? tid : extras)));
      *upper = *lower + static_cast<T>(static_cast<ST>(small) * incr) -
               static_cast<T>(tid < extras ? 0 : incr);
      if (lastIter)
        *lastIter = tid == nth - 1;
    }
    *stride = static_cast<ST>(tripCount);
    return;
  }
  }
}

/// Lock used by critical sections and the critical-section reductions.
std::recursive_mutex &criticalMutex() {
  static std::recursive_mutex mutex;
  return mutex;
}

} // namespace

extern "C" {

int32_t __kmpc_global_thread_num(kiln_omp_ident *) {
  return currentGlobalThreadId();
}

void __kmpc_fork_call(kiln_omp_ident *, int32_t argc,
                      kiln_omp_microtask microtask, ...) {
  void *args[kMaxMicrotaskArgs] = {};
  if (argc < 0)
    argc = 0;
  if (argc > kMaxMicrotaskArgs)
    argc = kMaxMicrotaskArgs; // Code generation never passes more.
  va_list ap;
  va_start(ap, microtask);
  for (int32_t i = 0; i < argc; ++i)
    args[i] = va_arg(ap, void *);
  va_end(ap);
  forkMicrotask(reinterpret_cast<Microtask>(microtask), argc, args);
}

void __kmpc_fork_call_if(kiln_omp_ident *loc, int32_t argc,
                         kiln_omp_microtask microtask, int32_t cond,
                         void *arg) {
  // Newer OpenMPIRBuilder output for `if` clauses: one aggregate argument.
  void *args[1] = {arg};
  int32_t count = arg ? 1 : 0;
  if (argc < count)
    count = argc < 0 ? 0 : argc;
  if (cond) {
    forkMicrotask(reinterpret_cast<Microtask>(microtask), count, args);
    return;
  }
  int32_t gtid = currentGlobalThreadId();
  __kmpc_serialized_parallel(loc, gtid);
  invokeMicrotask(reinterpret_cast<Microtask>(microtask), count, args);
  __kmpc_end_serialized_parallel(loc, gtid);
}

void __kmpc_push_num_threads(kiln_omp_ident *, int32_t, int32_t numThreads) {
  pushedNumThreads = numThreads > 0 ? numThreads : 0;
}

void __kmpc_push_proc_bind(kiln_omp_ident *, int32_t, int32_t) {}

void __kmpc_serialized_parallel(kiln_omp_ident *, int32_t) {
  pushedNumThreads = 0; // The push applied to this region.
  ThreadPool::beginSerialRegion();
}

void __kmpc_end_serialized_parallel(kiln_omp_ident *, int32_t) {
  ThreadPool::endSerialRegion();
}

void __kmpc_for_static_init_4(kiln_omp_ident *, int32_t, int32_t schedule,
                              int32_t *lastIter, int32_t *lower, int32_t *upper,
                              int32_t *stride, int32_t incr, int32_t chunk) {
  staticInit<int32_t>(schedule, lastIter, lower, upper, stride, incr, chunk);
}

void __kmpc_for_static_init_4u(kiln_omp_ident *, int32_t, int32_t schedule,
                               int32_t *lastIter, uint32_t *lower,
                               uint32_t *upper, int32_t *stride, int32_t incr,
                               int32_t chunk) {
  staticInit<uint32_t>(schedule, lastIter, lower, upper, stride, incr, chunk);
}

void __kmpc_for_static_init_8(kiln_omp_ident *, int32_t, int32_t schedule,
                              int32_t *lastIter, int64_t *lower, int64_t *upper,
                              int64_t *stride, int64_t incr, int64_t chunk) {
  staticInit<int64_t>(schedule, lastIter, lower, upper, stride, incr, chunk);
}

void __kmpc_for_static_init_8u(kiln_omp_ident *, int32_t, int32_t schedule,
                               int32_t *lastIter, uint64_t *lower,
                               uint64_t *upper, int64_t *stride, int64_t incr,
                               int64_t chunk) {
  staticInit<uint64_t>(schedule, lastIter, lower, upper, stride, incr, chunk);
}

void __kmpc_for_static_fini(kiln_omp_ident *, int32_t) {}

void __kmpc_barrier(kiln_omp_ident *, int32_t) { ThreadPool::barrier(); }

int32_t __kmpc_master(kiln_omp_ident *, int32_t) {
  return ThreadPool::threadIndex() == 0;
}

void __kmpc_end_master(kiln_omp_ident *, int32_t) {}

int32_t __kmpc_masked(kiln_omp_ident *, int32_t, int32_t filter) {
  return ThreadPool::threadIndex() == filter;
}

void __kmpc_end_masked(kiln_omp_ident *, int32_t) {}

void __kmpc_critical(kiln_omp_ident *, int32_t, kiln_omp_critical_name *) {
  criticalMutex().lock();
}

void __kmpc_end_critical(kiln_omp_ident *, int32_t, kiln_omp_critical_name *) {
  criticalMutex().unlock();
}

void __kmpc_flush(kiln_omp_ident *) {
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

int32_t __kmpc_reduce_nowait(kiln_omp_ident *, int32_t, int32_t, size_t, void *,
                             void (*)(void *, void *),
                             kiln_omp_critical_name *) {
  // The critical-section method: each thread folds its partial result into
  // the shared one under the lock (return value 1), released by end_reduce.
  criticalMutex().lock();
  return 1;
}

void __kmpc_end_reduce_nowait(kiln_omp_ident *, int32_t,
                              kiln_omp_critical_name *) {
  criticalMutex().unlock();
}

int32_t __kmpc_reduce(kiln_omp_ident *loc, int32_t gtid, int32_t numVars,
                      size_t size, void *data, void (*fn)(void *, void *),
                      kiln_omp_critical_name *lock) {
  return __kmpc_reduce_nowait(loc, gtid, numVars, size, data, fn, lock);
}

void __kmpc_end_reduce(kiln_omp_ident *loc, int32_t gtid,
                       kiln_omp_critical_name *lock) {
  __kmpc_end_reduce_nowait(loc, gtid, lock);
  // The blocking form ends with every thread seeing the combined result.
  ThreadPool::barrier();
}

int omp_get_thread_num(void) { return ThreadPool::threadIndex(); }

int omp_get_num_threads(void) { return ThreadPool::teamSize(); }

int omp_get_max_threads(void) { return ThreadPool::global().numThreads(); }

void omp_set_num_threads(int numThreads) {
  ThreadPool::global().setNumThreads(numThreads);
}

int omp_in_parallel(void) { return ThreadPool::teamSize() > 1; }

int omp_get_num_procs(void) { return ThreadPool::defaultNumThreads(); }

double omp_get_wtime(void) {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

} // extern "C"
