//===- Npy.cpp - Reading and writing NumPy .npy files ---------------------===//
//
// Layout of a .npy file: the magic "\x93NUMPY", a major and a minor version
// byte, the header length (2 bytes little-endian for 1.0, 4 bytes for 2.0 and
// 3.0), then the header: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a final newline, then the raw data.
//
//===----------------------------------------------------------------------===//

#include "runtime/support/Npy.h"
#include "runtime/support/FileUtil.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

namespace kiln {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

struct DescrInfo {
  const char *descr;
  DType type;
};
constexpr DescrInfo kDescrs[] = {
    {"<f4", DType::F32}, {"<f8", DType::F64}, {"<f2", DType::F16},
    {"<i4", DType::I32}, {"<i8", DType::I64}, {"|b1", DType::I1},
};
constexpr const char *kSupportedDescrs = "<f4, <f8, <f2, <i4, <i8 or |b1";

/// Printable rendering of raw bytes for messages: "\x93NUMPY" style.
std::string escapeBytes(const unsigned char *p, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

struct NpyHeader {
  DType type = DType::F32;
  Shape shape;
  std::string descr;
};

/// Recursive-descent parser for the restricted dict literal numpy writes.
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &name)
      : text(text), name(name) {}

  Expected<NpyHeader> parse();

private:
  enum class TokenKind { Punct, String, Ident, Integer, End };
  struct Token {
    TokenKind kind;
    std::string text;
    size_t offset;
  };

  void skipSpace() {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t' ||
                                 text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  Expected<Token> next();
  Error syntaxError(const Token &token, const char *expected) const;
  Error expectPunct(char c);
  Expected<Shape> parseShape();

  std::string_view text;
  const std::string &name;
  size_t pos = 0;
};

Expected<HeaderParser::Token> HeaderParser::next() {
  skipSpace();
  size_t start = pos;
  if (pos >= text.size())
    return Token{TokenKind::End, "", start};
  char c = text[pos];
  if (std::strchr("{}():,", c)) {
    ++pos;
    return Token{TokenKind::Punct, std::string(1, c), start};
  }
  if (c == '\'' || c == '"') {
    size_t end = text.find(c, pos + 1);
    if (end == std::string_view::npos)
      return makeError(name,
                       ": malformed .npy header: unterminated string at "
                       "offset ",
                       start);
    pos = end + 1;
    return Token{TokenKind::String,
                 std::string(text.substr(start + 1, end - start - 1)), start};
  }
  if (c == '-' || (c >= '0' && c <= '9')) {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9')
      ++pos;
    // Python 2 era numpy wrote long integers as "3L".
    size_t end = pos;
    if (pos < text.size() && (text[pos] == 'L' || text[pos] == 'l'))
      ++pos;
    return Token{TokenKind::Integer,
                 std::string(text.substr(start, end - start)), start};
  }
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') {
    while (pos < text.size() &&
           ((text[pos] >= 'A' && text[pos] <= 'Z') ||
            (text[pos] >= 'a' && text[pos] <= 'z') ||
            (text[pos] >= '0' && text[pos] <= '9') || text[pos] == '_'))
      ++pos;
    return Token{TokenKind::Ident, std::string(text.substr(start, pos - start)),
                 start};
  }
  ++pos;
  return Token{TokenKind::Punct, std::string(1, c), start};
}

Error HeaderParser::syntaxError(const Token &token,
                                const char *expected) const {
  std::string found =
      token.kind == TokenKind::End
          ? std::string("end of header")
          : "'" +
                escapeBytes(
                    reinterpret_cast<const unsigned char *>(token.text.data()),
                    token.text.size()) +
                "'";
  return makeError(name, ": malformed .npy header: expected ", expected,
                   " at offset ", token.offset, ", found ", found);
}

Error HeaderParser::expectPunct(char c) {
  Expected<Token> token = next();
  if (!token)
    return token.takeError();
  if (token->kind != TokenKind::Punct || token->text[0] != c) {
    char expected[4] = {'\'', c, '\'', 0};
    return syntaxError(*token, expected);
  }
  return Error::success();
}

Expected<Shape> HeaderParser::parseShape() {
  Expected<Token> open = next();
  if (!open)
    return open.takeError();
  if (open->kind != TokenKind::Punct || open->text != "(")
    return syntaxError(*open, "a tuple for 'shape'");
  Shape shape;
  while (true) {
    Expected<Token> token = next();
    if (!token)
      return token.takeError();
    if (token->kind == TokenKind::Punct && token->text == ")")
      return shape;
    if (token->kind != TokenKind::Integer)
      return syntaxError(*token, "an integer or ')' in 'shape'");
    if (token->text[0] == '-')
      return makeError(name, ": invalid .npy header: negative dimension ",
                       token->text, " in 'shape'");
    if (token->text.size() > 18) // Keeps the value far from int64 overflow.
      return makeError(name, ": invalid .npy header: dimension ", token->text,
                       " in 'shape' is too large");
    shape.push_back(std::stoll(token->text));
    Expected<Token> sep = next();
    if (!sep)
      return sep.takeError();
    if (sep->kind == TokenKind::Punct && sep->text == ")")
      return shape;
    if (sep->kind != TokenKind::Punct || sep->text != ",")
      return syntaxError(*sep, "',' or ')' in 'shape'");
  }
}

