//===- ThreadPool.cpp - The runtime's one thread pool ---------------------===//

#include "runtime/threads/ThreadPool.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <system_error>

#ifdef __linux__
#include <sched.h>
#endif

namespace kiln {

namespace {

/// What the calling thread knows about the region it runs in.
struct RegionState {
  ThreadPool *pool = nullptr; // Null in serialized regions and outside.
  int index = 0;
  int size = 1;
  int depth = 0;
};

thread_local RegionState currentRegion;
thread_local std::vector<RegionState> serialStack;

/// Restores the calling thread's region state on every exit path.
class RegionScope {
public:
  RegionScope(ThreadPool *pool, int index, int size) : saved(currentRegion) {
    currentRegion = RegionState{pool, index, size, saved.depth + 1};
  }
  ~RegionScope() { currentRegion = saved; }

private:
  RegionState saved;
};

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

int hardwareThreads() {
  static const int count = [] {
#ifdef __linux__
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
      return CPU_COUNT(&set);
#endif
    unsigned n = std::thread::hardware_concurrency();
    return n ? static_cast<int>(n) : 1;
  }();
  return count;
}

/// How long a waiting thread spins before sleeping. Spinning only pays when
/// every team member has a CPU of its own; oversubscribed teams sleep at once.
std::chrono::nanoseconds spinBudget(int teamSize) {
  if (teamSize > hardwareThreads())
    return std::chrono::nanoseconds(0);
  return std::chrono::microseconds(100);
}

/// Spins until pred() holds or `budget` has passed; returns pred().
template <typename Pred>
bool spinUntil(Pred pred, std::chrono::nanoseconds budget) {
  if (pred())
    return true;
  if (budget.count() == 0)
    return false;
  auto deadline = std::chrono::steady_clock::now() + budget;
  for (unsigned i = 1;; ++i) {
    if (pred())
      return true;
    cpuRelax();
    // Reading the clock costs more than a pause: check it now and then.
    if ((i & 63) == 0 && std::chrono::steady_clock::now() >= deadline)
      return pred();
  }
}

} // namespace

ThreadPool::ThreadPool(int numThreads)
    : configuredThreads(numThreads > 0 ? std::min(numThreads, kMaxThreads)
                                       : defaultNumThreads()) {}

ThreadPool::~ThreadPool() {
  std::lock_guard<std::mutex> lock(dispatchMutex);
  stopWorkers();
}

ThreadPool &ThreadPool::global() {
  // Never destroyed: joining workers from a static destructor at exit would
  // race with other static destructors and with threads still using the pool.
  static ThreadPool *pool = new ThreadPool();
  return *pool;
}

int ThreadPool::defaultNumThreads() {
  if (const char *env = std::getenv("KILN_NUM_THREADS")) {
    char *end = nullptr;
    long value = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && value > 0)
      return static_cast<int>(std::min<long>(value, kMaxThreads));
  }
  return std::min(hardwareThreads(), kMaxThreads);
}

void ThreadPool::setNumThreads(int numThreads) {
  numThreads = std::clamp(numThreads, 1, kMaxThreads);
  configuredThreads.store(numThreads);
  // Inside one of this pool's regions the dispatch lock is held by the team's
  // caller: only record the size then.
  if (currentRegion.pool == this || currentRegion.depth > 0)
    return;
  std::lock_guard<std::mutex> lock(dispatchMutex);
  // Surplus workers would wake on every job for nothing: let them go.
  if (static_cast<int>(workers.size()) > numThreads - 1)
    stopWorkers();
}

void ThreadPool::ensureWorkers(int count) {
  while (static_cast<int>(workers.size()) < count) {
    int index = static_cast<int>(workers.size()) + 1;
    // The worker must compare against the word as it is now, before the job
    // it is created for gets published.
    uint64_t seen = jobWord.load();
    try {
      workers.emplace_back([this, index, seen] { workerMain(index, seen); });
    } catch (const std::system_error &) {
      return; // Out of threads: run with a smaller team.
    }
  }
}

void ThreadPool::stopWorkers() {
  if (workers.empty())
    return;
  stopping.store(true);
  {
    std::lock_guard<std::mutex> lock(wakeMutex);
    wakeCondition.notify_all();
  }
  for (std::thread &worker : workers)
    worker.join();
  workers.clear();
  stopping.store(false);
}

void ThreadPool::runMember(int index, int size) {
  RegionScope scope(this, index, size);
  try {
    jobFunction(jobContext, index, size);
  } catch (...) {
    std::lock_guard<std::mutex> lock(errorMutex);
    if (!firstError)
      firstError = std::current_exception();
  }
}

