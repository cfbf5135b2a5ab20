//===- HalideGlueTest.cpp - Halide's callbacks on Kiln's pool -------------===//

#include "runtime/threads/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <vector>

extern "C" {
typedef int (*halide_task_t)(void *, int, uint8_t *);
typedef int (*halide_loop_task_t)(void *, int, int, uint8_t *, void *);
struct halide_parallel_task_t {
  halide_loop_task_t fn;
  uint8_t *closure;
  const char *name;
  void *semaphores;
  int num_semaphores;
  int min, extent;
  int min_threads;
  bool serial;
};
int halide_do_par_for(void *, halide_task_t, int, int, uint8_t *);
int halide_do_parallel_tasks(void *, int, halide_parallel_task_t *, void *);
}

namespace {

struct Record {
  std::vector<std::atomic<int>> hits;
  std::atomic<int> onPool{0};
  explicit Record(int n) : hits(n) {}
};

int countTask(void *, int index, uint8_t *closure) {
  auto *record = reinterpret_cast<Record *>(closure);
  record->hits[index - 10]++;
  if (kiln::ThreadPool::inParallel())
    record->onPool++;
  return 0;
}

int failAtSeven(void *, int index, uint8_t *) { return index == 7 ? -3 : 0; }

TEST(HalideGlueTest, ParForRunsEveryIndexOnceOnThePool) {
  kiln::ThreadPool::global().setNumThreads(3);
  Record record(100);
  ASSERT_EQ(halide_do_par_for(nullptr, countTask, 10, 100,
                              reinterpret_cast<uint8_t *>(&record)),
            0);
  for (int i = 0; i < 100; ++i)
    EXPECT_EQ(record.hits[i].load(), 1) << i;
  // Every task ran inside a region of Kiln's pool, not on threads of its
  // own.
  EXPECT_EQ(record.onPool.load(), 100);
}

TEST(HalideGlueTest, ParForReturnsATaskFailure) {
  kiln::ThreadPool::global().setNumThreads(2);
  EXPECT_EQ(halide_do_par_for(nullptr, failAtSeven, 0, 20, nullptr), -3);
}

TEST(HalideGlueTest, ParForInsideARegionRunsSerially) {
  kiln::ThreadPool::global().setNumThreads(2);
  std::atomic<int> total{0};
  kiln::ThreadPool::global().run(2, [&](int, int) {
    Record record(5);
    EXPECT_EQ(halide_do_par_for(nullptr, countTask, 10, 5,
                                reinterpret_cast<uint8_t *>(&record)),
              0);
    for (int i = 0; i < 5; ++i)
      total += record.hits[i].load();
  });
  EXPECT_EQ(total.load(), 10);
}

int sumRange(void *, int min, int extent, uint8_t *closure, void *) {
  auto *sum = reinterpret_cast<std::atomic<int> *>(closure);
  for (int i = min; i < min + extent; ++i)
    *sum += i;
  return 0;
}

TEST(HalideGlueTest, ParallelTasksCoverTheirRanges) {
  kiln::ThreadPool::global().setNumThreads(2);
  std::atomic<int> parallelSum{0}, serialSum{0};
  halide_parallel_task_t tasks[2] = {
      {sumRange, reinterpret_cast<uint8_t *>(&parallelSum), "p", nullptr, 0, 0,
       10, 1, false},
      {sumRange, reinterpret_cast<uint8_t *>(&serialSum), "s", nullptr, 0, 5, 3,
       1, true}};
  ASSERT_EQ(halide_do_parallel_tasks(nullptr, 2, tasks, nullptr), 0);
  EXPECT_EQ(parallelSum.load(), 45);
  EXPECT_EQ(serialSum.load(), 5 + 6 + 7);
}

} // namespace
