//===- Models.h - IR builders for checkpoint folders ------------*- C++ -*-===//
//
// One builder per architecture family turns a checkpoint's config into
// tfm functions. Builders mirror the reference implementation: weights are
// named as in the checkpoint, ops carry the module path as their location
// (`h.3.attn.c_attn`), and attention is emitted unfused (matmul, mask,
// softmax, matmul) for the fusion passes to find.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_MODELS_MODELS_H
#define KILN_MODELS_MODELS_H

#include "runtime/support/Error.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace kiln {

class CheckpointFolder;

struct ModelBuildOptions {
  /// Tokens a generated program can hold (KV cache length); 0 = the model's
  /// maximum.
  int64_t contextLength = 0;
  /// Prompt lengths prefill is specialized for; empty = a default ladder.
  std::vector<int64_t> prefillLengths;
  /// Encoders: the task head ("" = from `architectures`), the batch size
  /// and the sequence lengths entries are specialized for.
  std::string head;
  int64_t batchSize = 0;
  std::vector<int64_t> sequenceLengths;
};

/// A file that goes into the executable under `name`.
struct ModelFile {
  std::string name;
  std::string path;
};

struct BuiltModel {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// The checkpoint's safetensors files.
  std::vector<std::string> weightFiles;
  /// Tokenizer and other files the executable needs at run time.
  std::vector<ModelFile> embeddedFiles;
};

/// Reads the folder, picks the builder from config.json's `model_type` and
/// builds the module. Errors name the file and the field or tensor.
Expected<BuiltModel> buildModelFromFolder(const std::string &folder,
                                          mlir::MLIRContext &context,
                                          const ModelBuildOptions &options);

/// GPT-2 (GPT2LMHeadModel, GPT2Model): entries prefill_<B>, decode and
/// lm_head sharing the weights and a KV cache (see models/Gpt2.cpp).
Expected<BuiltModel> buildGpt2(const CheckpointFolder &checkpoint,
                               mlir::MLIRContext &context,
                               const ModelBuildOptions &options);

/// BERT and RoBERTa (base model and task heads): entries encode_<S> and,
/// for masked-LM heads, mlm_head (see models/Bert.cpp).
Expected<BuiltModel> buildBert(const CheckpointFolder &checkpoint,
                               mlir::MLIRContext &context,
                               const ModelBuildOptions &options);

/// ViT (ViTModel, ViTForImageClassification): entries classify_<B> from
/// pixels (see models/Vit.cpp).
Expected<BuiltModel> buildVit(const CheckpointFolder &checkpoint,
                              mlir::MLIRContext &context,
                              const ModelBuildOptions &options);

/// Swin (SwinModel, SwinForImageClassification): entries classify_<B>
/// from pixels (see models/Swin.cpp).
Expected<BuiltModel> buildSwin(const CheckpointFolder &checkpoint,
                               mlir::MLIRContext &context,
                               const ModelBuildOptions &options);

/// CLIP (CLIPModel): entries image_embed_<B> and text_embed_<B>_<S> (see
/// models/Clip.cpp).
Expected<BuiltModel> buildClip(const CheckpointFolder &checkpoint,
                               mlir::MLIRContext &context,
                               const ModelBuildOptions &options);

} // namespace kiln

#endif // KILN_MODELS_MODELS_H
