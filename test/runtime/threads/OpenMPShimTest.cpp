//===- OpenMPShimTest.cpp - The OpenMP runtime ABI on the thread pool -----===//
//
// Drives the shim the way LLVM's OpenMPIRBuilder output does: fork_call with
// an outlined microtask that calls global_thread_num, static_init, fini and
// barrier.
//
//===----------------------------------------------------------------------===//

#include "runtime/threads/OpenMPShim.h"
#include "runtime/threads/ThreadPool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <type_traits>
#include <vector>

using namespace kiln;

namespace {

/// Restores the global pool's size after a test changes it.
class OpenMPShimTest : public ::testing::Test {
protected:
  void SetUp() override { saved = omp_get_max_threads(); }
  void TearDown() override { omp_set_num_threads(saved); }
  int saved = 1;
};

template <typename F> kiln_omp_microtask microtask(F f) {
  return reinterpret_cast<kiln_omp_microtask>(f);
}

struct LoopShared {
  uint64_t n = 0;
  std::vector<std::atomic<int>> hits;
  std::atomic<int> lastIterations{0};
  std::atomic<int> failures{0};
  std::atomic<int> teamSize{0};
  std::mutex mutex;
  std::set<int32_t> gtids;
  std::set<int32_t> btids;
};

void loopTask(int32_t *gtidPtr, int32_t *btidPtr, void *arg) {
  auto *shared = static_cast<LoopShared *>(arg);
  int32_t gtid = *gtidPtr;
  if (gtid != __kmpc_global_thread_num(nullptr) ||
      *btidPtr != omp_get_thread_num())
    ++shared->failures;
  {
    std::lock_guard<std::mutex> lock(shared->mutex);
    shared->gtids.insert(gtid);
    shared->btids.insert(*btidPtr);
  }
  shared->teamSize = omp_get_num_threads();

  // What OpenMPIRBuilder emits for `for i in [0, n)`: inclusive bounds.
  uint64_t lower = 0, upper = shared->n - 1;
  int64_t stride = 1;
  int32_t last = 0;
  __kmpc_for_static_init_8u(nullptr, gtid, 34, &last, &lower, &upper, &stride,
                            1, 0);
  for (uint64_t i = lower; i <= upper && i < shared->n; ++i)
    shared->hits[i].fetch_add(1);
  if (last)
    ++shared->lastIterations;
  __kmpc_for_static_fini(nullptr, gtid);
  __kmpc_barrier(nullptr, gtid);
  // After the barrier every iteration of every thread is done.
  for (uint64_t i = 0; i < shared->n; ++i)
    if (shared->hits[i].load() != 1)
      ++shared->failures;
}

} // namespace

TEST_F(OpenMPShimTest, ForkCallRunsEveryIterationOnce) {
  for (int threads : {1, 2, 3, 4, 7}) {
    omp_set_num_threads(threads);
    EXPECT_EQ(omp_get_max_threads(), threads);
    for (uint64_t n : {1, 2, 3, 5, 8, 100, 1001}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + ", n " +
                   std::to_string(n));
      LoopShared shared;
      shared.n = n;
      shared.hits = std::vector<std::atomic<int>>(n);
      __kmpc_fork_call(nullptr, 1, microtask(loopTask), &shared);
      EXPECT_EQ(shared.failures.load(), 0);
      EXPECT_EQ(shared.lastIterations.load(), 1);
      EXPECT_EQ(shared.teamSize.load(), threads);
      // Global ids are unique per thread; bound ids are 0..n-1.
      EXPECT_EQ(shared.gtids.size(), static_cast<size_t>(threads));
      EXPECT_EQ(shared.btids.size(), static_cast<size_t>(threads));
      EXPECT_EQ(*shared.btids.rbegin(), threads - 1);
      for (uint64_t i = 0; i < n; ++i)
        ASSERT_EQ(shared.hits[i].load(), 1);
    }
  }
  EXPECT_EQ(omp_get_num_threads(), 1);
  EXPECT_EQ(omp_get_thread_num(), 0);
}