void ThreadPool::workerMain(int workerIndex, uint64_t seen) {
  bool wasMember = true;
  while (true) {
    auto changed = [&] { return jobWord.load() != seen || stopping.load(); };
    // Members of the last team spin, expecting the next kernel soon; others
    // go straight to sleep.
    if (!(wasMember && spinUntil(changed, spinBudget(numThreads())))) {
      std::unique_lock<std::mutex> lock(wakeMutex);
      sleepers.fetch_add(1);
      wakeCondition.wait(lock, changed);
      sleepers.fetch_sub(1);
    }
    if (stopping.load())
      return;
    seen = jobWord.load();
    int size = static_cast<int>(seen & 0xffff);
    wasMember = workerIndex < size;
    if (!wasMember)
      continue;
    runMember(workerIndex, size);
    if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      // Taking the lock orders this notify after the caller's predicate
      // check, so the wake-up cannot be lost.
      std::lock_guard<std::mutex> lock(doneMutex);
      doneCondition.notify_one();
    }
  }
}

void ThreadPool::runTeam(int teamSize, TeamFunction fn, void *context) {
  if (teamSize <= 0)
    teamSize = numThreads();
  teamSize = std::min(teamSize, kMaxThreads);
  if (currentRegion.depth > 0 || teamSize == 1) {
    RegionScope scope(nullptr, 0, 1);
    fn(context, 0, 1);
    return;
  }

  std::lock_guard<std::mutex> lock(dispatchMutex);
  ensureWorkers(teamSize - 1);
  teamSize = std::min(teamSize, static_cast<int>(workers.size()) + 1);
  if (teamSize == 1) {
    RegionScope scope(nullptr, 0, 1);
    fn(context, 0, 1);
    return;
  }

  jobFunction = fn;
  jobContext = context;
  firstError = nullptr;
  barrierSize = teamSize;
  barrierArrived.store(0);
  pending.store(teamSize - 1);
  uint64_t generation = (jobWord.load() >> 16) + 1;
  // Sequentially consistent with the sleepers count (see workerMain): either
  // we see a sleeper and notify it, or it sees the new word before sleeping.
  jobWord.store(generation << 16 | static_cast<uint64_t>(teamSize));
  if (sleepers.load() > 0) {
    std::lock_guard<std::mutex> wakeLock(wakeMutex);
    wakeCondition.notify_all();
  }

  runMember(0, teamSize);

  auto done = [this] { return pending.load(std::memory_order_acquire) == 0; };
  if (!spinUntil(done, spinBudget(teamSize))) {
    std::unique_lock<std::mutex> doneLock(doneMutex);
    doneCondition.wait(doneLock, done);
  }
  if (firstError) {
    std::exception_ptr error = firstError;
    firstError = nullptr;
    std::rethrow_exception(error);
  }
}

void ThreadPool::parallelFor(
    int64_t n, int64_t grain,
    const std::function<void(int64_t, int64_t)> &body) {
  if (n <= 0)
    return;
  grain = std::max<int64_t>(grain, 1);
  int64_t blocks = n / grain + (n % grain != 0);
  int team = static_cast<int>(std::min<int64_t>(numThreads(), blocks));
  run(team, [&](int index, int size) {
    // Balanced contiguous blocks: the first n % size blocks get one more.
    int64_t base = n / size, extra = n % size;
    int64_t begin = index * base + std::min<int64_t>(index, extra);
    int64_t end = begin + base + (index < extra ? 1 : 0);
    if (begin < end)
      body(begin, end);
  });
}

void ThreadPool::arriveAtBarrier() {
  uint32_t phase = barrierPhase.load(std::memory_order_acquire);
  if (barrierArrived.fetch_add(1, std::memory_order_acq_rel) + 1 ==
      barrierSize) {
    // Last to arrive: reset the count before opening the barrier so that
    // threads racing ahead to the next barrier count from zero.
    barrierArrived.store(0, std::memory_order_relaxed);
    {
      std::lock_guard<std::mutex> lock(barrierMutex);
      barrierPhase.store(phase + 1, std::memory_order_release);
    }
    barrierCondition.notify_all();
    return;
  }
  auto opened = [&] {
    return barrierPhase.load(std::memory_order_acquire) != phase;
  };
  if (spinUntil(opened, spinBudget(barrierSize)))
    return;
  std::unique_lock<std::mutex> lock(barrierMutex);
  barrierCondition.wait(lock, opened);
}

bool ThreadPool::inParallel() { return currentRegion.depth > 0; }

int ThreadPool::threadIndex() { return currentRegion.index; }

int ThreadPool::teamSize() { return currentRegion.size; }

void ThreadPool::barrier() {
  if (currentRegion.pool && currentRegion.size > 1)
    currentRegion.pool->arriveAtBarrier();
}

void ThreadPool::beginSerialRegion() {
  serialStack.push_back(currentRegion);
  currentRegion = RegionState{nullptr, 0, 1, currentRegion.depth + 1};
}

void ThreadPool::endSerialRegion() {
  if (serialStack.empty())
    return; // Unpaired end: ignore rather than corrupt the state.
  currentRegion = serialStack.back();
  serialStack.pop_back();
}

} // namespace kiln
