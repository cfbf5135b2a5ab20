//===- ZeroShot.cpp - The command line of CLIP ----------------------------===//

#include "runtime/apps/ZeroShot.h"

#include "runtime/apps/CommandLine.h"
#include "runtime/apps/VisionInput.h"
#include "runtime/session/Signature.h"
#include "runtime/support/Npy.h"
#include "runtime/threads/ThreadPool.h"
#include "runtime/tokenizer/EncoderTokenizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <numeric>

namespace kiln {
namespace {

/// The end-of-text id of CLIP configs saved before transformers 4.31: the
/// pooled token is then the one with the highest id.
constexpr int64_t kLegacyEosTokenId = 2;
constexpr int64_t kMaxTopK = 1 << 20;

struct Options : AppOptions {
  bool help = false;
  std::vector<std::string> images, captions;
  std::optional<int64_t> topK;
  std::optional<std::string> outputPath, imageEmbedPath, textEmbedPath,
      pixelsPath;
};

Expected<Options> parseOptions(int argc, char **argv) {
  Options options;
  ArgumentScanner args(argc, argv, /*positionals=*/true);
  std::vector<std::string> positionals, extraImages;
  while (args.next()) {
    const std::string &arg = args.arg(), &flag = args.flag();
    if (args.positional()) {
      positionals.push_back(arg);
      continue;
    }
    if (flag == "--help" || flag == "-h") {
      if (Error e = args.noValue())
        return e;
      options.help = true;
    } else if (flag == "--image") {
      std::optional<std::string> image;
      if (Error e = args.takeFileName(image))
        return e;
      extraImages.push_back(*image);
    } else if (flag == "--top-k") {
      if (Error e = args.takeTopK(options.topK, kMaxTopK))
        return e;
    } else if (flag == "--output" || flag == "-o") {
      if (Error e = args.takeFileName(options.outputPath))
        return e;
    } else if (flag == "--image-embed") {
      if (Error e = args.takeFileName(options.imageEmbedPath))
        return e;
    } else if (flag == "--text-embed") {
      if (Error e = args.takeFileName(options.textEmbedPath))
        return e;
    } else if (flag == "--pixels") {
      if (Error e = args.takeFileName(options.pixelsPath))
        return e;
    } else if (std::optional<Error> common = args.takeAppOption(options)) {
      if (*common)
        return std::move(*common);
    } else {
      return makeError("unknown argument '", arg,
                       "' (see --help; put a caption that starts with '-' "
                       "after --)");
    }
  }
  // The first argument is the image, unless --pixels gives the images; the
  // others are captions.
  if (options.pixelsPath) {
    if (!extraImages.empty())
      return makeError("give image files or --pixels, not both");
    options.captions = std::move(positionals);
    return options;
  }
  if (!positionals.empty()) {
    options.images.push_back(positionals.front());
    options.captions.assign(positionals.begin() + 1, positionals.end());
  }
  options.images.insert(options.images.end(), extraImages.begin(),
                        extraImages.end());
  return options;
}

struct Metadata {
  VisionMetadata vision;
  std::vector<int64_t> sequenceLengths;
  int64_t context = 0, eosTokenId = 0, projectionDim = 0;
  nlohmann::json tokenizer;
};

Expected<Metadata> parseMetadata(const std::string &text) {
  nlohmann::json root = nlohmann::json::parse(text, nullptr, false);
  if (!root.is_object())
    return makeError("model metadata: expected a JSON object");
  Metadata metadata;
  Expected<VisionMetadata> vision = parseVisionMetadata(root);
  if (!vision)
    return vision.takeError();
  metadata.vision = std::move(*vision);
  auto integer = [&](const char *field, int64_t low) -> Expected<int64_t> {
    auto it = root.find(field);
    if (it == root.end() || !it->is_number_integer() ||
        it->get<int64_t>() < low)
      return makeError("model metadata: ", field,
                       ": expected an integer >= ", low);
    return it->get<int64_t>();
  };
  for (auto [field, target, low] :
       {std::tuple{"context", &metadata.context, 2},
        std::tuple{"eos_token_id", &metadata.eosTokenId, 0},
        std::tuple{"projection_dim", &metadata.projectionDim, 1}}) {
    Expected<int64_t> value = integer(field, low);
    if (!value)
      return value.takeError();
    *target = *value;
  }
  auto lengths = root.find("sequence_lengths");
  if (lengths == root.end() || !lengths->is_array() || lengths->empty())
    return makeError("model metadata: sequence_lengths: expected a list");
  for (const nlohmann::json &length : *lengths) {
    if (!length.is_number_integer() || length.get<int64_t>() < 2 ||
        length.get<int64_t>() > metadata.context)
      return makeError("model metadata: sequence_lengths: expected integers "
                       "from 2 to the context");
    metadata.sequenceLengths.push_back(length.get<int64_t>());
  }
  std::sort(metadata.sequenceLengths.begin(), metadata.sequenceLengths.end());
  if (metadata.sequenceLengths.back() != metadata.context)
    return makeError("model metadata: sequence_lengths: expected the context "
                     "among them");
  auto tokenizer = root.find("tokenizer");
  if (tokenizer == root.end() || !tokenizer->is_object())
    return makeError("model metadata: tokenizer: expected an object");
  metadata.tokenizer = *tokenizer;
  return metadata;
}

void printUsage(const std::string &program, const Metadata &metadata,
                const ModelSymbols &model, std::ostream &out) {
  const VisionMetadata &v = metadata.vision;
  out << "usage: " << program
      << " IMAGE CAPTION... [--image FILE]... [--top-k K]\n"
         "       [--output FILE.npy] [--image-embed FILE.npy] "
         "[--text-embed FILE.npy]\n"
         "       [--pixels FILE.npy] [--truncate] [--json] [--bench] "
         "[--threads N]\n"
         "       [--weights FILE]...\n\n"
         "Scores images against captions (CLIP zero-shot classification) "
         "and prints\neach caption's probability, highest first. Images: "
         "PNG, JPEG, BMP or PPM,\nresized and normalized as the checkpoint's "
         "preprocessor_config.json asks, to\n"
      << v.height << "x" << v.width << ". Captions: at most "
      << metadata.context
      << " tokens with the start and end tokens.\n\n"
         "options:\n"
         "  --image FILE           another image (repeat)\n"
         "  --top-k K              captions printed per image (default: "
         "all)\n"
         "  --output FILE.npy      write logits_per_image [images, "
         "captions]\n"
         "  --image-embed FILE.npy write the normalized image embeddings\n"
         "  --text-embed FILE.npy  write the normalized caption embeddings\n"
         "  --pixels FILE.npy      take preprocessed pixels f32 [N, "
      << v.channels << ", " << v.height << ", " << v.width
      << "]\n"
         "                         instead of image files (every argument "
         "is then a caption)\n"
         "  --truncate             cut captions longer than the context\n";
  printCommonOptionsHelp(out, model);
}

/// A caption's ids and the position of the token the text tower pools.
struct Caption {
  std::vector<int32_t> ids;
  int64_t eosPosition = 0;
};

Expected<std::vector<Caption>> encodeCaptions(const Options &options,
                                              const Metadata &metadata,
                                              const EncoderTokenizer &tokens) {
  std::vector<Caption> captions;
  for (size_t i = 0; i < options.captions.size(); ++i) {
    Caption caption;
    caption.ids = tokens.encode(options.captions[i]).ids;
    auto context = static_cast<size_t>(metadata.context);
    if (caption.ids.size() > context) {
      if (!options.truncate)
        return makeError("caption ", i + 1, " has ", caption.ids.size(),
                         " tokens, more than the text tower's context of ",
                         metadata.context, " (use --truncate to cut it)");
      // As the tokenizer's truncation: keep the end-of-text token last.
      int32_t last = caption.ids.back();
      caption.ids.resize(context);
      caption.ids.back() = last;
    }
    // As CLIPTextTransformer: the first end-of-text token, or (legacy
    // configs) the first highest id.
    const std::vector<int32_t> &ids = caption.ids;
    auto pooled = metadata.eosTokenId == kLegacyEosTokenId
                      ? std::max_element(ids.begin(), ids.end())
                      : std::find(ids.begin(), ids.end(),
                                  static_cast<int32_t>(metadata.eosTokenId));
    if (pooled == ids.end())
      pooled = ids.end() - 1;
    caption.eosPosition = pooled - ids.begin();
    captions.push_back(std::move(caption));
  }
  return captions;
}

/// text_embed_<B>_<S> bound to its buffers.
class TextTower {
public:
  TextTower(Session &session, const Metadata &metadata, int32_t padId)
      : session(session), metadata(metadata), padId(padId) {}

