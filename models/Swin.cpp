//===- Swin.cpp - Swin Transformers as tfm functions ----------------------===//
//
// Mirrors transformers' SwinModel and SwinForImageClassification: the patch
// embedding and its LayerNorm; stages of blocks that attend within
// ws x ws windows, every second block on windows shifted by ws / 2 (a
// cyclic roll of the feature map, with a mask that keeps the wrapped-around
// regions apart); a learned relative position bias per block; padding of
// feature maps that are not a whole number of windows; patch merging
// between stages; the final LayerNorm, mean pooling and the classifier.
//
// Window attention is one batched attention per block: windows × heads
// become the head axis, and the relative position bias plus (for shifted
// windows) the shift mask is one [1, windows · heads, N, N] bias that every
// image shares — computed from the weights and the layout, never per image.
//
// Entries, one per batch size B (1 and --batch):
//   classify_<B>  pixel_values [B, C, H, W]
//                 -> logits [B, L]                   (image-classification)
//                 -> last_hidden_state [B, T, F], pooled [B, F]   (base)
//
//===----------------------------------------------------------------------===//

#include "models/Models.h"
#include "models/VisionCommon.h"

#include "dialect/TfmOps.h"
#include "frontend/Checkpoint.h"
#include "frontend/VisionConfig.h"
#include "models/TfmBuilder.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cmath>
#include <nlohmann/json.hpp>

using namespace mlir;
using namespace kiln::tfm;

namespace kiln {
namespace {

/// The value Swin's shift mask adds to the scores of keys from another
/// region (transformers and the original code use -100, not -inf).
constexpr float kShiftMaskValue = -100.0f;

/// A stage's feature map and the window its blocks attend in: the window
/// shrinks to the map (and nothing shifts) when the map is not larger.
struct StageLayout {
  int64_t height, width, window, shift;
  int64_t paddedHeight() const {
    return (height + window - 1) / window * window;
  }
  int64_t paddedWidth() const { return (width + window - 1) / window * window; }
  int64_t windows() const {
    return (paddedHeight() / window) * (paddedWidth() / window);
  }
};

StageLayout stageLayout(const SwinConfig &config, int64_t height,
                        int64_t width) {
  int64_t window = config.windowSize;
  int64_t shift = window / 2;
  if (std::min(height, width) <= window) {
    window = std::min(height, width);
    shift = 0;
  }
  return {height, width, window, shift};
}

class SwinBuilder : public TfmBuilder {
public:
  SwinBuilder(const CheckpointFolder &checkpoint, const SwinConfig &config,
              std::string head, MLIRContext &ctx)
      : TfmBuilder(ctx), checkpoint(checkpoint), config(config),
        head(std::move(head)) {}

  Error checkWeights();
  void buildClassify(ModuleOp module, int64_t batch);

private:
  std::vector<CheckpointFolder::TensorSpec> specs() const;
  Value block(const std::string &path, Value x, const StageLayout &layout,
              int64_t heads, bool shifted);
  Value windowAttention(const std::string &path, Value windows,
                        const StageLayout &layout, int64_t heads, bool shifted);
  /// [B, H·W, C] -> [B, ceil(H/2)·ceil(W/2), 2C].
  Value mergePatches(const std::string &path, Value x, int64_t height,
                     int64_t width);

  Value zeros(ArrayRef<int64_t> shape);
  Value sliceAxis(Location loc, Value x, int64_t axis, int64_t offset,
                  int64_t size, int64_t stride = 1);
  /// x with zeros appended along `axis` up to `size`.
  Value padAxis(Location loc, Value x, int64_t axis, int64_t size);
  /// torch.roll(x, shift, axis).
  Value roll(Location loc, Value x, int64_t axis, int64_t shift);
  /// [B, Hp, Wp, C] -> [B, windows, ws·ws, C] and back.
  Value partition(Location loc, Value x, int64_t window);
  Value unpartition(Location loc, Value windows, const StageLayout &layout);

