//===- TextEncoding.h - The command line of text encoders -------*- C++ -*-===//
//
// `main` of executables compiled from BERT and RoBERTa checkpoints (metadata
// task "text-encoding"):
//
//   bert [TEXT...] [--file FILE] [--top-k K] [--pair A B] [--classify]
//        [--tokens] [--embed [cls|mean]] [--normalize] [--output FILE.npy]
//        [--truncate] [--json] [--bench] [--threads N] [--weights FILE]...
//        [--help]
//
// The model provides entries encode_<S> for each S in
// metadata.sequence_lengths: ids, token_type_ids i64 [B,S] and lengths i64
// [B] (B = metadata.batch_size) -> hidden f32 [B,S,D], plus pooled f32 [B,D]
// when the model has a pooler and, by metadata.head, logits (sequence-
// classification [B,L], token-classification [B,S,L], next-sentence [B,2])
// or nsp_logits [B,2] (pretraining); heads masked-lm and pretraining add
// mlm_head (hidden f32 [1,D] -> logits f32 [1,V]).
//
// Texts (arguments, else the lines of --file, else the lines of stdin) are
// encoded with the embedded tokenizer and run B at a time through the
// smallest bucket S that holds the longest text of the batch, right-padded
// with the pad id. What is done with them depends on the head and the
// options: fill-mask (masked-lm, pretraining), classification (--classify),
// token classification (--tokens), next-sentence prediction (--pair) or
// sentence embeddings (--embed, the default of base models).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_TEXTENCODING_H
#define KILN_RUNTIME_APPS_TEXTENCODING_H

#include "runtime/session/Session.h"

#include <istream>
#include <ostream>

namespace kiln {

/// Runs the command line `argv` against the text-encoding model `model`.
/// Results go to `out`; errors, notes and timings to `err`. Texts not given
/// as arguments or with --file are read from standard input (unless it is a
/// terminal). Returns 0 on success, 1 on any error (one line starting with
/// "error: ").
int runTextEncoding(const ModelSymbols &model, int argc, char **argv,
                    std::ostream &out, std::ostream &err);

/// The same, reading texts from `in` instead of standard input.
int runTextEncoding(const ModelSymbols &model, int argc, char **argv,
                    std::istream &in, std::ostream &out, std::ostream &err);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_TEXTENCODING_H
