#include "web_gateway/grpc_web.h"

#include <algorithm>
#include <cstdint>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace eprof::web {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

std::string Frame(uint8_t flag, absl::string_view payload, bool text) {
  std::string frame;
  frame.reserve(5 + payload.size());
  const uint32_t n = static_cast<uint32_t>(payload.size());
  frame.push_back(static_cast<char>(flag));
  frame.push_back(static_cast<char>((n >> 24) & 0xff));
  frame.push_back(static_cast<char>((n >> 16) & 0xff));
  frame.push_back(static_cast<char>((n >> 8) & 0xff));
  frame.push_back(static_cast<char>(n & 0xff));
  frame.append(payload.data(), payload.size());
  return text ? Base64Encode(frame) : frame;
}

bool LegalKey(absl::string_view key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_' || c == '.' || c == '-')) {
      return false;
    }
  }
  return true;
}

bool LegalAsciiValue(absl::string_view value) {
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<WebContentType> ParseContentType(absl::string_view content_type) {
  absl::string_view type = content_type.substr(0, content_type.find(';'));
  type = absl::StripAsciiWhitespace(type);
  const std::string lower = absl::AsciiStrToLower(type);
  if (lower == "application/grpc-web" || lower == "application/grpc-web+proto") {
    return WebContentType{.text = false};
  }
  if (lower == "application/grpc-web-text" || lower == "application/grpc-web-text+proto") {
    return WebContentType{.text = true};
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "content type '", type, "' is not one eprof-web speaks: use application/grpc-web(+proto) "
      "or application/grpc-web-text(+proto) (JSON gRPC-web is not supported)"));
}

std::string Base64Encode(absl::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    const uint32_t v = (b[i] << 16) | (rest == 2 ? b[i + 1] << 8 : 0);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

absl::StatusOr<std::string> Base64Decode(absl::string_view text) {
  if (text.size() % 4 != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "base64 body of ", text.size(), " characters is not a whole number of 4-character groups"));
  }
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    int s[4];
    int pad = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text[i + k];
      if (c == '=') {
        if (k < 2) return absl::InvalidArgumentError("base64 padding in the wrong place");
        ++pad;
        s[k] = 0;
        continue;
      }
      if (pad > 0) return absl::InvalidArgumentError("base64 data after padding");
      s[k] = Sextet(c);
      if (s[k] < 0) {
        return absl::InvalidArgumentError(
            absl::StrFormat("byte 0x%02x at offset %d is not base64", static_cast<unsigned char>(c),
                            static_cast<int>(i + k)));
      }
    }
    const uint32_t v = (s[0] << 18) | (s[1] << 12) | (s[2] << 6) | s[3];
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

absl::StatusOr<std::string> DecodeRequestBody(absl::string_view body, bool text) {
  std::string decoded;
  if (text) {
    absl::StatusOr<std::string> d = Base64Decode(body);
    if (!d.ok()) return d.status();
    decoded = std::move(*d);
    body = decoded;
  }
  if (body.size() < 5) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request body has ", body.size(), " bytes: a gRPC-web request is one 5-byte frame "
        "header and its message"));
  }
  const auto* b = reinterpret_cast<const unsigned char*>(body.data());
  if (b[0] != 0x00) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "the request frame's flag is 0x%02x: eprof-web takes one uncompressed message (0x00)",
        b[0]));
  }
  const uint32_t n = (uint32_t{b[1]} << 24) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 8) | b[4];
  if (body.size() - 5 < n) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the request frame says ", n, " bytes but only ", body.size() - 5, " follow"));
  }
  if (body.size() - 5 > n) {
    return absl::InvalidArgumentError(absl::StrCat(
        body.size() - 5 - n, " bytes follow the request's one message: a request is one frame"));
  }
  return std::string(body.substr(5));
}

std::string DataFrame(absl::string_view message, bool text) { return Frame(0x00, message, text); }