  const CheckpointFolder &checkpoint;
  const SwinConfig &config;
  std::string head;
};

std::vector<CheckpointFolder::TensorSpec> SwinBuilder::specs() const {
  int64_t e = config.embedDim;
  std::vector<CheckpointFolder::TensorSpec> specs = {
      {"embeddings.patch_embeddings.projection.weight",
       {e, config.numChannels, config.patchSize, config.patchSize}},
      {"embeddings.patch_embeddings.projection.bias", {e}},
      {"embeddings.norm.weight", {e}},
      {"embeddings.norm.bias", {e}},
      {"layernorm.weight", {config.numFeatures()}},
      {"layernorm.bias", {config.numFeatures()}}};
  int64_t height = config.imageSize.height / config.patchSize;
  int64_t width = config.imageSize.width / config.patchSize;
  for (size_t stage = 0; stage < config.depths.size(); ++stage) {
    int64_t d = config.stageDim(stage), heads = config.numHeads[stage];
    int64_t inner = static_cast<int64_t>(config.mlpRatio * d);
    StageLayout layout = stageLayout(config, height, width);
    int64_t table = (2 * layout.window - 1) * (2 * layout.window - 1);
    std::string s = "encoder.layers." + std::to_string(stage);
    for (int64_t i = 0; i < config.depths[stage]; ++i) {
      std::string p = s + ".blocks." + std::to_string(i) + ".";
      specs.push_back(
          {p + "attention.self.relative_position_bias_table", {table, heads}});
      for (const char *name : {"attention.self.query", "attention.self.key",
                               "attention.self.value"}) {
        specs.push_back({p + name + ".weight", {d, d}});
        if (config.qkvBias)
          specs.push_back({p + name + ".bias", {d}});
      }
      specs.push_back({p + "attention.output.dense.weight", {d, d}});
      specs.push_back({p + "attention.output.dense.bias", {d}});
      specs.push_back({p + "intermediate.dense.weight", {inner, d}});
      specs.push_back({p + "intermediate.dense.bias", {inner}});
      specs.push_back({p + "output.dense.weight", {d, inner}});
      specs.push_back({p + "output.dense.bias", {d}});
      for (const char *norm : {"layernorm_before", "layernorm_after"}) {
        specs.push_back({p + norm + ".weight", {d}});
        specs.push_back({p + norm + ".bias", {d}});
      }
    }
    if (stage + 1 < config.depths.size()) {
      specs.push_back({s + ".downsample.reduction.weight", {2 * d, 4 * d}});
      specs.push_back({s + ".downsample.norm.weight", {4 * d}});
      specs.push_back({s + ".downsample.norm.bias", {4 * d}});
      height = (height + 1) / 2;
      width = (width + 1) / 2;
    }
  }
  for (auto &spec : specs)
    spec.name = prefix + spec.name;
  if (head == "image-classification") {
    specs.push_back(
        {"classifier.weight", {config.labels.count, config.numFeatures()}});
    specs.push_back({"classifier.bias", {config.labels.count}});
  }
  return specs;
}

Error SwinBuilder::checkWeights() {
  prefix = checkpoint.hasTensor("swin.embeddings.norm.weight") ? "swin." : "";
  for (size_t stage = 0; stage < config.depths.size(); ++stage) {
    std::string s = prefix + "encoder.layers." + std::to_string(stage);
    if (Error error = checkpoint.checkLayerCount(
            "depths", config.depths[stage], [&](int64_t block) {
              return s + ".blocks." + std::to_string(block) +
                     ".attention.self.query.weight";
            }))
      return error;
  }
  return checkpoint.checkTensors(specs());
}

Value SwinBuilder::zeros(ArrayRef<int64_t> shape) {
  auto type = tensor(shape);
  return ConstantOp::create(b, b.getUnknownLoc(),
                            DenseElementsAttr::get(type, 0.0f));
}

Value SwinBuilder::sliceAxis(Location loc, Value x, int64_t axis,
                             int64_t offset, int64_t size, int64_t stride) {
  SmallVector<int64_t> shape(shapeOf(x));
  SmallVector<int64_t> offsets(shape.size(), 0), strides(shape.size(), 1);
  shape[axis] = size;
  offsets[axis] = offset;
  strides[axis] = stride;
  return SliceOp::create(b, loc, tensor(shape), x,
                         b.getDenseI64ArrayAttr(offsets),
                         b.getDenseI64ArrayAttr(strides));
}

Value SwinBuilder::padAxis(Location loc, Value x, int64_t axis, int64_t size) {
  SmallVector<int64_t> shape(shapeOf(x));
  if (shape[axis] == size)
    return x;
  SmallVector<int64_t> padShape = shape;
  padShape[axis] = size - shape[axis];
  shape[axis] = size;
  return ConcatOp::create(b, loc, tensor(shape), ValueRange{x, zeros(padShape)},
                          b.getI64IntegerAttr(axis));
}

Value SwinBuilder::roll(Location loc, Value x, int64_t axis, int64_t shift) {
  int64_t size = shapeOf(x)[axis];
  // out[i] = x[(i - shift) mod size]: x from `start` to the end, then the
  // rest.
  int64_t start = ((-shift) % size + size) % size;
  if (start == 0)
    return x;
  Value tail = sliceAxis(loc, x, axis, start, size - start);
  Value front = sliceAxis(loc, x, axis, 0, start);
  return ConcatOp::create(b, loc, x.getType(), ValueRange{tail, front},
                          b.getI64IntegerAttr(axis));
}

Value SwinBuilder::partition(Location loc, Value x, int64_t window) {
  ArrayRef<int64_t> s = shapeOf(x);
  int64_t batch = s[0], rows = s[1] / window, cols = s[2] / window, c = s[3];
  Value tiled = reshape(loc, x, {batch, rows, window, cols, window, c});
  Value grouped = TransposeOp::create(
      b, loc, tensor({batch, rows, cols, window, window, c}), tiled,
      b.getDenseI64ArrayAttr({0, 1, 3, 2, 4, 5}));
  return reshape(loc, grouped, {batch, rows * cols, window * window, c});
}

Value SwinBuilder::unpartition(Location loc, Value windows,
                               const StageLayout &layout) {
  ArrayRef<int64_t> s = shapeOf(windows);
  int64_t batch = s[0], c = s[3], w = layout.window;
  int64_t rows = layout.paddedHeight() / w, cols = layout.paddedWidth() / w;
  Value tiled = reshape(loc, windows, {batch, rows, cols, w, w, c});
  Value grid =
      TransposeOp::create(b, loc, tensor({batch, rows, w, cols, w, c}), tiled,
                          b.getDenseI64ArrayAttr({0, 1, 3, 2, 4, 5}));
  return reshape(loc, grid,
                 {batch, layout.paddedHeight(), layout.paddedWidth(), c});
}

Value SwinBuilder::windowAttention(const std::string &path, Value windows,
                                   const StageLayout &layout, int64_t heads,
                                   bool shifted) {
  ArrayRef<int64_t> s = shapeOf(windows);
  int64_t batch = s[0], count = s[1], n = s[2], d = s[3], hd = d / heads;
  int64_t w = layout.window;
  Location loc = at(path + ".attention.self");
  // Shifted blocks attend with windows × heads on the head axis, so that
  // the per-window mask is part of a bias all images share; the others
  // with windows on the batch axis, under the per-head bias alone.
  int64_t outer = shifted ? batch : batch * count;
  int64_t inner = shifted ? count * heads : heads;
  auto toHeads = [&](Value projected) {
    Value split = reshape(loc, projected, {batch, count, n, heads, hd});
    Value moved =
        TransposeOp::create(b, loc, tensor({batch, count, heads, n, hd}), split,
                            b.getDenseI64ArrayAttr({0, 1, 3, 2, 4}));
    return reshape(loc, moved, {outer, inner, n, hd});
  };
  std::string self = path + ".attention.self";
  Value query = toHeads(linear(self + ".query", windows, d, d, config.qkvBias));
  Value key = toHeads(linear(self + ".key", windows, d, d, config.qkvBias));
  Value value = toHeads(linear(self + ".value", windows, d, d, config.qkvBias));

  // bias[h, i, j] = table[index(i, j), h], index from the two tokens'
  // offsets within the window.
  SmallVector<int64_t> index(n * n);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      int64_t dy = i / w - j / w + (w - 1), dx = i % w - j % w + (w - 1);
      index[i * n + j] = dy * (2 * w - 1) + dx;
    }
  int64_t table = (2 * w - 1) * (2 * w - 1);
  Value rows = GatherOp::create(
      b, loc, tensor({n * n, heads}),
      weight(self + ".relative_position_bias_table", {table, heads}),
      i64Constant({n * n}, index), b.getI64IntegerAttr(0));
  Value bias = TransposeOp::create(b, loc, tensor({heads, n, n}),
                                   reshape(loc, rows, {n, n, heads}),
                                   b.getDenseI64ArrayAttr({2, 0, 1}));
  if (shifted) {
    // Tokens of different regions of the rolled map must not attend to
    // each other: region = (row band) · 3 + (column band).
    auto band = [&](int64_t i, int64_t size) {
      return (i >= size - w ? 1 : 0) + (i >= size - layout.shift ? 1 : 0);
    };
    int64_t hp = layout.paddedHeight(), wp = layout.paddedWidth();
    int64_t cols = wp / w;
    SmallVector<float> mask(count * n * n);
    for (int64_t win = 0; win < count; ++win)
      for (int64_t i = 0; i < n; ++i)
        for (int64_t j = 0; j < n; ++j) {
          auto region = [&](int64_t token) {
            int64_t y = (win / cols) * w + token / w;
            int64_t x = (win % cols) * w + token % w;
            return band(y, hp) * 3 + band(x, wp);
          };
          mask[(win * n + i) * n + j] =
              region(i) == region(j) ? 0.0f : kShiftMaskValue;
        }
    auto maskType = tensor({count, 1, n, n});
    Value maskValue = ConstantOp::create(
        b, loc, DenseElementsAttr::get(maskType, ArrayRef<float>(mask)));
    bias = reshape(loc, add(loc, maskValue, bias), {1, count * heads, n, n});
  } else {
    bias = reshape(loc, bias, {1, heads, n, n});
  }
  double scale = 1.0 / std::sqrt(static_cast<double>(hd));
  Value context = attention(loc, query, key, value, bias, scale);
  Value split = reshape(loc, context, {batch, count, heads, n, hd});
  Value merged =
      TransposeOp::create(b, loc, tensor({batch, count, n, heads, hd}), split,
                          b.getDenseI64ArrayAttr({0, 1, 3, 2, 4}));
  return linear(path + ".attention.output.dense",
                reshape(loc, merged, {batch, count, n, d}), d, d);
}

Value SwinBuilder::block(const std::string &path, Value x,
                         const StageLayout &layout, int64_t heads,
                         bool shifted) {
  ArrayRef<int64_t> s = shapeOf(x);
  int64_t batch = s[0], d = s[2];
  int64_t h = layout.height, w = layout.width;
  Location loc = at(path);
  Value normed =
      layerNorm(path + ".layernorm_before", x, config.layerNormEpsilon);
  Value map = reshape(loc, normed, {batch, h, w, d});
  map = padAxis(loc, padAxis(loc, map, 2, layout.paddedWidth()), 1,
                layout.paddedHeight());
  if (shifted)
    map = roll(loc, roll(loc, map, 1, -layout.shift), 2, -layout.shift);
  Value attended = windowAttention(path, partition(loc, map, layout.window),
                                   layout, heads, shifted);
  Value back = unpartition(loc, attended, layout);
  if (shifted)
    back = roll(loc, roll(loc, back, 1, layout.shift), 2, layout.shift);
  if (layout.paddedHeight() != h)
    back = sliceAxis(loc, back, 1, 0, h);
  if (layout.paddedWidth() != w)
    back = sliceAxis(loc, back, 2, 0, w);
  Value hidden = add(loc, x, reshape(loc, back, {batch, h * w, d}));

  int64_t inner = static_cast<int64_t>(config.mlpRatio * d);
  Value mlpIn =
      layerNorm(path + ".layernorm_after", hidden, config.layerNormEpsilon);
  Value up = activation(at(path + ".intermediate"), config.hiddenAct,
                        linear(path + ".intermediate.dense", mlpIn, d, inner));
  return add(loc, hidden, linear(path + ".output.dense", up, inner, d));
}

Value SwinBuilder::mergePatches(const std::string &path, Value x,
                                int64_t height, int64_t width) {
  ArrayRef<int64_t> s = shapeOf(x);
  int64_t batch = s[0], d = s[2];
  Location loc = at(path);
  Value map = reshape(loc, x, {batch, height, width, d});
  int64_t h2 = (height + 1) / 2, w2 = (width + 1) / 2;
  map = padAxis(loc, padAxis(loc, map, 2, 2 * w2), 1, 2 * h2);
  // x0 = map[:, 0::2, 0::2], x1 = [1::2, 0::2], x2 = [0::2, 1::2],
  // x3 = [1::2, 1::2], concatenated on the channels.
  SmallVector<Value> quarters;
  for (auto [row, col] : {std::pair{0, 0}, {1, 0}, {0, 1}, {1, 1}})
    quarters.push_back(
        sliceAxis(loc, sliceAxis(loc, map, 1, row, h2, 2), 2, col, w2, 2));
  Value joined = ConcatOp::create(b, loc, tensor({batch, h2, w2, 4 * d}),
                                  quarters, b.getI64IntegerAttr(3));
  Value flat = reshape(loc, joined, {batch, h2 * w2, 4 * d});
  Value normed = layerNorm(path + ".norm", flat, config.layerNormEpsilon);
  return linear(path + ".reduction", normed, 4 * d, 2 * d, /*bias=*/false);
}

void SwinBuilder::buildClassify(ModuleOp module, int64_t batch) {
  int64_t height = config.imageSize.height / config.patchSize;
  int64_t width = config.imageSize.width / config.patchSize;
  int64_t features = config.numFeatures();
  // Tokens after the last stage.
  int64_t lastHeight = height, lastWidth = width;
  for (size_t stage = 0; stage + 1 < config.depths.size(); ++stage) {
    lastHeight = (lastHeight + 1) / 2;
    lastWidth = (lastWidth + 1) / 2;
  }
  int64_t tokens = lastHeight * lastWidth;
  SmallVector<std::pair<std::string, Type>> results;
  if (head == "image-classification") {
    results.push_back({"logits", tensor({batch, config.labels.count})});
  } else {
    results.push_back({"last_hidden_state", tensor({batch, tokens, features})});
    results.push_back({"pooled", tensor({batch, features})});
  }
  Type pixels = tensor({batch, config.numChannels, config.imageSize.height,
                        config.imageSize.width});
  std::string name = "classify_" + std::to_string(batch);
  Block *entry = beginVisionEntry(*this, module, name, pixels, results);

  Value hidden = patchEmbedding("embeddings.patch_embeddings.projection",
                                entry->getArgument(0), config.embedDim,
                                config.patchSize, config.patchSize,
                                /*bias=*/true);
  hidden = layerNorm("embeddings.norm", hidden, config.layerNormEpsilon);
  for (size_t stage = 0; stage < config.depths.size(); ++stage) {
    std::string s = "encoder.layers." + std::to_string(stage);
    StageLayout layout = stageLayout(config, height, width);
    for (int64_t i = 0; i < config.depths[stage]; ++i)
      hidden = block(s + ".blocks." + std::to_string(i), hidden, layout,
                     config.numHeads[stage], i % 2 == 1 && layout.shift > 0);
    if (stage + 1 < config.depths.size()) {
      hidden = mergePatches(s + ".downsample", hidden, height, width);
      height = (height + 1) / 2;
      width = (width + 1) / 2;
    }
  }
  hidden = layerNorm("layernorm", hidden, config.layerNormEpsilon);
  // AdaptiveAvgPool1d(1) over the tokens: a product with 1 / T.
  Location poolLoc = at("pooler");
  auto averageType = tensor({1, 1, tokens});
  Value average = ConstantOp::create(
      b, poolLoc,
      DenseElementsAttr::get(averageType, 1.0f / static_cast<float>(tokens)));
  Value pooled =
      reshape(poolLoc,
              MatmulOp::create(b, poolLoc, tensor({batch, 1, features}),
                               average, hidden, false, false),
              {batch, features});

  SmallVector<Value> outputs;
  if (head == "image-classification") {
    std::string saved = std::exchange(prefix, "");
    outputs.push_back(
        linear("classifier", pooled, features, config.labels.count));
    prefix = saved;
  } else {
    outputs = {hidden, pooled};
  }
  func::ReturnOp::create(b, at(name), outputs);
}

} // namespace

Expected<BuiltModel> buildSwin(const CheckpointFolder &checkpoint,
                               MLIRContext &ctx,
                               const ModelBuildOptions &options) {
  Expected<SwinConfig> config =
      SwinConfig::parse(checkpoint.config(), checkpoint.configPath());
  if (!config)
    return config.takeError();
  static const ClassifierFamily kSwin = {"swin", "Swin", "SwinModel",
                                         "SwinForImageClassification"};
  return buildImageClassifier<SwinBuilder>(
      checkpoint, ctx, options, kSwin, *config,
      {config->architecture, config->numChannels, config->imageSize.height,
       config->imageSize.width, config->numFeatures(), config->labels});
}

} // namespace kiln
