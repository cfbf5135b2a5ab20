//===- ImageClassification.h - The command line of ViT and Swin -*- C++ -*-===//
//
// `main` of executables compiled from ViT and Swin checkpoints (metadata
// task "image-classification"):
//
//   vit IMAGE... [--top-k K] [--output FILE.npy] [--pixels FILE.npy]
//       [--pixels-output FILE.npy] [--json] [--bench] [--threads N]
//       [--weights FILE]... [--help]
//
// The model provides entries classify_<B> for each B in
// metadata.batch_sizes: pixel_values f32 [B, C, H, W] -> logits f32 [B, L]
// (head "image-classification"), or last_hidden_state f32 [B, T, D] and, with
// a pooler, pooled f32 [B, D] (head "base").
//
// Each image file is decoded and preprocessed as the checkpoint's
// preprocessor_config.json asks (runtime/image/), then the images run as
// batches. A classifier prints each image's top K labels (id2label) with
// their softmax probabilities; --output writes the logits [images, labels]
// (base models: the pooled states, or the last hidden states). --pixels
// takes the preprocessed tensor instead of image files; --pixels-output
// writes the one the images gave.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_IMAGECLASSIFICATION_H
#define KILN_RUNTIME_APPS_IMAGECLASSIFICATION_H

#include "runtime/session/Session.h"

#include <ostream>

namespace kiln {

/// Runs the command line `argv` against the image-classification model
/// `model`. Results go to `out`; errors, notes and timings to `err`.
/// Returns 0 on success, 1 on any error (one line starting with "error: ").
int runImageClassification(const ModelSymbols &model, int argc, char **argv,
                           std::ostream &out, std::ostream &err);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_IMAGECLASSIFICATION_H