Expected<NpyHeader> HeaderParser::parse() {
  if (Error err = expectPunct('{'))
    return err;
  NpyHeader header;
  bool haveDescr = false, haveOrder = false, haveShape = false;
  while (true) {
    Expected<Token> key = next();
    if (!key)
      return key.takeError();
    if (key->kind == TokenKind::Punct && key->text == "}")
      break;
    if (key->kind != TokenKind::String)
      return syntaxError(*key, "a quoted key or '}'");
    if (Error err = expectPunct(':'))
      return err;
    bool *seen = nullptr;
    if (key->text == "descr") {
      seen = &haveDescr;
      Expected<Token> value = next();
      if (!value)
        return value.takeError();
      if (value->kind == TokenKind::Punct && value->text == "[")
        return makeError(name,
                         ": unsupported .npy dtype: structured arrays "
                         "are not supported (expected ",
                         kSupportedDescrs, ")");
      if (value->kind != TokenKind::String)
        return syntaxError(*value, "a string for 'descr'");
      header.descr = value->text;
    } else if (key->text == "fortran_order") {
      seen = &haveOrder;
      Expected<Token> value = next();
      if (!value)
        return value.takeError();
      if (value->kind != TokenKind::Ident ||
          (value->text != "True" && value->text != "False"))
        return syntaxError(*value, "True or False for 'fortran_order'");
      if (value->text == "True")
        return makeError(name,
                         ": Fortran-order arrays are not supported "
                         "(expected fortran_order False; save a "
                         "C-contiguous array, e.g. np.ascontiguousarray)");
    } else if (key->text == "shape") {
      seen = &haveShape;
      Expected<Shape> shape = parseShape();
      if (!shape)
        return shape.takeError();
      header.shape = std::move(*shape);
    } else {
      return makeError(name, ": invalid .npy header: unexpected key '",
                       key->text,
                       "' (expected 'descr', 'fortran_order' and 'shape')");
    }
    if (*seen)
      return makeError(name, ": invalid .npy header: duplicate key '",
                       key->text, "'");
    *seen = true;
    Expected<Token> sep = next();
    if (!sep)
      return sep.takeError();
    if (sep->kind == TokenKind::Punct && sep->text == "}")
      break;
    if (sep->kind != TokenKind::Punct || sep->text != ",")
      return syntaxError(*sep, "',' or '}'");
  }
  Expected<Token> rest = next();
  if (!rest)
    return rest.takeError();
  if (rest->kind != TokenKind::End)
    return syntaxError(*rest, "end of header after '}'");
  const char *missing = !haveDescr   ? "descr"
                        : !haveOrder ? "fortran_order"
                        : !haveShape ? "shape"
                                     : nullptr;
  if (missing)
    return makeError(name, ": invalid .npy header: missing key '", missing,
                     "'");

  for (const DescrInfo &info : kDescrs)
    if (header.descr == info.descr) {
      header.type = info.type;
      return header;
    }
  if (!header.descr.empty() && header.descr[0] == '>')
    return makeError(name, ": unsupported .npy dtype '", header.descr,
                     "': big-endian data is not supported (expected ",
                     kSupportedDescrs, ")");
  return makeError(name, ": unsupported .npy dtype '", header.descr,
                   "' (expected ", kSupportedDescrs, ")");
}

std::string formatNpyShape(const Shape &shape) {
  std::string out = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      out += ", ";
    out += std::to_string(shape[i]);
  }
  if (shape.size() == 1)
    out += ',';
  out += ')';
  return out;
}

} // namespace

const char *npyDescr(DType type) {
  for (const DescrInfo &info : kDescrs)
    if (info.type == type)
      return info.descr;
  return nullptr;
}