TEST_F(OpenMPShimTest, PushNumThreadsAppliesToTheNextForkOnly) {
  omp_set_num_threads(2);
  std::atomic<int> size{0};
  auto task = [](int32_t *, int32_t *, void *arg) {
    static_cast<std::atomic<int> *>(arg)->store(omp_get_num_threads());
  };
  void (*fn)(int32_t *, int32_t *, void *) = task;
  int32_t gtid = __kmpc_global_thread_num(nullptr);
  __kmpc_push_num_threads(nullptr, gtid, 5);
  __kmpc_fork_call(nullptr, 1, microtask(fn), &size);
  EXPECT_EQ(size.load(), 5);
  __kmpc_fork_call(nullptr, 1, microtask(fn), &size);
  EXPECT_EQ(size.load(), 2);
}

TEST_F(OpenMPShimTest, NestedForkIsSerialized) {
  omp_set_num_threads(4);
  struct Shared {
    std::atomic<int> inner{0};
    std::atomic<int> failures{0};
  } shared;
  auto inner = [](int32_t *, int32_t *btid, void *arg) {
    auto *s = static_cast<Shared *>(arg);
    if (omp_get_num_threads() != 1 || *btid != 0)
      ++s->failures;
    // A static loop in a team of one covers the whole range.
    int32_t lower = 0, upper = 9, stride = 0, last = 0;
    __kmpc_for_static_init_4(nullptr, 0, 34, &last, &lower, &upper, &stride, 1,
                             0);
    if (lower != 0 || upper != 9 || !last || stride != 10)
      ++s->failures;
    __kmpc_barrier(nullptr, 0); // Must not wait for the outer team.
    ++s->inner;
  };
  auto outer = [](int32_t *, int32_t *btid, void *arg, void *innerFn) {
    auto *s = static_cast<Shared *>(arg);
    int index = *btid;
    __kmpc_fork_call(nullptr, 1, reinterpret_cast<kiln_omp_microtask>(innerFn),
                     arg);
    if (omp_get_num_threads() != 4 || omp_get_thread_num() != index)
      ++s->failures;
  };
  void (*innerFn)(int32_t *, int32_t *, void *) = inner;
  void (*outerFn)(int32_t *, int32_t *, void *, void *) = outer;
  __kmpc_fork_call(nullptr, 2, microtask(outerFn), &shared,
                   reinterpret_cast<void *>(innerFn));
  EXPECT_EQ(shared.inner.load(), 4);
  EXPECT_EQ(shared.failures.load(), 0);
}

namespace {
std::atomic<int> sixteenFailures{0};
void sixteenArgs(int32_t *, int32_t *, void *a0, void *a1, void *a2, void *a3,
                 void *a4, void *a5, void *a6, void *a7, void *a8, void *a9,
                 void *a10, void *a11, void *a12, void *a13, void *a14,
                 void *a15) {
  void *args[16] = {a0, a1, a2,  a3,  a4,  a5,  a6,  a7,
                    a8, a9, a10, a11, a12, a13, a14, a15};
  for (int i = 0; i < 16; ++i)
    if (*static_cast<int *>(args[i]) != i * 10)
      ++sixteenFailures;
}
} // namespace

TEST_F(OpenMPShimTest, SixteenArguments) {
  omp_set_num_threads(3);
  int v[16];
  for (int i = 0; i < 16; ++i)
    v[i] = i * 10;
  __kmpc_fork_call(nullptr, 16, microtask(sixteenArgs), &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10],
                   &v[11], &v[12], &v[13], &v[14], &v[15]);
  EXPECT_EQ(sixteenFailures.load(), 0);
}

TEST_F(OpenMPShimTest, ZeroArguments) {
  omp_set_num_threads(2);
  static std::atomic<int> calls{0};
  calls = 0;
  auto task = [](int32_t *, int32_t *) { ++calls; };
  void (*fn)(int32_t *, int32_t *) = task;
  __kmpc_fork_call(nullptr, 0, microtask(fn));
  EXPECT_EQ(calls.load(), 2);
}

