//===- PreprocessTest.cpp - Pixel values like transformers' processors ----===//

#include "runtime/image/Preprocess.h"

#include "ImageTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace kiln;
using namespace kiln::test;

namespace {

PreprocessConfig parseOrFail(const std::string &text) {
  Expected<PreprocessConfig> config = parsePreprocessConfig(text, "pp.json");
  EXPECT_TRUE(config) << config.message();
  return config ? *config : PreprocessConfig();
}

TEST(Preprocess, MatchesTransformers) {
  nlohmann::json cases = imageCases();
  ASSERT_TRUE(cases.contains("preprocess"));
  ASSERT_GE(cases["preprocess"].size(), 20u);
  for (const auto &entry : cases["preprocess"]) {
    std::string configName = entry["config"], imageName = entry["image"];
    SCOPED_TRACE(configName + " on " + imageName);
    Expected<PreprocessConfig> config =
        readPreprocessConfig(imageFixture("configs/" + configName));
    ASSERT_TRUE(config) << config.message();
    Expected<Image> image = decodeImageFile(imageFixture(imageName));
    ASSERT_TRUE(image) << image.message();
    Expected<std::vector<float>> values = preprocess(*image, *config);
    ASSERT_TRUE(values) << values.message();

    std::vector<int64_t> shape = entry["shape"].get<std::vector<int64_t>>();
    ImageSize size = outputSize(*config, {image->height, image->width});
    ASSERT_EQ((std::vector<int64_t>{3, size.height, size.width}), shape);
    ASSERT_EQ(values->size(), size_t(3) * size.height * size.width);

    Shape storedShape;
    std::vector<float> expected = readFixtureFloats(
        imageFixture("expected/" + entry["expected"].get<std::string>()),
        &storedShape);
    int stride = entry["stride"];
    ASSERT_EQ(storedShape[0], 3);
    ASSERT_EQ(storedShape[1], (size.height + stride - 1) / stride);
    ASSERT_EQ(storedShape[2], (size.width + stride - 1) / stride);
    double worst = 0;
    size_t differing = 0, index = 0;
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < size.height; y += stride)
        for (int x = 0; x < size.width; x += stride, ++index) {
          float ours =
              (*values)[(size_t(c) * size.height + y) * size.width + x];
          float theirs = expected[index];
          double diff = std::fabs(double(ours) - double(theirs));
          worst = std::max(worst, diff);
          // Bitwise: exact cases must not even differ in the last bit.
          differing += std::memcmp(&ours, &theirs, sizeof(float)) != 0;
        }
    ASSERT_EQ(index, expected.size());
    double allowed = entry["max_abs_diff"];
    if (allowed == 0)
      EXPECT_EQ(differing, 0u) << "max |diff| " << worst;
    else
      EXPECT_LE(worst, allowed);
    if (stride > 1) {
      // The stored subsample misses most values: check the sum too.
      double sum = 0;
      for (float v : *values)
        sum += v;
      double expectedSum = entry["sum"];
      double slack =
          allowed == 0 ? 1e-6 * values->size() : allowed * values->size();
      EXPECT_NEAR(sum, expectedSum, slack);
    }
    std::printf("preprocess %-22s %-22s %3dx%-3d max |diff| %.3g (%zu "
                "values differ, allowed %.3g)\n",
                configName.c_str(), imageName.c_str(), size.height, size.width,
                worst, differing, allowed);
  }
}