std::string PercentEncode(absl::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (unsigned char c : message) {
    if (c < 0x20 || c > 0x7e || c == '%') {
      absl::StrAppend(&out, absl::StrFormat("%%%02X", c));
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string MetadataValue(absl::string_view key, absl::string_view value) {
  return absl::EndsWith(key, "-bin") ? Base64Encode(value) : std::string(value);
}

std::string TrailerFrame(int grpc_status, absl::string_view grpc_message,
                         const std::multimap<std::string, std::string>& trailing_metadata,
                         bool text) {
  std::string block = absl::StrCat("grpc-status:", grpc_status, "\r\n");
  if (!grpc_message.empty()) {
    absl::StrAppend(&block, "grpc-message:", PercentEncode(grpc_message), "\r\n");
  }
  for (const auto& [key, value] : trailing_metadata) {
    const std::string k = absl::AsciiStrToLower(key);
    if (k == "grpc-status" || k == "grpc-message" || !LegalKey(k)) continue;
    const std::string v = MetadataValue(k, value);
    if (!absl::EndsWith(k, "-bin") && !LegalAsciiValue(v)) continue;  // no CR/LF in a line
    absl::StrAppend(&block, k, ":", v, "\r\n");
  }
  return Frame(0x80, block, text);
}

std::optional<std::chrono::nanoseconds> ParseGrpcTimeout(absl::string_view value) {
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  const char unit = value.back();
  int64_t n = 0;
  for (char c : value.substr(0, value.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  // Clamped to 100 days: 99999999H in nanoseconds would overflow.
  constexpr int64_t kMaxSeconds = 100LL * 24 * 3600;
  switch (unit) {
    case 'H': return std::chrono::seconds(std::min<int64_t>(n, kMaxSeconds / 3600) * 3600);
    case 'M': return std::chrono::seconds(std::min<int64_t>(n, kMaxSeconds / 60) * 60);
    case 'S': return std::chrono::seconds(std::min<int64_t>(n, kMaxSeconds));
    case 'm': return std::chrono::milliseconds(n);
    case 'u': return std::chrono::microseconds(n);
    case 'n': return std::chrono::nanoseconds(n);
    default: return std::nullopt;
  }
}

std::vector<std::pair<std::string, std::string>> ForwardableMetadata(
    const std::multimap<std::string, std::string>& http_headers) {
  // Hop-by-hop (RFC 9110 §7.6.1), HTTP-only, the gateway's own and gRPC's reserved headers.
  static const std::set<std::string> kDropped = {
      "accept", "accept-encoding", "accept-language", "authorization", "cache-control",
      "connection", "content-length", "content-type", "cookie", "dnt", "expect", "host",
      "keep-alive", "origin", "pragma", "proxy-authenticate", "proxy-authorization", "referer",
      "te", "trailer", "transfer-encoding", "upgrade", "user-agent", "x-grpc-web",
      "x-user-agent", "x-eprof-token"};
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : http_headers) {
    const std::string key = absl::AsciiStrToLower(name);
    if (kDropped.count(key) > 0 || absl::StartsWith(key, "grpc-") || absl::StartsWith(key, ":") ||
        absl::StartsWith(key, "sec-") || absl::StartsWith(key, "access-control-") ||
        absl::StartsWith(key, "proxy-") || absl::StartsWith(key, "content-") ||
        absl::StartsWith(key, "if-") || absl::StartsWith(key, "remote_") ||
        absl::StartsWith(key, "local_") || !LegalKey(key)) {
      continue;
    }
    if (absl::EndsWith(key, "-bin")) {
      absl::StatusOr<std::string> bytes = Base64Decode(value);
      if (!bytes.ok()) {
        // Browsers may send unpadded base64 for -bin values.
        std::string padded(value);
        while (padded.size() % 4 != 0) padded.push_back('=');
        bytes = Base64Decode(padded);
      }
      if (bytes.ok()) out.emplace_back(key, std::move(*bytes));
      continue;
    }
    if (!LegalAsciiValue(value)) continue;
    out.emplace_back(key, value);
  }
  return out;
}

absl::Status WebFrameReader::Feed(absl::string_view chunk) {
  if (!text_) {
    bytes_.append(chunk.data(), chunk.size());
    return absl::OkStatus();
  }
  text_pending_.append(chunk.data(), chunk.size());
  const size_t whole = text_pending_.size() / 4 * 4;
  absl::StatusOr<std::string> decoded = Base64Decode(absl::string_view(text_pending_).substr(0, whole));
  if (!decoded.ok()) return decoded.status();
  bytes_.append(*decoded);
  text_pending_.erase(0, whole);
  return absl::OkStatus();
}

bool WebFrameReader::Next(Frame* frame) {
  if (bytes_.size() < 5) return false;
  const auto* b = reinterpret_cast<const unsigned char*>(bytes_.data());
  const uint32_t n = (uint32_t{b[1]} << 24) | (uint32_t{b[2]} << 16) | (uint32_t{b[3]} << 8) | b[4];
  if (bytes_.size() - 5 < n) return false;
  frame->trailer = (b[0] & 0x80) != 0;
  frame->payload.assign(bytes_, 5, n);
  bytes_.erase(0, 5 + n);
  return true;
}

std::multimap<std::string, std::string> ParseTrailers(absl::string_view block) {
  std::multimap<std::string, std::string> out;
  for (absl::string_view line : absl::StrSplit(block, "\r\n", absl::SkipEmpty())) {
    const size_t colon = line.find(':');
    if (colon == absl::string_view::npos) continue;
    out.emplace(absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon))),
                std::string(absl::StripAsciiWhitespace(line.substr(colon + 1))));
  }
  return out;
}

}  // namespace eprof::web