TEST_F(OpenMPShimTest, SerializedParallel) {
  omp_set_num_threads(4);
  int32_t gtid = __kmpc_global_thread_num(nullptr);
  __kmpc_serialized_parallel(nullptr, gtid);
  EXPECT_EQ(omp_get_num_threads(), 1);
  int64_t lower = 3, upper = 12, stride = 0;
  int32_t last = 0;
  __kmpc_for_static_init_8(nullptr, gtid, 34, &last, &lower, &upper, &stride, 1,
                           0);
  EXPECT_EQ(lower, 3);
  EXPECT_EQ(upper, 12);
  EXPECT_EQ(stride, 10);
  EXPECT_EQ(last, 1);
  __kmpc_barrier(nullptr, gtid);
  __kmpc_end_serialized_parallel(nullptr, gtid);

  // fork_call_if with a false condition runs on the caller.
  static std::atomic<int> size{0};
  auto task = [](int32_t *, int32_t *, void *) {
    size = omp_get_num_threads();
  };
  void (*fn)(int32_t *, int32_t *, void *) = task;
  __kmpc_fork_call_if(nullptr, 1, microtask(fn), 0, nullptr);
  EXPECT_EQ(size.load(), 1);
  __kmpc_fork_call_if(nullptr, 1, microtask(fn), 1, nullptr);
  EXPECT_EQ(size.load(), 4);
}

TEST_F(OpenMPShimTest, ZeroTripLoop) {
  int32_t lower = 5, upper = 4, stride = 0, last = 7;
  __kmpc_for_static_init_4(nullptr, 0, 34, &last, &lower, &upper, &stride, 1,
                           0);
  EXPECT_EQ(lower, 5);
  EXPECT_EQ(upper, 4);
  EXPECT_EQ(last, 0);
}

namespace {

/// Runs the static_init variant `init` in teams of 1..9 and checks that the
/// threads' shares partition the serial iteration space, and that the thread
/// running the last iteration alone gets *lastIter.
template <typename T, typename Init>
void checkPartition(Init init, int32_t schedule, T lower, T upper,
                    std::make_signed_t<T> incr, std::make_signed_t<T> chunk) {
  using ST = std::make_signed_t<T>;
  std::vector<T> expected;
  for (T i = lower; incr > 0 ? i <= upper : i >= upper; i += incr)
    expected.push_back(i);
  for (int nth = 1; nth <= 9; ++nth) {
    SCOPED_TRACE("team of " + std::to_string(nth));
    std::mutex mutex;
    std::vector<T> done;
    std::vector<int> lastOwners, lastRunners;
    ThreadPool pool(nth);
    pool.run(nth, [&](int tid, int) {
      T lo = lower, up = upper;
      ST stride = 0;
      int32_t last = 0;
      init(schedule, &last, &lo, &up, &stride, incr, chunk);
      std::vector<T> mine;
      if (schedule == 33) {
        // Chunked: [lo, up] advances by stride until past the end.
        for (T blockLo = lo, blockUp = up;
             incr > 0 ? blockLo <= upper : blockLo >= upper;
             blockLo += stride, blockUp += stride) {
          T end =
              incr > 0 ? std::min(blockUp, upper) : std::max(blockUp, upper);
          for (T i = blockLo; incr > 0 ? i <= end : i >= end; i += incr)
            mine.push_back(i);
          if (incr > 0 ? blockUp >= upper : blockUp <= upper)
            break;
        }
      } else if (incr > 0 ? lo <= up : lo >= up) {
        // Like generated code: a trip count from the returned bounds.
        using UT = std::make_unsigned_t<T>;
        UT span = incr > 0 ? UT(up) - UT(lo) : UT(lo) - UT(up);
        UT step = incr > 0 ? UT(incr) : UT(0) - UT(incr);
        UT count = span / step + 1;
        for (UT k = 0; k < count; ++k)
          mine.push_back(static_cast<T>(UT(lo) + k * UT(incr)));
      }
      std::lock_guard<std::mutex> lock(mutex);
      done.insert(done.end(), mine.begin(), mine.end());
      if (last)
        lastOwners.push_back(tid);
      if (!mine.empty() && mine.back() == expected.back())
        lastRunners.push_back(tid);
    });
    std::sort(done.begin(), done.end());
    std::vector<T> sortedExpected = expected;
    std::sort(sortedExpected.begin(), sortedExpected.end());
    EXPECT_EQ(done, sortedExpected);
    EXPECT_EQ(lastOwners, lastRunners);
    EXPECT_EQ(lastOwners.size(), 1u);
  }
}

} // namespace

