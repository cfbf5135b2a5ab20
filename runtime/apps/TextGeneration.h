//===- TextGeneration.h - The command line of text generators ---*- C++ -*-===//
//
// `main` of executables compiled from causal language models (metadata task
// "text-generation", e.g. GPT-2):
//
//   gpt2 "prompt" [-n N] [--temperature T] [--top-k K] [--top-p P]
//        [--seed S] [--ids "464 2068 ..."] [--logits FILE.npy]
//        [--step-logits FILE.npy] [--threads N] [--bench] [--json]
//        [--truncate] [--weights FILE]... [--help]
//
// The model provides entries prefill_<B> (ids i64 [1,B] -> hidden f32
// [1,B,D], filling the KV cache states at positions 0..B-1) for each B in
// metadata.prefill_lengths, decode (ids, position i64 [1,1] -> hidden f32
// [1,1,D], writing the cache at `position`) and lm_head (hidden f32 [1,D]
// -> logits f32 [1,V]); metadata gives context_length, vocab_size,
// hidden_size, eos_token_id, bos_token_id and the tokenizer files embedded
// in the executable.
//
// The prompt is encoded, run through the smallest prefill bucket that holds
// it (padded with id 0; prompts longer than the largest bucket continue
// through decode), and new tokens are chosen greedily or sampled
// (apps/Sampling.h) and streamed to stdout as text.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_TEXTGENERATION_H
#define KILN_RUNTIME_APPS_TEXTGENERATION_H

#include "runtime/session/Session.h"

#include <ostream>

namespace kiln {

/// Runs the command line `argv` against the text-generation model `model`.
/// Generated text goes to `out`; errors, notes and timings to `err`.
/// Returns 0 on success, 1 on any error (one line starting with "error: ").
int runTextGeneration(const ModelSymbols &model, int argc, char **argv,
                      std::ostream &out, std::ostream &err);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_TEXTGENERATION_H
