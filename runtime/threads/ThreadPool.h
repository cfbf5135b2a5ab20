//===- ThreadPool.h - The runtime's one thread pool -------------*- C++ -*-===//
//
// Every parallel loop of a generated model runs on one pool of persistent
// worker threads: kernels reach it through the OpenMP runtime ABI
// (OpenMPShim.cpp), runtime code through parallelFor. A parallel region runs a
// function on a team of threads, the calling thread being thread 0. Regions
// started from inside a region run serialized on the calling thread (a team of
// one), so nesting never deadlocks or oversubscribes the machine.
//
// Idle workers spin briefly, then sleep on a condition variable: back-to-back
// kernels pay no wake-up latency, an idle process burns no CPU.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_THREADS_THREADPOOL_H
#define KILN_RUNTIME_THREADS_THREADPOOL_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

namespace kiln {

class ThreadPool {
public:
  /// Work run by each team member: `threadIndex` in [0, teamSize).
  using TeamFunction = void (*)(void *context, int threadIndex, int teamSize);

  /// The largest team the pool builds.
  static constexpr int kMaxThreads = 1024;

  /// A pool whose regions use `numThreads` threads (<= 0: the default).
  /// Workers start on first use.
  explicit ThreadPool(int numThreads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool &) = delete;
  ThreadPool &operator=(const ThreadPool &) = delete;

  /// The process-wide pool shared by kernels and the runtime.
  static ThreadPool &global();
  /// KILN_NUM_THREADS if set to a positive integer, else the number of CPUs
  /// this process may run on.
  static int defaultNumThreads();

  /// Team size of later regions.
  int numThreads() const { return configuredThreads.load(); }
  /// Sets the team size of later regions (clamped to [1, kMaxThreads]).
  void setNumThreads(int numThreads);

  /// Runs fn(context, i, size) for i in [0, size) on a team of `teamSize`
  /// threads (<= 0: numThreads()) and returns when all are done. Inside a
  /// region, or with a team of one, runs fn(context, 0, 1) on this thread.
  /// If fn throws, the first exception is rethrown here after the team ends.
  void runTeam(int teamSize, TeamFunction fn, void *context);

  /// runTeam for any callable f(int threadIndex, int teamSize).
  template <typename F> void run(int teamSize, F &&f) {
    runTeam(
        teamSize,
        [](void *context, int index, int size) {
          (*static_cast<std::remove_reference_t<F> *>(context))(index, size);
        },
        const_cast<void *>(static_cast<const void *>(&f)));
  }

  /// Splits [0, n) into at most numThreads() contiguous blocks of at least
  /// `grain` indices and calls body(begin, end) once per non-empty block, in
  /// parallel. Every index is covered exactly once.
  void parallelFor(int64_t n, int64_t grain,
                   const std::function<void(int64_t, int64_t)> &body);
  void parallelFor(int64_t n,
                   const std::function<void(int64_t, int64_t)> &body) {
    parallelFor(n, 1, body);
  }

  // The calling thread's view of the region it is in (of any pool).

  /// True inside a region, serialized ones included.
  static bool inParallel();
  /// Index in the current team; 0 outside regions.
  static int threadIndex();
  /// Size of the current team; 1 outside regions.
  static int teamSize();
  /// Waits until every member of the current team has called barrier().
  /// A no-op in a team of one.
  static void barrier();

  /// Brackets a region that the caller runs itself as a team of one (OpenMP's
  /// __kmpc_serialized_parallel). Calls must pair up on the same thread.
  static void beginSerialRegion();
  static void endSerialRegion();

private:
  void workerMain(int workerIndex, uint64_t seen);
  void ensureWorkers(int count);
  void stopWorkers();
  void arriveAtBarrier();
  void runMember(int index, int size);

  /// Serializes regions started from different outside threads, and guards
  /// `workers`.
  std::mutex dispatchMutex;
  std::vector<std::thread> workers;
  std::atomic<int> configuredThreads;

  // The current job. Workers learn about a job from `jobWord`, holding
  // (generation << 16 | teamSize), so that reading it is one atomic load.
  TeamFunction jobFunction = nullptr;
  void *jobContext = nullptr;
  std::atomic<uint64_t> jobWord{0};
  std::atomic<int> pending{0};
  std::atomic<bool> stopping{false};
  std::atomic<int> sleepers{0};
  std::mutex wakeMutex;
  std::condition_variable wakeCondition;
  std::mutex doneMutex;
  std::condition_variable doneCondition;
  std::mutex errorMutex;
  std::exception_ptr firstError;

  // Sense-reversing barrier of the current team.
  int barrierSize = 1;
  std::atomic<int> barrierArrived{0};
  std::atomic<uint32_t> barrierPhase{0};
  std::mutex barrierMutex;
  std::condition_variable barrierCondition;
};

} // namespace kiln

#endif // KILN_RUNTIME_THREADS_THREADPOOL_H