TEST_F(OpenMPShimTest, StaticInitVariantsPartitionTheRange) {
  auto init4 = [](int32_t s, int32_t *l, int32_t *lo, int32_t *up, int32_t *st,
                  int32_t inc, int32_t ch) {
    __kmpc_for_static_init_4(nullptr, 0, s, l, lo, up, st, inc, ch);
  };
  auto init4u = [](int32_t s, int32_t *l, uint32_t *lo, uint32_t *up,
                   int32_t *st, int32_t inc, int32_t ch) {
    __kmpc_for_static_init_4u(nullptr, 0, s, l, lo, up, st, inc, ch);
  };
  auto init8 = [](int32_t s, int32_t *l, int64_t *lo, int64_t *up, int64_t *st,
                  int64_t inc, int64_t ch) {
    __kmpc_for_static_init_8(nullptr, 0, s, l, lo, up, st, inc, ch);
  };
  auto init8u = [](int32_t s, int32_t *l, uint64_t *lo, uint64_t *up,
                   int64_t *st, int64_t inc, int64_t ch) {
    __kmpc_for_static_init_8u(nullptr, 0, s, l, lo, up, st, inc, ch);
  };
  for (int32_t schedule : {34, 33}) {
    SCOPED_TRACE("schedule " + std::to_string(schedule));
    checkPartition<int32_t>(init4, schedule, -10, 10, 3, 2);
    checkPartition<int32_t>(init4, schedule, 10, -10, -1, 3);
    checkPartition<int32_t>(init4, schedule, 0, 4, 1, 1);
    checkPartition<uint32_t>(init4u, schedule, 5, 100, 7, 2);
    checkPartition<int64_t>(init8, schedule, -1000000000000LL, 1000, 999999999,
                            4);
    checkPartition<int64_t>(init8, schedule, 50, -3, -4, 1);
    checkPartition<uint64_t>(init8u, schedule, 0, 1ULL << 40, 1LL << 36, 3);
    checkPartition<uint64_t>(init8u, schedule, 0, 0, 1, 1);
  }
}

TEST_F(OpenMPShimTest, ReductionsAndCriticalSections) {
  omp_set_num_threads(4);
  struct Shared {
    int64_t sum = 0; // Plain: guarded by the reduction protocol.
    int64_t count = 0;
  } shared;
  auto task = [](int32_t *gtid, int32_t *btid, void *arg) {
    auto *s = static_cast<Shared *>(arg);
    int64_t local = *btid + 1;
    kiln_omp_critical_name lock = {};
    if (__kmpc_reduce(nullptr, *gtid, 1, sizeof local, &local, nullptr,
                      &lock) == 1) {
      s->sum += local;
      __kmpc_end_reduce(nullptr, *gtid, &lock);
    }
    __kmpc_critical(nullptr, *gtid, &lock);
    ++s->count;
    __kmpc_end_critical(nullptr, *gtid, &lock);
  };
  void (*fn)(int32_t *, int32_t *, void *) = task;
  __kmpc_fork_call(nullptr, 1, microtask(fn), &shared);
  EXPECT_EQ(shared.sum, 1 + 2 + 3 + 4);
  EXPECT_EQ(shared.count, 4);
}
