//===- VisionConfig.h - ViT, Swin and CLIP config.json ----------*- C++ -*-===//
//
// The fields of transformers' ViTConfig, SwinConfig and CLIPConfig (with
// its text and vision towers) that change the computation, with their
// defaults. Every parser validates each field's type and range; errors name
// the file and the field (nested ones as "field 'vision_config': ...").
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_VISIONCONFIG_H
#define KILN_FRONTEND_VISIONCONFIG_H

#include "frontend/Labels.h"
#include "runtime/support/Error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace kiln {

/// Height and width: config.json gives an integer (square) or [H, W].
struct Size2 {
  int64_t height = 0, width = 0;
};

/// A stack of transformer blocks: what ViT, CLIP's towers and (per stage)
/// Swin share.
struct EncoderDims {
  int64_t hiddenSize = 768;
  int64_t numLayers = 12;
  int64_t numHeads = 12;
  int64_t intermediateSize = 3072;
  std::string hiddenAct = "gelu";
  double layerNormEpsilon = 1e-12;

  int64_t headDim() const { return hiddenSize / numHeads; }
};

struct VitConfig {
  EncoderDims dims;
  Size2 imageSize{224, 224};
  Size2 patchSize{16, 16};
  int64_t numChannels = 3;
  bool qkvBias = true;
  /// ViTPooler: dense to pooler_output_size (default hidden_size), then
  /// pooler_act.
  int64_t poolerSize = 768;
  std::string poolerAct = "tanh";
  /// From `architectures`: ViTModel, ViTForImageClassification (may be
  /// empty).
  std::string architecture;
  Labels labels;

  int64_t gridHeight() const { return imageSize.height / patchSize.height; }
  int64_t gridWidth() const { return imageSize.width / patchSize.width; }
  int64_t numPatches() const { return gridHeight() * gridWidth(); }

  static Expected<VitConfig> parse(const nlohmann::json &config,
                                   const std::string &path);
};

struct SwinConfig {
  Size2 imageSize{224, 224};
  int64_t patchSize = 4;
  int64_t numChannels = 3;
  int64_t embedDim = 96;
  std::vector<int64_t> depths = {2, 2, 6, 2};
  std::vector<int64_t> numHeads = {3, 6, 12, 24};
  int64_t windowSize = 7;
  double mlpRatio = 4.0;
  bool qkvBias = true;
  std::string hiddenAct = "gelu";
  double layerNormEpsilon = 1e-5;
  std::string architecture;
  Labels labels;

  /// Channels of stage `stage`: embed_dim doubled by each patch merging.
  int64_t stageDim(size_t stage) const { return embedDim << stage; }
  int64_t numFeatures() const { return stageDim(depths.size() - 1); }

  static Expected<SwinConfig> parse(const nlohmann::json &config,
                                    const std::string &path);
};

struct ClipTextConfig {
  EncoderDims dims{512, 12, 8, 2048, "quick_gelu", 1e-5};
  int64_t vocabSize = 49408;
  int64_t maxPositions = 77;
  /// 2 in configs saved before transformers 4.31 (the pooled token is then
  /// the highest id, as OpenAI's code takes it), else the first
  /// end-of-text token.
  int64_t eosTokenId = 2;
};

struct ClipVisionConfig {
  EncoderDims dims{768, 12, 12, 3072, "quick_gelu", 1e-5};
  int64_t imageSize = 224;
  int64_t patchSize = 32;
  int64_t numChannels = 3;

  int64_t grid() const { return imageSize / patchSize; }
  int64_t numPatches() const { return grid() * grid(); }
};

struct ClipConfig {
  ClipTextConfig text;
  ClipVisionConfig vision;
  int64_t projectionDim = 512;

  static Expected<ClipConfig> parse(const nlohmann::json &config,
                                    const std::string &path);
};

} // namespace kiln

#endif // KILN_FRONTEND_VISIONCONFIG_H