  /// Embeds every caption into `embeds` [captions, P], batch by batch.
  Error run(const std::vector<Caption> &captions, std::vector<float> &embeds) {
    const int64_t p = metadata.projectionDim;
    const int64_t n = static_cast<int64_t>(captions.size());
    for (int64_t first = 0; first < n;) {
      int64_t batch = 1;
      for (int64_t size : metadata.vision.batchSizes)
        if (size <= n - first)
          batch = size;
      size_t longest = 0;
      for (int64_t i = first; i < first + batch; ++i)
        longest = std::max(longest, captions[i].ids.size());
      int64_t length = *std::lower_bound(metadata.sequenceLengths.begin(),
                                         metadata.sequenceLengths.end(),
                                         static_cast<int64_t>(longest));
      Expected<Bound *> bound = bind(batch, length);
      if (!bound)
        return bound.takeError();
      Bound &b = **bound;
      auto *ids = static_cast<int64_t *>(b.ids.data());
      auto *eos = static_cast<int64_t *>(b.eosPositions.data());
      std::fill(ids, ids + batch * length, padId);
      for (int64_t row = 0; row < batch; ++row) {
        const Caption &caption = captions[first + row];
        std::copy(caption.ids.begin(), caption.ids.end(), ids + row * length);
        eos[row] = caption.eosPosition;
      }
      auto start = std::chrono::steady_clock::now();
      b.call();
      ms += elapsedMs(start);
      ++calls;
      std::memcpy(embeds.data() + first * p, b.embeds.data(),
                  static_cast<size_t>(batch * p) * sizeof(float));
      first += batch;
    }
    return Error::success();
  }

