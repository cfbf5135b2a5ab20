//===- ImageTest.cpp - Decoding images like PIL ---------------------------===//

#include "runtime/image/Image.h"

#include "ImageTestUtil.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <unistd.h>

using namespace kiln;
using namespace kiln::test;

namespace {

/// Checks that decoding fails with a message that starts with `name` and
/// contains `part`.
void expectFailure(const Expected<Image> &image, const std::string &name,
                   const std::string &part) {
  ASSERT_FALSE(image) << name << " decoded as " << image->width << "x"
                      << image->height;
  EXPECT_EQ(image.message().rfind(name + ": ", 0), 0u) << image.message();
  EXPECT_NE(image.message().find(part), std::string::npos)
      << "expected '" << part << "' in: " << image.message();
  EXPECT_EQ(image.message().find('\n'), std::string::npos);
}

TEST(ImageDecode, MatchesPilConvertRgb) {
  nlohmann::json cases = imageCases();
  ASSERT_TRUE(cases.contains("decode"));
  ASSERT_GE(cases["decode"].size(), 10u);
  for (const auto &entry : cases["decode"]) {
    std::string name = entry["image"];
    SCOPED_TRACE(name);
    Expected<Image> image = decodeImageFile(imageFixture(name));
    ASSERT_TRUE(image) << image.message();
    ASSERT_EQ(image->height, entry["height"].get<int>());
    ASSERT_EQ(image->width, entry["width"].get<int>());
    Shape shape;
    std::vector<float> expected =
        readFixtureFloats(imageFixture("decoded/" + name + ".npy"), &shape);
    ASSERT_EQ(shape, (Shape{image->height, image->width, 3}));
    ASSERT_EQ(expected.size(), image->pixels.size());
    int worst = 0;
    for (size_t i = 0; i < expected.size(); ++i)
      worst = std::max(worst, std::abs(int(image->pixels[i]) -
                                       static_cast<int>(expected[i])));
    int allowed = entry["max_level_diff"].get<int>();
    EXPECT_LE(worst, allowed);
    std::printf("decode %-24s max |Kiln - PIL| = %d levels (allowed %d)\n",
                name.c_str(), worst, allowed);
  }
}

TEST(ImageDecode, DetectsFormatsByMagicBytes) {
  EXPECT_EQ(detectImageFormat("\x89PNG\r\n\x1a\n...."), ImageFormat::PNG);
  EXPECT_EQ(detectImageFormat("\xFF\xD8\xFF\xE0"), ImageFormat::JPEG);
  EXPECT_EQ(detectImageFormat("BM...."), ImageFormat::BMP);
  EXPECT_EQ(detectImageFormat("P6\n1 1\n255\n..."), ImageFormat::PNM);
  EXPECT_EQ(detectImageFormat("P5 1 1 255 ."), ImageFormat::PNM);
  EXPECT_EQ(detectImageFormat("P3\n1 1\n255\n1 2 3"), ImageFormat::Unknown);
  EXPECT_EQ(detectImageFormat("GIF89a"), ImageFormat::Unknown);
  EXPECT_EQ(detectImageFormat(std::string("\0\0\x02\0", 4)),
            ImageFormat::Unknown); // TGA
  EXPECT_EQ(detectImageFormat("RIFF\0\0\0\0WEBPVP8 "), ImageFormat::Unknown);
  EXPECT_EQ(detectImageFormat(""), ImageFormat::Unknown);
}

TEST(ImageDecode, RefusesBadFiles) {
  std::string empty = imageFixture("bad/empty.png");
  expectFailure(decodeImageFile(empty), empty, "empty file (0 bytes)");
  std::string truncated = imageFixture("bad/truncated.png");
  expectFailure(decodeImageFile(truncated), truncated, "PNG");
  std::string truncatedJpeg = imageFixture("bad/truncated.jpg");
  expectFailure(decodeImageFile(truncatedJpeg), truncatedJpeg,
                "truncated JPEG");
  // An IDAT chunk claiming 2 GiB in a small file: stb 2.27 would allocate
  // the claimed size before reading.
  std::string png = readFile(imageFixture("rgb_37x23.png"));
  std::string longChunk = png.substr(0, 33) +
                          std::string("\x7e\x00\x00\x0cIDAT", 8) +
                          png.substr(41, 40);
  expectFailure(decodeImage(longChunk, "long.png"), "long.png",
                "cannot decode the PNG image (truncated or corrupt file?): a "
                "chunk is longer than the rest of the file");
  // PIL: "image file is truncated", also when only the end marker is gone.
  for (const char *name :
       {"bad/no_end_marker.jpg", "bad/truncated_progressive.jpg"}) {
    std::string path = imageFixture(name);
    expectFailure(decodeImageFile(path), path, "truncated JPEG file");
  }
  // 300 codes in a Huffman table: stb 2.27 wrote past its table.
  std::string badTable = imageFixture("bad/bad_huffman_table.jpg");
  expectFailure(decodeImageFile(badTable), badTable,
                "cannot decode the JPEG image (corrupt or unsupported file): "
                "Bogus Huffman table definition");
  expectFailure(decodeImage("\xFF\xD8\xFF\xD8\xFF\xD9", "twice.jpg"),
                "twice.jpg",
                "cannot decode the JPEG image (corrupt or unsupported file): "
                "Invalid JPEG file structure: two SOI markers");
  std::string truncatedBmp = imageFixture("bad/truncated.bmp");
  expectFailure(decodeImageFile(truncatedBmp), truncatedBmp, "truncated BMP");
  std::string gif = imageFixture("bad/image.gif");
  expectFailure(decodeImageFile(gif), gif,
                "unsupported image format (PNG, JPEG, BMP or PPM expected, "
                "found GIF)");
  std::string text = imageFixture("bad/text.png");
  expectFailure(decodeImageFile(text), text,
                "unsupported image format (PNG, JPEG, BMP or PPM expected)");
}

TEST(ImageDecode, NamesRecognisedFormatsItRefuses) {
  using namespace std::string_literals;
  expectFailure(decodeImage("MM\0*\0\0\0\x08"s, "a.tif"), "a.tif",
                "found TIFF)");
  expectFailure(decodeImage("\0\0\0\x0cjP  \r\n\x87\n"s, "a.jp2"), "a.jp2",
                "found JPEG 2000 or AVIF)");
  expectFailure(decodeImage("RIFF\x10\0\0\0WEBPVP8 "s, "a.webp"), "a.webp",
                "found WebP)");
  // Text starting with a NUL byte names no format.
  Expected<Image> zeros = decodeImage("\0\0\0\0 not an image"s, "zeros");
  ASSERT_FALSE(zeros);
  EXPECT_EQ(zeros.message().find("found"), std::string::npos)
      << zeros.message();
}

TEST(ImageDecode, RefusesHugeImagesBeforeDecoding) {
  // A valid header claiming 100000x100000 in a file of a few dozen bytes:
  // refused from the header, before any allocation.
  std::string huge = imageFixture("bad/huge_100000x100000.png");
  expectFailure(decodeImageFile(huge), huge,
                "PNG image of 100000x100000 (10000000000 pixels) exceeds the "
                "limit of 134217728 pixels");

  ImageLimits limits;
  limits.maxPixels = 37 * 23 - 1;
  std::string rgb = imageFixture("rgb_37x23.png");
  expectFailure(decodeImageFile(rgb, limits), rgb,
                "image of 37x23 (851 pixels) exceeds the limit of 850");
  limits.maxPixels = 37 * 23;
  EXPECT_TRUE(decodeImageFile(rgb, limits));

  limits.maxFileBytes = 10;
  expectFailure(decodeImageFile(rgb, limits), rgb, "larger than the limit");

  // JPEG: from the frame header, before libjpeg allocates the image.
  std::string hugeJpeg = imageFixture("bad/huge_60000x60000.jpg");
  expectFailure(decodeImageFile(hugeJpeg), hugeJpeg,
                "JPEG image of 60000x60000 (3600000000 pixels) exceeds the "
                "limit of 134217728 pixels");
  ImageLimits jpegLimits;
  jpegLimits.maxPixels = 40 * 30 - 1;
  std::string photo = imageFixture("photo_40x30.jpg");
  expectFailure(decodeImageFile(photo, jpegLimits), photo,
                "JPEG image of 40x30 (1200 pixels) exceeds the limit of 1199");
  jpegLimits.maxPixels = 40 * 30;
  EXPECT_TRUE(decodeImageFile(photo, jpegLimits));
}

TEST(ImageDecode, JpegCorruptDataIsDecodedLikePil) {
  // libjpeg recovers from damaged scan data with a warning, which PIL
  // ignores; the pixels are compared in MatchesPilConvertRgb. Nothing may
  // reach stderr.
  std::string corrupt = imageFixture("corrupt_data_40x30.jpg");
  testing::internal::CaptureStderr();
  Expected<Image> image = decodeImageFile(corrupt);
  EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
  ASSERT_TRUE(image) << image.message();
  EXPECT_EQ(image->width, 40);
}

TEST(ImageDecode, JpegWithThousandsOfScansIsRefused) {
  // The last scan of a progressive file repeated 600 times: libjpeg would
  // decode it (with warnings), each scan a pass over the whole image.
  std::string bytes = readFile(imageFixture("progressive_33x21.jpg"));
  size_t lastScan = bytes.rfind("\xFF\xDA");
  ASSERT_NE(lastScan, std::string::npos);
  ASSERT_EQ(bytes.substr(bytes.size() - 2), "\xFF\xD9");
  std::string scan = bytes.substr(lastScan, bytes.size() - 2 - lastScan);
  std::string many = bytes.substr(0, bytes.size() - 2);
  for (int i = 0; i < 600; ++i)
    many += scan;
  many += "\xFF\xD9";
  expectFailure(decodeImage(many, "scans.jpg"), "scans.jpg",
                "JPEG image with more than 500 progressive scans refused");
}

TEST(ImageDecode, RefusesUnreadableFiles) {
  TempDir dir;
  std::string missing = dir.file("missing.png");
  expectFailure(decodeImageFile(missing), missing, "No such file");
  expectFailure(decodeImageFile(dir.path()), dir.path(), "is a directory");
  std::string locked = dir.file("locked.png");
  writeFile(locked, readFile(imageFixture("rgb_37x23.png")));
  ASSERT_EQ(::chmod(locked.c_str(), 0), 0);
  if (::geteuid() != 0) // root reads anything
    expectFailure(decodeImageFile(locked), locked, "Permission denied");
}

TEST(ImageDecode, NamesTheSourceOfInMemoryBytes) {
  expectFailure(decodeImage("", "upload"), "upload", "empty");
  expectFailure(decodeImage("GIF89a....", "upload"), "upload", "found GIF");
  std::string png = readFile(imageFixture("rgb_37x23.png"));
  Expected<Image> image = decodeImage(png, "upload");
  ASSERT_TRUE(image) << image.message();
  EXPECT_EQ(image->pixels.size(), 37u * 23 * 3);
}

TEST(ImageDecode, EveryTruncationFailsCleanly) {
  // Every strict prefix of a valid file is refused, never decoded into a
  // partly grey image. Accepted: a BMP missing the padding of its last row,
  // a PNG missing the CRC of its IEND chunk (all pixels are there).
  for (const char *name :
       {"rgb_37x23.png", "photo_40x30.jpg", "progressive_33x21.jpg",
        "cmyk_18x14.jpg", "gray_21x19.jpg", "rgb_19x27.ppm", "rgb_31x17.bmp",
        "palette_21x21.png", "gray16_12x10.png", "maxval100_7x5.ppm"}) {
    SCOPED_TRACE(name);
    std::string bytes = readFile(imageFixture(name));
    ASSERT_FALSE(bytes.empty());
    std::string file = name;
    size_t tolerated = 0;
    if (file.find(".bmp") != std::string::npos)
      tolerated = 3; // 31 * 3 = 93 bytes per row, padded to 96
    else if (file.find(".png") != std::string::npos)
      tolerated = 4; // the IEND chunk's CRC
    for (size_t size = 0; size + tolerated < bytes.size(); ++size) {
      Expected<Image> image = decodeImage(bytes.substr(0, size), "prefix");
      EXPECT_FALSE(image) << "a prefix of " << size << " of " << bytes.size()
                          << " bytes decoded";
      if (!image)
        EXPECT_EQ(image.message().rfind("prefix: ", 0), 0u);
    }
    EXPECT_TRUE(decodeImage(bytes, name));
  }
}

TEST(ImageDecode, PpmMaxValuesRescaleLikePil) {
  // PIL: round(value / maxval * 255), half to even; 16-bit PGM becomes
  // mode "I" and its RGB conversion clamps at 255.
  Expected<Image> p6 =
      decodeImage(std::string("P6\n2 1\n100\n") +
                      std::string("\x00\x32\x64\x19\x4b\x63", 6),
                  "maxval.ppm");
  ASSERT_TRUE(p6) << p6.message();
  EXPECT_EQ(p6->pixels, (std::vector<uint8_t>{0, 128, 255, 64, 191, 252}));
  Expected<Image> p6wide = decodeImage(
      std::string("P6 2 1 65535 ") +
          std::string("\x00\x00\x01\x00\x80\x7f\xff\xff\x12\x34\x00\xff", 12),
      "wide.ppm");
  ASSERT_TRUE(p6wide) << p6wide.message();
  EXPECT_EQ(p6wide->pixels, (std::vector<uint8_t>{0, 1, 128, 255, 18, 1}));
  Expected<Image> p5wide =
      decodeImage(std::string("P5\n# comment\n3 1\n1000\n") +
                      std::string("\x00\x00\x00\x03\x03\xe8", 6),
                  "wide.pgm");
  ASSERT_TRUE(p5wide) << p5wide.message();
  EXPECT_EQ(p5wide->pixels,
            (std::vector<uint8_t>{0, 0, 0, 197, 197, 197, 255, 255, 255}));
}

} // namespace
