//===- AddedTokenSplitter.cpp - Finding added tokens in text --------------===//

#include "runtime/tokenizer/AddedTokenSplitter.h"
#include "runtime/tokenizer/Utf8.h"

#include <algorithm>

namespace kiln {

using unicode::kSpace;
using unicode::kWord;
using utf8::charAt;
using utf8::charBefore;

void AddedTokenSplitter::assign(std::vector<Token> newTokens) {
  tokens = std::move(newTokens);
  anyNormalized = false;
  for (auto &bucket : byFirstByte)
    bucket.clear();
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i].pattern.empty())
      continue;
    anyNormalized |= tokens[i].normalized;
    byFirstByte[static_cast<unsigned char>(tokens[i].pattern[0])].push_back(i);
  }
  // Longest first, so that the first match at a position is the longest.
  for (auto &bucket : byFirstByte)
    std::stable_sort(bucket.begin(), bucket.end(), [&](size_t a, size_t b) {
      return tokens[a].pattern.size() > tokens[b].pattern.size();
    });
}

void AddedTokenSplitter::splitPass(std::string_view text, bool normalizedPass,
                                   std::vector<Piece> &pieces) const {
  size_t pieceStart = 0; // end of the previous added token
  size_t pos = 0;
  while (pos < text.size()) {
    // Leftmost-longest: the first position with a match, its longest match.
    const Token *found = nullptr;
    for (size_t index : byFirstByte[static_cast<unsigned char>(text[pos])]) {
      const Token &token = tokens[index];
      if (token.normalized == normalizedPass &&
          text.compare(pos, token.pattern.size(), token.pattern) == 0) {
        found = &token;
        break;
      }
    }
    if (!found) {
      ++pos;
      continue;
    }
    size_t start = pos;
    size_t stop = pos + found->pattern.size();
    pos = stop;
    if (found->singleWord) {
      size_t previous;
      bool wordBefore =
          start > 0 && (charBefore(text, start, previous).classes & kWord);
      bool wordAfter =
          stop < text.size() && (charAt(text, stop).classes & kWord);
      if (wordBefore || wordAfter)
        continue; // left as text
    }
    // A token that starts with white space swallowed by an rstrip still
    // counts, overlap and all, as in `tokenizers`.
    if (found->stripLeft) {
      while (start > pieceStart) {
        size_t previous;
        if (!(charBefore(text, start, previous).classes & kSpace))
          break;
        start = previous;
      }
      start = std::max(start, pieceStart);
    }
    if (found->stripRight) {
      while (stop < text.size()) {
        utf8::TextChar c = charAt(text, stop);
        if (!(c.classes & kSpace))
          break;
        stop += c.length;
      }
    }
    if (pieceStart < start)
      pieces.push_back({pieceStart, start, -1});
    pieces.push_back({start, stop, found->id});
    pieceStart = stop;
  }
  if (pieceStart < text.size())
    pieces.push_back({pieceStart, text.size(), -1});
}

void AddedTokenSplitter::split(
    std::string_view text, const Normalizer &normalize,
    const std::function<void(int32_t)> &onToken,
    const std::function<void(std::string_view)> &onText) const {
  auto innerPass = [&](std::string_view stretch) {
    if (stretch.empty())
      return;
    if (!anyNormalized)
      return onText(stretch);
    std::vector<Piece> inner;
    splitPass(stretch, /*normalizedPass=*/true, inner);
    for (const Piece &piece : inner) {
      if (piece.addedId >= 0)
        onToken(piece.addedId);
      else
        onText(stretch.substr(piece.begin, piece.end - piece.begin));
    }
  };
  std::vector<Piece> raw;
  if (tokens.empty())
    raw.push_back({0, text.size(), -1});
  else
    splitPass(text, /*normalizedPass=*/false, raw);
  for (const Piece &piece : raw) {
    if (piece.addedId >= 0) {
      onToken(piece.addedId);
      continue;
    }
    std::string_view stretch =
        text.substr(piece.begin, piece.end - piece.begin);
    if (!normalize) {
      innerPass(stretch);
      continue;
    }
    std::string normalized = normalize(stretch);
    innerPass(normalized);
  }
}

} // namespace kiln