  double ms = 0;
  int64_t calls = 0;

private:
  struct Bound {
    Tensor ids, eosPositions, embeds;
    BoundCall call;
  };

  Expected<Bound *> bind(int64_t batch, int64_t length) {
    auto key = std::make_pair(batch, length);
    auto found = bound.find(key);
    if (found != bound.end())
      return &found->second;
    Bound b;
    for (auto [tensor, dtype, shape] :
         {std::tuple{&b.ids, DType::I64, Shape{batch, length}},
          std::tuple{&b.eosPositions, DType::I64, Shape{batch}},
          std::tuple{&b.embeds, DType::F32,
                     Shape{batch, metadata.projectionDim}}}) {
      Expected<Tensor> allocated = Tensor::allocate(dtype, shape);
      if (!allocated)
        return allocated.takeError();
      *tensor = std::move(*allocated);
    }
    std::string name =
        "text_embed_" + std::to_string(batch) + "_" + std::to_string(length);
    Expected<BoundCall> call = session.bind(
        name,
        {{"input_ids", b.ids.view()}, {"eos_positions", b.eosPositions.view()}},
        {{"text_embeds", b.embeds.view()}});
    if (!call)
      return call.takeError();
    b.call = std::move(*call);
    return &bound.emplace(key, std::move(b)).first->second;
  }