TEST(Preprocess, DefaultsFollowTheProcessorClass) {
  PreprocessConfig vit = parseOrFail(R"({"image_processor_type":
                                         "ViTImageProcessor"})");
  EXPECT_EQ(vit.sizeMode, PreprocessConfig::SizeMode::HeightWidth);
  EXPECT_EQ(vit.size, (ImageSize{224, 224}));
  EXPECT_EQ(vit.resample, ResampleFilter::Bilinear);
  EXPECT_FALSE(vit.doCenterCrop);
  EXPECT_TRUE(vit.doRescale && vit.doNormalize && vit.doResize);
  EXPECT_EQ(vit.imageMean[0], 0.5);
  EXPECT_EQ(fixedOutputSize(vit), (ImageSize{224, 224}));

  PreprocessConfig clip = parseOrFail(R"({"feature_extractor_type":
                                          "CLIPFeatureExtractor"})");
  EXPECT_EQ(clip.processorType, "CLIPImageProcessor");
  EXPECT_EQ(clip.sizeMode, PreprocessConfig::SizeMode::ShortestEdge);
  EXPECT_EQ(clip.shortestEdge, 224);
  EXPECT_EQ(clip.resample, ResampleFilter::Bicubic);
  EXPECT_TRUE(clip.doCenterCrop);
  EXPECT_EQ(clip.imageStd[2], 0.27577711);
  EXPECT_EQ(fixedOutputSize(clip), (ImageSize{224, 224}));

  // A plain int size: square for ViT, the shortest edge for CLIP.
  PreprocessConfig legacyVit = parseOrFail(
      R"({"feature_extractor_type": "ViTFeatureExtractor", "size": 384})");
  EXPECT_EQ(legacyVit.size, (ImageSize{384, 384}));
  PreprocessConfig legacyClip = parseOrFail(
      R"({"image_processor_type": "CLIPImageProcessorFast", "size": 336,
          "crop_size": 300, "do_center_crop": false})");
  EXPECT_EQ(legacyClip.shortestEdge, 336);
  EXPECT_EQ(legacyClip.cropSize, (ImageSize{300, 300}));
  EXPECT_FALSE(fixedOutputSize(legacyClip));
  EXPECT_EQ(outputSize(legacyClip, {100, 200}), (ImageSize{336, 672}));
  EXPECT_EQ(outputSize(legacyClip, {201, 100}), (ImageSize{675, 336}));

  PreprocessConfig noResize = parseOrFail(
      R"({"image_processor_type": "ViTImageProcessor", "do_resize": false,
          "size": null})");
  EXPECT_FALSE(fixedOutputSize(noResize));
  EXPECT_EQ(outputSize(noResize, {23, 37}), (ImageSize{23, 37}));

  PreprocessConfig deit =
      parseOrFail(R"({"image_processor_type": "DeiTImageProcessor"})");
  EXPECT_EQ(deit.size, (ImageSize{256, 256}));
  EXPECT_EQ(fixedOutputSize(deit), (ImageSize{224, 224}));
}

TEST(Preprocess, BadFieldsNameTheFileAndField) {
  struct BadConfig {
    const char *json;
    const char *expected;
  };
  const BadConfig cases[] = {
      {R"({"size": 224})", "field 'image_processor_type' is missing"},
      {R"({"image_processor_type": 5})", "field 'image_processor_type'"},
      {R"({"image_processor_type": "ConvNextImageProcessor"})",
       "field 'image_processor_type': unsupported image processor"},
      {R"({"feature_extractor_type": "BeitFeatureExtractor"})",
       "field 'feature_extractor_type': unsupported"},
      {R"({"image_processor_type": "ViTImageProcessor", "size": "big"})",
       "field 'size': expected"},
      {R"({"image_processor_type": "ViTImageProcessor", "size": -3})",
       "field 'size'"},
      {R"({"image_processor_type": "ViTImageProcessor", "size": 22.5})",
       "field 'size'"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "size": {"longest_edge": 5}})",
       "field 'size'"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "size": {"height": 5}})",
       "field 'size'"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "size": {"height": 5, "width": 100000}})",
       "field 'size'"},
      {R"({"image_processor_type": "ViTImageProcessor", "resample": 7})",
       "field 'resample': expected a PIL filter code"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "resample": "bilinear"})",
       "field 'resample'"},
      {R"({"image_processor_type": "ViTImageProcessor", "do_resize": "yes"})",
       "field 'do_resize': expected true or false"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "do_normalize": 1})",
       "field 'do_normalize'"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "image_mean": [0.5, 0.5]})",
       "field 'image_mean'"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "image_std": [0.5, 0, 0.5]})",
       "field 'image_std': expected a non-zero"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "rescale_factor": "1/255"})",
       "field 'rescale_factor'"},
      {R"({"image_processor_type": "CLIPImageProcessor",
           "crop_size": {"shortest_edge": 224}})",
       "field 'crop_size'"},
      {R"({"image_processor_type": "ViTImageProcessor",
           "do_center_crop": true, "crop_size": [1, 2, 3]})",
       "field 'crop_size'"},
      {R"({"image_processor_type": )", "invalid JSON"},
      {R"([1, 2])", "expected a JSON object"},
  };
  for (const BadConfig &bad : cases) {
    SCOPED_TRACE(bad.json);
    Expected<PreprocessConfig> config =
        parsePreprocessConfig(bad.json, "dir/preprocessor_config.json");
    ASSERT_FALSE(config);
    EXPECT_EQ(config.message().rfind("dir/preprocessor_config.json: ", 0), 0u)
        << config.message();
    EXPECT_NE(config.message().find(bad.expected), std::string::npos)
        << config.message();
  }
  TempDir dir;
  Expected<PreprocessConfig> missing =
      readPreprocessConfig(dir.file("preprocessor_config.json"));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find(dir.file("preprocessor_config.json")),
            std::string::npos);
}

