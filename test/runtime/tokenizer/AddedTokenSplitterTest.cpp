//===- AddedTokenSplitterTest.cpp - Splitting text on added tokens --------===//
//
// The rules both tokenizers share (their fixture tests compare whole
// encodings with `tokenizers`); here each rule on its own.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/AddedTokenSplitter.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <vector>

using namespace kiln;

namespace {

using Token = AddedTokenSplitter::Token;

/// The pieces as text: "[id]" for a token, the text itself otherwise.
std::vector<std::string>
pieces(const AddedTokenSplitter &splitter, std::string_view text,
       const AddedTokenSplitter::Normalizer &normalize = nullptr) {
  std::vector<std::string> out;
  splitter.split(
      text, normalize,
      [&](int32_t id) { out.push_back("[" + std::to_string(id) + "]"); },
      [&](std::string_view piece) {
        EXPECT_FALSE(piece.empty());
        out.emplace_back(piece);
      });
  return out;
}

AddedTokenSplitter splitterOf(std::vector<Token> tokens) {
  AddedTokenSplitter splitter;
  splitter.assign(std::move(tokens));
  return splitter;
}

using Pieces = std::vector<std::string>;

} // namespace

TEST(AddedTokenSplitter, NoTokensIsOneStretch) {
  AddedTokenSplitter splitter;
  EXPECT_TRUE(splitter.empty());
  EXPECT_EQ(pieces(splitter, "a b"), (Pieces{"a b"}));
  EXPECT_EQ(pieces(splitter, ""), (Pieces{}));
}

TEST(AddedTokenSplitter, LeftmostLongest) {
  AddedTokenSplitter splitter =
      splitterOf({{"<a>", 1}, {"<a><b>", 2}, {"b>", 3}, {"", 4}});
  EXPECT_EQ(pieces(splitter, "x<a><b>y<a>b>"),
            (Pieces{"x", "[2]", "y", "[1]", "[3]"}));
  // Of two patterns of the same length, the first listed wins.
  AddedTokenSplitter same = splitterOf({{"ab", 7}, {"ab", 8}});
  EXPECT_EQ(pieces(same, "abab"), (Pieces{"[7]", "[7]"}));
}

TEST(AddedTokenSplitter, StripTakesWhiteSpaceButNotPastTheLastMatch) {
  Token mask{"<m>", 5};
  mask.stripLeft = true;
  Token end{"</s>", 6};
  end.stripRight = true;
  AddedTokenSplitter splitter = splitterOf({mask, end});
  EXPECT_EQ(pieces(splitter, "a  <m> b"), (Pieces{"a", "[5]", " b"}));
  EXPECT_EQ(pieces(splitter, "a</s> \t b"), (Pieces{"a", "[6]", "b"}));
  // The rstrip of </s> took the spaces: the lstrip of <m> cannot.
  EXPECT_EQ(pieces(splitter, "</s>  <m>"), (Pieces{"[6]", "[5]"}));
  // Non-breaking space (U+00A0) is white space too.
  EXPECT_EQ(pieces(splitter, "a\xC2\xA0<m>"), (Pieces{"a", "[5]"}));
}

TEST(AddedTokenSplitter, SingleWordMustNotTouchAWordCharacter) {
  Token word{"cat", 9};
  word.singleWord = true;
  AddedTokenSplitter splitter = splitterOf({word});
  EXPECT_EQ(pieces(splitter, "a cat."), (Pieces{"a ", "[9]", "."}));
  EXPECT_EQ(pieces(splitter, "cats"), (Pieces{"cats"}));
  EXPECT_EQ(pieces(splitter, "\xC3\xA9"
                             "cat"),
            (Pieces{"\xC3\xA9"
                    "cat"}));
  // A stray byte is no word character.
  EXPECT_EQ(pieces(splitter, "\x80"
                             "cat"),
            (Pieces{"\x80", "[9]"}));
}

TEST(AddedTokenSplitter, NormalizedTokensAreFoundInNormalizedText) {
  Token raw{"[X]", 1};
  Token normalized{"hi", 2};
  normalized.normalized = true;
  AddedTokenSplitter splitter = splitterOf({raw, normalized});
  auto lower = [](std::string_view text) {
    std::string out(text);
    for (char &c : out)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  // [X] is searched for in the raw text only, hi in the lowered stretches.
  EXPECT_EQ(pieces(splitter, "HI[X]oHi", lower),
            (Pieces{"[2]", "[1]", "o", "[2]"}));
  EXPECT_EQ(pieces(splitter, "[x]", lower), (Pieces{"[x]"}));
  // Without a normalizer the raw stretches are searched as they are.
  EXPECT_EQ(pieces(splitter, "HI[X]hi"), (Pieces{"HI", "[1]", "[2]"}));
}
