//===- ThreadPoolTest.cpp - The runtime thread pool -----------------------===//

#include "runtime/threads/ThreadPool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace kiln;

TEST(ThreadPoolTest, ParallelForCoversEveryIndexOnce) {
  for (int threads : {1, 2, 3, 4, 8, 16}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.numThreads(), threads);
    for (int64_t n : {0, 1, 2, 3, 7, 16, 17, 64, 1000, 100003}) {
      SCOPED_TRACE("threads " + std::to_string(threads) + ", n " +
                   std::to_string(n));
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      std::atomic<int> calls{0};
      pool.parallelFor(n, [&](int64_t begin, int64_t end) {
        ASSERT_LT(begin, end);
        ++calls;
        for (int64_t i = begin; i < end; ++i)
          hits[static_cast<size_t>(i)].fetch_add(1);
      });
      for (int64_t i = 0; i < n; ++i)
        ASSERT_EQ(hits[static_cast<size_t>(i)].load(), 1) << "index " << i;
      EXPECT_LE(calls.load(), threads);
      EXPECT_EQ(calls.load() > 0, n > 0);
    }
  }
}

TEST(ThreadPoolTest, GrainLimitsTheNumberOfBlocks) {
  ThreadPool pool(8);
  std::atomic<int> calls{0};
  std::vector<std::atomic<int>> hits(100);
  pool.parallelFor(100, 40, [&](int64_t begin, int64_t end) {
    ++calls;
    for (int64_t i = begin; i < end; ++i)
      hits[static_cast<size_t>(i)]++;
  });
  EXPECT_EQ(calls.load(), 3);
  for (auto &h : hits)
    EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPoolTest, TeamMembersSeeTheirIndex) {
  ThreadPool pool(4);
  std::vector<int> seen(4, -1);
  std::vector<std::thread::id> ids(4);
  pool.run(4, [&](int index, int size) {
    EXPECT_EQ(size, 4);
    EXPECT_EQ(ThreadPool::threadIndex(), index);
    EXPECT_EQ(ThreadPool::teamSize(), 4);
    EXPECT_TRUE(ThreadPool::inParallel());
    seen[static_cast<size_t>(index)] = index;
    ids[static_cast<size_t>(index)] = std::this_thread::get_id();
  });
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(seen[static_cast<size_t>(i)], i);
  // The caller is thread 0; the others are distinct workers.
  EXPECT_EQ(ids[0], std::this_thread::get_id());
  EXPECT_EQ(std::set<std::thread::id>(ids.begin(), ids.end()).size(), 4u);
  EXPECT_FALSE(ThreadPool::inParallel());
  EXPECT_EQ(ThreadPool::teamSize(), 1);
}

TEST(ThreadPoolTest, NestedRegionsRunSerialized) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(4 * 50);
  pool.run(4, [&](int outer, int) {
    std::thread::id self = std::this_thread::get_id();
    pool.parallelFor(50, [&](int64_t begin, int64_t end) {
      EXPECT_EQ(std::this_thread::get_id(), self);
      EXPECT_EQ(ThreadPool::teamSize(), 1);
      for (int64_t i = begin; i < end; ++i)
        hits[static_cast<size_t>(outer * 50 + i)]++;
    });
    // Back in the outer team.
    EXPECT_EQ(ThreadPool::teamSize(), 4);
    EXPECT_EQ(ThreadPool::threadIndex(), outer);
  });
  for (auto &h : hits)
    EXPECT_EQ(h.load(), 1);
}

TEST(ThreadPoolTest, BarrierSeparatesPhases) {
  for (int threads : {2, 3, 5}) {
    ThreadPool pool(threads);
    constexpr int kPhases = 200;
    std::vector<std::atomic<int>> slots(static_cast<size_t>(threads));
    std::atomic<int> failures{0};
    pool.run(threads, [&](int index, int size) {
      for (int phase = 1; phase <= kPhases; ++phase) {
        slots[static_cast<size_t>(index)].store(phase);
        ThreadPool::barrier();
        // Everyone has written this phase, nobody the next one yet.
        for (int other = 0; other < size; ++other)
          if (slots[static_cast<size_t>(other)].load() != phase)
            ++failures;
        ThreadPool::barrier();
      }
    });
    EXPECT_EQ(failures.load(), 0) << threads << " threads";
  }
}

TEST(ThreadPoolTest, ManySmallRegions) {
  ThreadPool pool(4);
  std::atomic<int64_t> sum{0};
  for (int round = 0; round < 3000; ++round)
    pool.run(0, [&](int index, int) { sum += index + 1; });
  EXPECT_EQ(sum.load(), 3000 * (1 + 2 + 3 + 4));
}

TEST(ThreadPoolTest, SetNumThreadsResizesTeams) {
  ThreadPool pool(2);
  for (int threads : {6, 1, 3, 8, 2}) {
    pool.setNumThreads(threads);
    EXPECT_EQ(pool.numThreads(), threads);
    std::atomic<int> members{0};
    pool.run(0, [&](int, int size) {
      EXPECT_EQ(size, threads);
      ++members;
    });
    EXPECT_EQ(members.load(), threads);
  }
  pool.setNumThreads(0);
  EXPECT_EQ(pool.numThreads(), 1);
}

TEST(ThreadPoolTest, ExceptionsReachTheCaller) {
  ThreadPool pool(3);
  EXPECT_THROW(pool.run(3,
                        [](int index, int) {
                          if (index == 2)
                            throw std::runtime_error("boom");
                        }),
               std::runtime_error);
  // The pool still works afterwards.
  std::atomic<int> members{0};
  pool.run(3, [&](int, int) { ++members; });
  EXPECT_EQ(members.load(), 3);
}

TEST(ThreadPoolTest, RegionsFromSeveralOutsideThreads) {
  ThreadPool pool(3);
  std::atomic<int64_t> total{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t)
    callers.emplace_back([&] {
      for (int round = 0; round < 200; ++round)
        pool.parallelFor(
            30, [&](int64_t begin, int64_t end) { total += end - begin; });
    });
  for (std::thread &caller : callers)
    caller.join();
  EXPECT_EQ(total.load(), 3 * 200 * 30);
}

TEST(ThreadPoolTest, GlobalPoolAndDefault) {
  EXPECT_GE(ThreadPool::defaultNumThreads(), 1);
  EXPECT_EQ(&ThreadPool::global(), &ThreadPool::global());
  EXPECT_GE(ThreadPool::global().numThreads(), 1);
}
