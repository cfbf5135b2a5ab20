//===- AccumulatorModel.h - A two-entry fake model with states --*- C++ -*-===//
//
// A compiled model written by hand, for the Session and command-line tests:
//   init(x f32 [3]; weight w; state acc) -> y:  acc = x * w; y = acc
//   step(weight b; x; state acc; state count i64 []; weight w) -> y:
//        acc += x * w + b; count += 1; y = acc
// Weights w and b are shared between entries (w by both), and are meant to
// come from two safetensors shards (w in one, b in the other).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TEST_RUNTIME_ACCUMULATORMODEL_H
#define KILN_TEST_RUNTIME_ACCUMULATORMODEL_H

#include "runtime/session/Session.h"

#include "TestUtil.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln::test {

inline const char *kAccumulatorSignature =
    R"({"entries":[)"
    R"({"name":"init","args":[)"
    R"({"name":"x","role":"input","dtype":"f32","shape":[3]},)"
    R"({"name":"w","role":"weight","dtype":"f32","shape":[3]},)"
    R"({"name":"acc","role":"state","dtype":"f32","shape":[3]},)"
    R"({"name":"y","role":"output","dtype":"f32","shape":[3]}]},)"
    R"({"name":"step","args":[)"
    R"({"name":"b","role":"weight","dtype":"f32","shape":[3]},)"
    R"({"name":"x","role":"input","dtype":"f32","shape":[3]},)"
    R"({"name":"acc","role":"state","dtype":"f32","shape":[3]},)"
    R"({"name":"count","role":"state","dtype":"i64","shape":[]},)"
    R"({"name":"w","role":"weight","dtype":"f32","shape":[3]},)"
    R"({"name":"y","role":"output","dtype":"f32","shape":[3]}]}],)"
    R"("metadata":{"task":"test","answer":42}})";

/// What the fake entries saw.
struct AccumulatorSeen {
  int initCalls = 0, stepCalls = 0;
  const void *initW = nullptr, *stepW = nullptr;
  const void *initAcc = nullptr, *stepAcc = nullptr;
};
inline AccumulatorSeen accumulatorSeen;

/// Data pointer of the rank-`rank` memref descriptor args[i].
inline void *memrefData(void **args, int i) {
  // {allocated, aligned, offset, sizes..., strides...}
  return static_cast<void **>(args[i])[1];
}

extern "C" inline void accumulatorInit(void **args) {
  auto *x = static_cast<const float *>(memrefData(args, 0));
  auto *w = static_cast<const float *>(memrefData(args, 1));
  auto *acc = static_cast<float *>(memrefData(args, 2));
  auto *y = static_cast<float *>(memrefData(args, 3));
  ++accumulatorSeen.initCalls;
  accumulatorSeen.initW = w;
  accumulatorSeen.initAcc = acc;
  for (int i = 0; i < 3; ++i)
    y[i] = acc[i] = x[i] * w[i];
}

extern "C" inline void accumulatorStep(void **args) {
  auto *b = static_cast<const float *>(memrefData(args, 0));
  auto *x = static_cast<const float *>(memrefData(args, 1));
  auto *acc = static_cast<float *>(memrefData(args, 2));
  auto *count = static_cast<int64_t *>(memrefData(args, 3));
  auto *w = static_cast<const float *>(memrefData(args, 4));
  auto *y = static_cast<float *>(memrefData(args, 5));
  ++accumulatorSeen.stepCalls;
  accumulatorSeen.stepW = w;
  accumulatorSeen.stepAcc = acc;
  for (int i = 0; i < 3; ++i)
    y[i] = acc[i] += x[i] * w[i] + b[i];
  ++*count;
}

inline const EntryFunction kAccumulatorEntries[] = {accumulatorInit,
                                                    accumulatorStep};

/// Shard holding w = [1, 2, 3], and shard holding b = [10, 20, 30].
inline std::string accumulatorShardW(bool aligned = true) {
  return makeF32Safetensors({{"w", {1, 2, 3}}}, aligned);
}
inline std::string accumulatorShardB(bool aligned = true) {
  return makeF32Safetensors({{"b", {10, 20, 30}}}, aligned);
}

inline ModelSymbols accumulatorModel() {
  ModelSymbols model;
  model.signature = kAccumulatorSignature;
  model.entries = kAccumulatorEntries;
  model.entryCount = 2;
  return model;
}

} // namespace kiln::test

#endif // KILN_TEST_RUNTIME_ACCUMULATORMODEL_H