Expected<Tensor> parseNpy(const void *bytes, size_t size,
                          const std::string &name) {
  const auto *p = static_cast<const unsigned char *>(bytes);
  if (size == 0)
    return makeError(name, ": not a .npy file: the file is empty");
  size_t magicSeen = size < kMagicSize ? size : kMagicSize;
  if (std::memcmp(p, kMagic, magicSeen) != 0)
    return makeError(name,
                     ": not a .npy file: expected magic \"\\x93NUMPY\", "
                     "found \"",
                     escapeBytes(p, magicSeen), "\"");
  if (size < kMagicSize + 2)
    return makeError(name, ": truncated .npy header: file has ", size,
                     " bytes, expected at least 10");
  unsigned major = p[6], minor = p[7];
  if (major < 1 || major > 3 || minor != 0)
    return makeError(name, ": unsupported .npy format version ", major, ".",
                     minor, " (expected 1.0, 2.0 or 3.0)");
  size_t prefix = major == 1 ? 10 : 12;
  if (size < prefix)
    return makeError(name, ": truncated .npy header: file has ", size,
                     " bytes, expected at least ", prefix);
  uint64_t headerLength = major == 1
                              ? (uint64_t(p[8]) | uint64_t(p[9]) << 8)
                              : (uint64_t(p[8]) | uint64_t(p[9]) << 8 |
                                 uint64_t(p[10]) << 16 | uint64_t(p[11]) << 24);
  if (headerLength > size - prefix)
    return makeError(name, ": truncated .npy header: header length ",
                     headerLength, " extends past the end of the file (",
                     size - prefix, " bytes after the ", prefix,
                     "-byte preamble)");

  std::string_view text(reinterpret_cast<const char *>(p + prefix),
                        headerLength);
  Expected<NpyHeader> header = HeaderParser(text, name).parse();
  if (!header)
    return header.takeError();

  size_t itemSize = dtypeSize(header->type);
  std::optional<uint64_t> count = checkedNumElements(header->shape, itemSize);
  if (!count)
    return makeError(name, ": invalid .npy shape ",
                     formatNpyShape(header->shape), ": too many elements");
  uint64_t expected = *count * itemSize;
  uint64_t found = size - prefix - headerLength;
  if (found != expected)
    return makeError(name, ": ", found < expected ? "truncated data: " : "",
                     "expected ", expected, " data bytes for ", header->descr,
                     " ", formatNpyShape(header->shape), ", found ", found,
                     found > expected ? " (trailing bytes)" : "");

  Expected<Tensor> tensor = Tensor::allocate(header->type, header->shape);
  if (!tensor)
    return makeError(name, ": ", tensor.message());
  if (expected)
    std::memcpy(tensor->data(), p + prefix + headerLength, expected);
  return tensor;
}

Expected<Tensor> readNpy(const std::string &path) {
  Expected<std::string> bytes = readFileBytes(path);
  if (!bytes)
    return bytes.takeError();
  return parseNpy(bytes->data(), bytes->size(), path);
}

static Expected<std::string> encodeHeader(const TensorView &tensor) {
  const char *descr = npyDescr(tensor.dtype);
  if (!descr)
    return makeError("cannot write ", dtypeName(tensor.dtype),
                     " as .npy: numpy has no such type (supported: f32, "
                     "f64, f16, i32, i64, i1)");
  std::string dict =
      std::string("{'descr': '") + descr +
      "', 'fortran_order': False, 'shape': " + formatNpyShape(tensor.shape) +
      ", }";
  // numpy pads so that the data starts on a 64-byte boundary, and so do we:
  // readers can then map the data in place.
  auto paddedSize = [&](size_t prefix) {
    return (prefix + dict.size() + 1 + 63) / 64 * 64;
  };
  // Version 1.0 unless the header length does not fit its 16-bit field.
  size_t prefix = paddedSize(10) - 10 <= 65535 ? 10 : 12;
  size_t padded = paddedSize(prefix);
  size_t headerLength = padded - prefix;
  std::string out(kMagic, kMagicSize);
  out += static_cast<char>(prefix == 10 ? 1 : 2);
  out += '\0';
  for (size_t i = 0; i < prefix - 8; ++i)
    out += static_cast<char>((headerLength >> (8 * i)) & 0xff);
  out += dict;
  out.append(padded - out.size() - 1, ' ');
  out += '\n';
  return out;
}

Expected<std::string> encodeNpy(const TensorView &tensor) {
  Expected<std::string> header = encodeHeader(tensor);
  if (!header)
    return header;
  header->append(static_cast<const char *>(tensor.data), tensor.byteSize());
  return header;
}

Error writeNpy(const std::string &path, const TensorView &tensor) {
  Expected<std::string> header = encodeHeader(tensor);
  if (!header)
    return makeError(path, ": ", header.message());
  FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return makeError("cannot create ", path, ": ", std::strerror(errno));
  size_t dataSize = tensor.byteSize();
  bool ok =
      std::fwrite(header->data(), 1, header->size(), file) == header->size() &&
      (dataSize == 0 ||
       std::fwrite(tensor.data, 1, dataSize, file) == dataSize);
  int savedErrno = errno;
  if (std::fclose(file) != 0 && ok) {
    ok = false;
    savedErrno = errno;
  }
  if (!ok)
    return makeError("cannot write ", path, ": ", std::strerror(savedErrno));
  return Error::success();
}

} // namespace kiln
