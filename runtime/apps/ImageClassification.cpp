//===- ImageClassification.cpp - The command line of ViT and Swin ---------===//

#include "runtime/apps/ImageClassification.h"

#include "runtime/apps/CommandLine.h"
#include "runtime/apps/VisionInput.h"
#include "runtime/session/Signature.h"
#include "runtime/support/Npy.h"
#include "runtime/threads/ThreadPool.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace kiln {
namespace {

constexpr int64_t kDefaultTopK = 5;
constexpr int64_t kMaxTopK = 1 << 20;
/// Values of a pooled state printed per image without --output.
constexpr int64_t kPrintedValues = 8;

struct Options : AppOptions {
  bool help = false;
  std::vector<std::string> images;
  std::optional<int64_t> topK;
  std::optional<std::string> outputPath, pixelsPath, pixelsOutputPath,
      hiddenStatesPath;
};

Expected<Options> parseOptions(int argc, char **argv) {
  Options options;
  ArgumentScanner args(argc, argv, /*positionals=*/true);
  while (args.next()) {
    const std::string &arg = args.arg(), &flag = args.flag();
    if (args.positional()) {
      options.images.push_back(arg);
      continue;
    }
    if (flag == "--help" || flag == "-h") {
      if (Error e = args.noValue())
        return e;
      options.help = true;
    } else if (flag == "--top-k") {
      if (Error e = args.takeTopK(options.topK, kMaxTopK))
        return e;
    } else if (flag == "--output" || flag == "-o") {
      if (Error e = args.takeFileName(options.outputPath))
        return e;
    } else if (flag == "--pixels") {
      if (Error e = args.takeFileName(options.pixelsPath))
        return e;
    } else if (flag == "--pixels-output") {
      if (Error e = args.takeFileName(options.pixelsOutputPath))
        return e;
    } else if (flag == "--hidden-states") {
      if (Error e = args.takeFileName(options.hiddenStatesPath))
        return e;
    } else if (std::optional<Error> common = args.takeAppOption(options)) {
      if (*common)
        return std::move(*common);
    } else {
      return makeError("unknown argument '", arg,
                       "' (see --help; put a file name that starts with '-' "
                       "after --)");
    }
  }
  if (options.truncate)
    return makeError("--truncate does not apply to images");
  if (options.pixelsPath && !options.images.empty())
    return makeError("give image files or --pixels, not both");
  return options;
}

struct Metadata {
  VisionMetadata vision;
  bool classifier = false;
  std::vector<std::string> labels;
  int64_t hiddenSize = 0;
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
  std::string head = root.value("head", "");
  if (head != "image-classification" && head != "base")
    return makeError("model metadata: head: expected image-classification "
                     "or base, got '",
                     head, "'");
  metadata.classifier = head == "image-classification";
  auto hidden = root.find("hidden_size");
  if (hidden == root.end() || !hidden->is_number_integer())
    return makeError("model metadata: hidden_size: expected an integer");
  metadata.hiddenSize = hidden->get<int64_t>();
  auto labels = root.find("id2label");
  if (labels != root.end() && labels->is_object()) {
    metadata.labels.resize(labels->size());
    for (size_t i = 0; i < labels->size(); ++i) {
      auto it = labels->find(std::to_string(i));
      if (it == labels->end() || !it->is_string())
        return makeError("model metadata: id2label: expected the keys 0 to ",
                         labels->size() - 1, " with string labels");
      metadata.labels[i] = it->get<std::string>();
    }
  }
  if (metadata.classifier && metadata.labels.empty())
    return makeError("model metadata: id2label: a classifier needs labels");
  return metadata;
}

void printUsage(const std::string &program, const Metadata &metadata,
                const ModelSymbols &model, std::ostream &out) {
  const VisionMetadata &v = metadata.vision;
  out << "usage: " << program
      << " IMAGE... [--top-k K] [--output FILE.npy] [--pixels FILE.npy]\n"
         "       [--pixels-output FILE.npy] [--json] [--bench] "
         "[--threads N] [--weights FILE]...\n\n";
  if (metadata.classifier)
    out << "Classifies images into " << metadata.labels.size()
        << " labels and prints the top K of each with its probability.\n";
  else
    out << "Encodes images: the pooled (or [CLS]) state of each.\n";
  out << "Images: PNG, JPEG, BMP or PPM, resized and normalized as the "
         "checkpoint's\npreprocessor_config.json asks, to "
      << v.height << "x" << v.width << "; they run in batches of";
  for (int64_t size : v.batchSizes)
    out << " " << size;
  out << ".\n\noptions:\n";
  if (metadata.classifier)
    out << "  --top-k K              labels per image (default " << kDefaultTopK
        << ")\n"
           "  --output FILE.npy      write the logits [images, labels]\n";
  else
    out << "  --output FILE.npy      write the pooled states [images, "
           "hidden]\n                         (or the last hidden states)\n"
           "  --hidden-states FILE.npy  write the last hidden states "
           "[images, tokens, hidden]\n";
  out << "  --pixels FILE.npy      take preprocessed pixels f32 [N, "
      << v.channels << ", " << v.height << ", " << v.width
      << "]\n"
         "                         instead of image files\n"
         "  --pixels-output FILE.npy  write the preprocessed pixels\n";
  printCommonOptionsHelp(out, model);
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
    return reportError(err, "no images (give image files, or --pixels "
                            "FILE.npy; see --help)");
  if (options.hiddenStatesPath && metadata.classifier)
    return reportError(err, "--hidden-states: this classifier returns only "
                            "the logits");
  if (options.threads)
    ThreadPool::global().setNumThreads(*options.threads);

  // Every image is decoded and checked before the weights are loaded.
  Expected<Tensor> pixels = loadPixelInput(model, metadata.vision,
                                           options.images, options.pixelsPath);
  if (!pixels)
    return reportError(err, pixels.message());
  if (options.pixelsOutputPath)
    if (Error e = writeNpy(*options.pixelsOutputPath, pixels->view()))
      return reportError(err, e.message());
  const int64_t n = pixels->shape[0];
  std::vector<std::string> names = options.images;
  for (int64_t i = static_cast<int64_t>(names.size()); i < n; ++i)
    names.push_back(*options.pixelsPath + "[" + std::to_string(i) + "]");

  Expected<Session> session =
      Session::create(model, std::move(*signature), options.weightsPaths);
  if (!session)
    return reportError(err, session.message());
  const double startupMs = processUptimeMs();

  // The result of each image: logits, or the pooled / hidden states.
  std::string resultName = metadata.classifier ? "logits" : "pooled";
  const EntrySignature *first = session->entry("classify_1");
  if (!first)
    return reportError(err, "model signature: no entry classify_1");
  if (!metadata.classifier && !first->find("pooled", ArgRole::Output))
    resultName = "last_hidden_state";
  std::vector<std::string> collected = {resultName};
  if (options.hiddenStatesPath && resultName != "last_hidden_state")
    collected.push_back("last_hidden_state");
  // Per collected output: its shape per image and the values of all images.
  std::map<std::string, std::pair<Shape, std::vector<float>>> results;
  for (const std::string &name : collected) {
    const SignatureArg *arg = first->find(name, ArgRole::Output);
    if (!arg || arg->dtype != DType::F32)
      return reportError(err, "model signature: classify_1 has no f32 output " +
                                  name);
    Shape row(arg->shape.begin() + 1, arg->shape.end());
    size_t elements = static_cast<size_t>(std::accumulate(
        row.begin(), row.end(), int64_t{1}, std::multiplies<>()));
    results[name] = {row,
                     std::vector<float>(static_cast<size_t>(n) * elements)};
  }
  BatchedEntry entry(*session, metadata.vision, "classify_");
  if (Error e = entry.run(
          *pixels, [&](const auto &outputs, int64_t firstRow, int64_t rows) {
            for (auto &[name, result] : results) {
              size_t elements = result.second.size() / static_cast<size_t>(n);
              std::memcpy(result.second.data() + firstRow * elements,
                          outputs.find(name)->second.data(),
                          static_cast<size_t>(rows) * elements * sizeof(float));
            }
          }))
    return reportError(err, e.message());
  auto writeResult = [&](const std::string &name,
                         const std::string &path) -> Error {
    auto &[row, values] = results[name];
    Shape shape = {n};
    shape.insert(shape.end(), row.begin(), row.end());
    return writeNpy(path, TensorView{DType::F32, shape, values.data()});
  };
  if (options.outputPath)
    if (Error e = writeResult(resultName, *options.outputPath))
      return reportError(err, e.message());
  if (options.hiddenStatesPath)
    if (Error e = writeResult("last_hidden_state", *options.hiddenStatesPath))
      return reportError(err, e.message());
  const Shape &rowShape = results[resultName].first;
  const size_t rowElements = results[resultName].second.size() / n;
  const std::vector<float> &values = results[resultName].second;

  nlohmann::json doc = nlohmann::json::array();
  for (int64_t i = 0; i < n; ++i) {
    const float *row = values.data() + i * rowElements;
    if (metadata.classifier) {
      std::vector<RankedScore> top = topProbabilities(
          row, rowElements,
          static_cast<size_t>(options.topK.value_or(kDefaultTopK)));
      nlohmann::json labels = nlohmann::json::array();
      if (!options.json)
        out << names[i] << "\n";
      for (const RankedScore &score : top) {
        const std::string &label = metadata.labels[score.index];
        if (options.json)
          labels.push_back({{"label", label},
                            {"index", score.index},
                            {"score", jsonNumber(score.probability)}});
        else
          out << "  " << formatNumber("%.4f", score.probability) << "  "
              << label << "\n";
      }
      if (options.json)
        doc.push_back({{"image", names[i]}, {"labels", std::move(labels)}});
      continue;
    }
    // Base models: the pooled state, or the first ([CLS]) hidden state.
    int64_t d = rowShape.back();
    if (options.json) {
      nlohmann::json values = nlohmann::json::array();
      for (int64_t j = 0; j < d; ++j)
        values.push_back(jsonNumber(row[j]));
      doc.push_back({{"image", names[i]}, {resultName, std::move(values)}});
      continue;
    }
    out << names[i] << ": [";
    for (int64_t j = 0; j < std::min(d, kPrintedValues); ++j)
      out << (j ? ", " : "") << formatNumber("%.4f", row[j]);
    out << (d > kPrintedValues ? ", \u2026] (" + std::to_string(d) + " values)"
                               : std::string("]"))
        << "\n";
  }
  if (options.json)
    out << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
        << "\n";
  else if (options.outputPath)
    out << "wrote " << resultName << " of " << n << " image"
        << (n == 1 ? "" : "s") << " to " << *options.outputPath << "\n";
  out.flush();
  if (!out)
    return reportError(err, "cannot write to standard output");

  if (options.bench) {
    err << formatStartupReport(startupMs) << std::endl;
    entry.printTimings(err, "classify");
  }
  return 0;
}

} // namespace

int runImageClassification(const ModelSymbols &model, int argc, char **argv,
                           std::ostream &out, std::ostream &err) {
  return runGuarded(err, [&] { return run(model, argc, argv, out, err); });
}

} // namespace kiln
