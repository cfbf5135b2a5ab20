//===- ScratchTest.cpp - The kernels' scratch, allocated up front ---------===//

#include "runtime/kernels/Scratch.h"
#include "runtime/kernels/Attention.h"
#include "runtime/kernels/Gemm.h"
#include "runtime/kernels/KernelSupport.h"
#include "runtime/kernels/Norm.h"
#include "runtime/threads/ThreadPool.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using namespace kiln;
using namespace kiln::kernels;

namespace {

/// Every kernel path that takes scratch, with operands within sizes
/// {512, 512, 256, 64}, run by the calling thread and by each of the pool's
/// workers (kernels called inside a parallel region run serially there).
void runEveryScratchPath() {
  const std::vector<float> a(512 * 512, 0.5f), b(512 * 512, 0.25f);
  auto products = [&] {
    std::vector<float> c(512 * 512, 0.0f);
    // Few rows, C column-strided: the A copy and the C copy.
    sgemm(3, 500, 512, a.data(), 512, 1, b.data(), 512, 1, c.data(), 1, 4);
    // Few columns: the transposed product.
    sgemm(300, 2, 512, a.data(), 512, 1, b.data(), 512, 1, c.data(), 1, 512);
    // The packed path.
    sgemm(200, 300, 512, a.data(), 512, 1, b.data(), 512, 1, c.data(), 512, 1);
    // Narrow B' over several panels of width 2: the panel copy.
    sgemmPanels(8, 3, 512, a.data(), 512, 1, b.data(), 2, 2 * 512, c.data(), 3,
                1);
    // Few rows on panels, C column-strided.
    sgemmPanels(2, 100, 512, a.data(), 512, 1, b.data(), 16, 16 * 512, c.data(),
                1, 2);
  };
  auto norms = [&] {
    std::vector<float> out(64 * 256, 0.0f);
    // Strided rows, a residual, strided gamma and beta: the row buffer and
    // the copies.
    layerNorm(64, 256, a.data(), 512, 2, b.data(), 512, 1, a.data(), 2,
              b.data(), 2, out.data(), 256, 1, 1e-5f);
  };
  auto attentions = [&] {
    // [1, 2, 64, 64] with strided Q and V: every part of the layout, for a
    // whole block of query rows.
    const int64_t strided[4] = {2 * 64 * 64 * 2, 64 * 64 * 2, 64 * 2, 2};
    const int64_t dense[4] = {2 * 64 * 64, 64 * 64, 64, 1};
    std::vector<float> out(2 * 64 * 64, 0.0f);
    attention(1, 2, 64, 64, 64, 64, a.data(), strided, b.data(), dense,
              b.data(), strided, out.data(), dense, AttentionMask::None,
              nullptr, 0, 0.125f);
  };
  products();
  norms();
  attentions();
  ThreadPool::global().run(ThreadPool::global().numThreads(), [&](int, int) {
    products();
    norms();
    attentions();
  });
}

} // namespace

TEST(KernelScratchTest, ReservedCallsDoNotAllocate) {
  // Fresh threads: those of earlier tests may hold grown buffers already.
  ThreadPool::global().setNumThreads(1);
  std::thread fresh([] {
    ThreadPool::global().setNumThreads(3);
    ScratchSizes sizes{512, 512, 256, 64};
    ASSERT_TRUE(reserveScratch(sizes, 3));
    int64_t reserved = scratchAllocationsForTesting();
    runEveryScratchPath();
    EXPECT_EQ(scratchAllocationsForTesting(), reserved)
        << "a kernel allocated scratch within the reserved sizes";
    // Calls past the reservation still work: the buffers grow.
    std::vector<float> a(4096, 1.0f), b(4096, 1.0f), c(1, 0.0f);
    sgemm(1, 1, 4096, a.data(), 4096, 1, b.data(), 1, 1, c.data(), 1, 1);
    EXPECT_EQ(c[0], 4096.0f);
    EXPECT_GT(scratchAllocationsForTesting(), reserved);
  });
  fresh.join();
  ThreadPool::global().setNumThreads(ThreadPool::defaultNumThreads());
}

TEST(KernelScratchTest, ReservingTooMuchFails) {
  ScratchSizes sizes;
  EXPECT_TRUE(sizes.empty());
  EXPECT_TRUE(reserveScratch(sizes, 2));
  sizes.gemmDepth = int64_t(1) << 58;
  EXPECT_FALSE(reserveScratch(sizes, 2));
}

TEST(KernelScratchDeathTest, OutOfMemoryInAKernelIsOneLineAndExitStatus1) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        detail::ScratchBuffer buffer("kiln_test");
        buffer.get(int64_t(1) << 59);
      },
      ::testing::ExitedWithCode(1),
      "^error: kiln_test: out of memory for [0-9]+ bytes of scratch\n$");
}

TEST(KernelScratchDeathTest, BadOperandsAreOneLineAndExitStatus1) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  std::vector<float> buf(64, 0.0f);
  KilnMemRef<2> ma{buf.data(), buf.data(), 0, {2, 3}, {3, 1}};
  KilnMemRef<2> mb{buf.data(), buf.data(), 0, {4, 5}, {5, 1}};
  KilnMemRef<2> mc{buf.data(), buf.data(), 0, {2, 5}, {5, 1}};
  EXPECT_EXIT(_mlir_ciface_kiln_matmul_f32(&ma, &mb, &mc, 0, 0),
              ::testing::ExitedWithCode(1),
              "^error: kiln_matmul_f32: shapes do not agree[^\n]*\n$");
}
