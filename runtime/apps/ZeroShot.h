//===- ZeroShot.h - The command line of CLIP --------------------*- C++ -*-===//
//
// `main` of executables compiled from CLIP checkpoints (metadata task
// "zero-shot-image-classification"):
//
//   clip IMAGE CAPTION... [--image FILE]... [--top-k K] [--output FILE.npy]
//        [--image-embed FILE.npy] [--text-embed FILE.npy] [--pixels FILE.npy]
//        [--truncate] [--json] [--bench] [--threads N] [--weights FILE]...
//        [--help]
//
// The model provides, for each B in metadata.batch_sizes and each S in
// metadata.sequence_lengths:
//   image_embed_<B>     pixel_values f32 [B, C, H, W]
//                       -> image_embeds f32 [B, P], log_scale f32 [1] (the
//                          logit_scale weight)
//   text_embed_<B>_<S>  input_ids i64 [B, S], eos_positions i64 [B]
//                       -> text_embeds f32 [B, P]
// The first argument is an image (more with --image), the others captions.
// Each caption is tokenized with the embedded CLIP tokenizer
// (<|startoftext|> ... <|endoftext|>); one longer than the text tower's
// context is an error, or is cut with --truncate. The embeddings are
// normalized and each image scored against each caption as CLIPModel's
// logits_per_image, exp(logit_scale) · cos; the executable prints each
// caption's softmax probability over the captions, highest first.
// --output writes logits_per_image [images, captions]; --image-embed and
// --text-embed the normalized embeddings (without captions, --image-embed
// alone is allowed).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_APPS_ZEROSHOT_H
#define KILN_RUNTIME_APPS_ZEROSHOT_H

#include "runtime/session/Session.h"

#include <ostream>

namespace kiln {

int runZeroShot(const ModelSymbols &model, int argc, char **argv,
                std::ostream &out, std::ostream &err);

} // namespace kiln

#endif // KILN_RUNTIME_APPS_ZEROSHOT_H
