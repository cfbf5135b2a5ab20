//===- Scratch.cpp - The kernels' per-thread scratch buffers --------------===//

#include "runtime/kernels/Scratch.h"
#include "runtime/kernels/KernelSupport.h"
#include "runtime/threads/ThreadPool.h"

#include <atomic>

namespace kiln {
namespace kernels {

namespace {

/// Reserves the calling thread's buffers of every kernel family.
bool reserveThisThread(const ScratchSizes &sizes) {
  return detail::reserveGemmScratch(sizes) &&
         detail::reserveNormScratch(sizes) &&
         detail::reserveAttentionScratch(sizes);
}

} // namespace

bool reserveScratch(const ScratchSizes &sizes, int threads) {
  if (sizes.empty())
    return true;
  // A worker runs the same team member every time (ThreadPool.h), so one
  // team of `threads` reaches each thread the kernels will run on.
  std::atomic<bool> reserved{true};
  ThreadPool::global().run(threads, [&](int, int) {
    if (!reserveThisThread(sizes))
      reserved.store(false);
  });
  // The team may be smaller than asked (no more threads to start); the
  // calling thread is in it either way.
  return reserved.load();
}

int64_t scratchAllocationsForTesting() {
  return detail::scratchAllocations.load(std::memory_order_relaxed);
}

} // namespace kernels
} // namespace kiln