Image gradient(int height, int width) {
  Image image;
  image.height = height;
  image.width = width;
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c)
        image.pixels.push_back(
            static_cast<uint8_t>((x * 7 + y * 13 + c) & 255));
  return image;
}

TEST(Preprocess, CenterCropPadsWithZeros) {
  Image image = gradient(3, 4);
  // Crop 5x2: rows -1..3 (floor((3 - 5) / 2) = -1), columns 1..2.
  Image cropped = centerCropImage(image, {5, 2});
  ASSERT_EQ(cropped.height, 5);
  ASSERT_EQ(cropped.width, 2);
  for (int x = 0; x < 2; ++x) {
    EXPECT_EQ(cropped.at(0, x, 0), 0);
    EXPECT_EQ(cropped.at(4, x, 0), 0);
    for (int y = 1; y < 4; ++y)
      EXPECT_EQ(cropped.at(y, x, 1), image.at(y - 1, x + 1, 1));
  }
}

TEST(Preprocess, SameSizeResizeIsACopy) {
  Image image = gradient(9, 11);
  for (ResampleFilter filter :
       {ResampleFilter::Nearest, ResampleFilter::Bilinear,
        ResampleFilter::Bicubic, ResampleFilter::Lanczos})
    EXPECT_EQ(resizeImage(image, {9, 11}, filter).pixels, image.pixels);
  // A flat image stays flat under every filter, reduced or enlarged.
  Image flat = gradient(1, 1);
  flat = resizeImage(flat, {7, 5}, ResampleFilter::Nearest);
  for (ResampleFilter filter :
       {ResampleFilter::Box, ResampleFilter::Bilinear, ResampleFilter::Hamming,
        ResampleFilter::Bicubic, ResampleFilter::Lanczos}) {
    for (ImageSize size : {ImageSize{3, 2}, ImageSize{20, 13}}) {
      Image resized = resizeImage(flat, size, filter);
      ASSERT_EQ(resized.pixels.size(), size_t(size.height) * size.width * 3);
      for (size_t i = 0; i < resized.pixels.size(); ++i)
        ASSERT_EQ(resized.pixels[i], flat.pixels[i % 3])
            << resampleFilterName(filter);
    }
  }
}

TEST(Preprocess, RefusesHugeOutputsAndSmallBuffers) {
  PreprocessConfig clip =
      parseOrFail(R"({"image_processor_type": "CLIPImageProcessor",
                      "do_center_crop": false})");
  clip.name = "clip.json";
  // 1x5000 to a shortest edge of 224 would be 224x1120000.
  Expected<std::vector<float>> values = preprocess(gradient(1, 5000), clip);
  ASSERT_FALSE(values);
  EXPECT_EQ(values.message().rfind("clip.json: ", 0), 0u) << values.message();
  EXPECT_NE(values.message().find("1120000x224"), std::string::npos)
      << values.message();

  PreprocessConfig vit =
      parseOrFail(R"({"image_processor_type": "ViTImageProcessor",
                      "size": {"height": 4, "width": 4}})");
  std::vector<float> small(47);
  Error error = preprocess(gradient(8, 8), vit, small.data(), small.size());
  ASSERT_TRUE(error);
  EXPECT_NE(error.message().find("does not fit the 47 floats"),
            std::string::npos)
      << error.message();
  std::vector<float> exact(48);
  EXPECT_FALSE(preprocess(gradient(8, 8), vit, exact.data(), exact.size()));
}

} // namespace