  Session &session;
  const Metadata &metadata;
  int32_t padId;
  std::map<std::pair<int64_t, int64_t>, Bound> bound;
};

/// Rows of `values` [rows, d] scaled to unit length, as CLIPModel does.
void normalizeRows(std::vector<float> &values, int64_t d) {
  for (size_t start = 0; start < values.size(); start += d) {
    double sum = 0;
    for (int64_t k = 0; k < d; ++k)
      sum += static_cast<double>(values[start + k]) * values[start + k];
    double norm = std::sqrt(sum);
    for (int64_t k = 0; k < d; ++k)
      values[start + k] = static_cast<float>(values[start + k] / norm);
  }
}

int run(const ModelSymbols &model, int argc, char **argv, std::ostream &out,
        std::ostream &err) {
  if (Error e = requireModel(model))
    return reportError(err, e.message());
  Expected<Options> optionsOr = parseOptions(argc, argv);
  if (!optionsOr)
    return reportError(err, optionsOr.message());
  const Options &options = *optionsOr;
  Expected<ModelSignature> signature = parseModelSignature(model.signature);
  if (!signature)
    return reportError(err, signature.message());
  Expected<Metadata> metadataOr = parseMetadata(signature->metadata);
  if (!metadataOr)
    return reportError(err, metadataOr.message());
  const Metadata &metadata = *metadataOr;
  if (options.help) {
    printUsage(programName(argc, argv), metadata, model, out);
    out.flush();
    return 0;
  }
  if (options.images.empty() && !options.pixelsPath)
    return reportError(err, "no image (the first argument is the image; see "
                            "--help)");
  bool embedOnly =
      options.imageEmbedPath && !options.outputPath && !options.textEmbedPath;
  if (options.captions.empty() && !embedOnly)
    return reportError(err, "no captions to score the image against (give "
                            "them after the image, or only --image-embed)");
  if (options.threads)
    ThreadPool::global().setNumThreads(*options.threads);

  Expected<EncoderTokenizer> tokenizer =
      EncoderTokenizer::create(metadata.tokenizer, [&](std::string_view name) {
        return findEmbeddedFile(model, name);
      });
  if (!tokenizer)
    return reportError(err, tokenizer.message());
  // Every input is read and checked before the weights are loaded.
  Expected<std::vector<Caption>> captions =
      encodeCaptions(options, metadata, *tokenizer);
  if (!captions)
    return reportError(err, captions.message());
  Expected<Tensor> pixels = loadPixelInput(model, metadata.vision,
                                           options.images, options.pixelsPath);
  if (!pixels)
    return reportError(err, pixels.message());
  const int64_t images = pixels->shape[0];
  const int64_t texts = static_cast<int64_t>(captions->size());
  const int64_t p = metadata.projectionDim;
  std::vector<std::string> names = options.images;
  for (int64_t i = static_cast<int64_t>(names.size()); i < images; ++i)
    names.push_back(*options.pixelsPath + "[" + std::to_string(i) + "]");

  Expected<Session> session =
      Session::create(model, std::move(*signature), options.weightsPaths);
  if (!session)
    return reportError(err, session.message());
  const double startupMs = processUptimeMs();

  std::vector<float> imageEmbeds(static_cast<size_t>(images * p));
  float logitScale = 0;
  BatchedEntry imageTower(*session, metadata.vision, "image_embed_");
  if (Error e = imageTower.run(
          *pixels, [&](const auto &outputs, int64_t first, int64_t rows) {
            const Tensor &embeds = outputs.find("image_embeds")->second;
            std::memcpy(imageEmbeds.data() + first * p, embeds.data(),
                        static_cast<size_t>(rows * p) * sizeof(float));
            logitScale = *static_cast<const float *>(
                outputs.find("log_scale")->second.data());
          }))
    return reportError(err, e.message());
  std::vector<float> textEmbeds(static_cast<size_t>(texts * p));
  TextTower textTower(*session, metadata, tokenizer->padId());
  if (Error e = textTower.run(*captions, textEmbeds))
    return reportError(err, e.message());
  normalizeRows(imageEmbeds, p);
  normalizeRows(textEmbeds, p);

  // logits_per_image = exp(logit_scale) · image · textᵀ.
  std::vector<float> logits(static_cast<size_t>(images * texts));
  const double scale = std::exp(static_cast<double>(logitScale));
  for (int64_t i = 0; i < images; ++i)
    for (int64_t t = 0; t < texts; ++t) {
      double dot = 0;
      for (int64_t k = 0; k < p; ++k)
        dot +=
            static_cast<double>(imageEmbeds[i * p + k]) * textEmbeds[t * p + k];
      logits[i * texts + t] = static_cast<float>(scale * dot);
    }
  auto write = [&](const std::optional<std::string> &path, Shape shape,
                   std::vector<float> &data) -> Error {
    if (!path)
      return Error::success();
    return writeNpy(*path, TensorView{DType::F32, shape, data.data()});
  };
  if (Error e = write(options.outputPath, {images, texts}, logits))
    return reportError(err, e.message());
  if (Error e = write(options.imageEmbedPath, {images, p}, imageEmbeds))
    return reportError(err, e.message());
  if (Error e = write(options.textEmbedPath, {texts, p}, textEmbeds))
    return reportError(err, e.message());

  nlohmann::json doc = nlohmann::json::array();
  for (int64_t i = 0; i < images && texts > 0; ++i) {
    const float *row = logits.data() + i * texts;
    std::vector<RankedScore> top =
        topProbabilities(row, static_cast<size_t>(texts),
                         static_cast<size_t>(options.topK.value_or(texts)));
    nlohmann::json scores = nlohmann::json::array();
    if (!options.json)
      out << names[i] << "\n";
    for (const RankedScore &score : top) {
      const std::string &caption = options.captions[score.index];
      if (options.json)
        scores.push_back({{"caption", caption},
                          {"index", score.index},
                          {"score", jsonNumber(score.probability)},
                          {"logit", jsonNumber(row[score.index])}});
      else
        out << "  " << formatNumber("%.4f", score.probability) << "  "
            << caption << "\n";
    }
    if (options.json)
      doc.push_back({{"image", names[i]}, {"captions", std::move(scores)}});
  }
  if (options.json)
    out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  out.flush();
  if (!out)
    return reportError(err, "cannot write to standard output");

  if (options.bench) {
    err << formatStartupReport(startupMs) << std::endl;
    imageTower.printTimings(err, "image");
    if (textTower.calls > 0)
      err << "text: " << formatNumber("%.3f", textTower.ms / textTower.calls)
          << " ms per batch (" << textTower.calls << " batches, " << texts
          << " captions)" << std::endl;
  }
  return 0;
}

} // namespace

int runZeroShot(const ModelSymbols &model, int argc, char **argv,
                std::ostream &out, std::ostream &err) {
  return runGuarded(err, [&] { return run(model, argc, argv, out, err); });
}

} // namespace kiln
