#include "client_cli/format.h"

#include <time.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"

namespace eprof::cli {
namespace {

// Display width of a UTF-8 string (code points; good enough for the tables' content).
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

std::string Lower(const std::string& proto_name, const char* prefix) {
  std::string s(absl::StripPrefix(proto_name, prefix));
  return absl::AsciiStrToLower(s);
}

}  // namespace

std::string Number(double v, int digits) {
  if (v == 0) return "0";
  double a = std::fabs(v);
  int decimals = a >= 100 ? 0 : a >= 10 ? std::max(0, digits - 2) : std::max(0, digits - 1);
  if (a < 1) decimals = digits;
  return absl::StrFormat("%.*f", decimals, v);
}

std::string Energy(double mj) {
  double a = std::fabs(mj);
  if (a >= 1e6) return absl::StrCat(Number(mj / 1e6), " kJ");
  if (a >= 1e3) return absl::StrCat(Number(mj / 1e3), " J");
  return absl::StrCat(Number(mj), " mJ");
}

std::string Power(double mw) {
  if (std::fabs(mw) >= 1e3) return absl::StrCat(Number(mw / 1e3), " W");
  return absl::StrCat(Number(mw), " mW");
}

std::string Duration(int64_t ns) {
  double a = static_cast<double>(ns < 0 ? -ns : ns);
  if (a >= 120e9) {
    int64_t s = ns / 1'000'000'000;
    return absl::StrFormat("%dm %02ds", s / 60, s % 60);
  }
  if (a >= 1e9) return absl::StrCat(Number(ns / 1e9), " s");
  if (a >= 1e6) return absl::StrCat(Number(ns / 1e6), " ms");
  return absl::StrCat(Number(ns / 1e3), " µs");
}

std::string QualityLabel(v1::Quality q) {
  switch (q) {
    case v1::QUALITY_MEASURED: return "measured";
    case v1::QUALITY_DERIVED: return "derived";
    default: return "estimate";
  }
}

std::string PhaseName(v1::Phase p) { return Lower(v1::Phase_Name(p), "PHASE_"); }
std::string ComponentName(v1::Component c) { return Lower(v1::Component_Name(c), "COMPONENT_"); }
std::string StatusName(v1::RunStatus s) { return Lower(v1::RunStatus_Name(s), "RUN_STATUS_"); }
std::string DetailName(v1::DetailLevel d) { return Lower(v1::DetailLevel_Name(d), "DETAIL_LEVEL_"); }

bool ParseDetail(const std::string& name, v1::DetailLevel* out) {
  return v1::DetailLevel_Parse(absl::StrCat("DETAIL_LEVEL_", absl::AsciiStrToUpper(name)), out) &&
         *out != v1::DETAIL_LEVEL_UNSPECIFIED;
}

std::string Timestamp(int64_t unix_ms) {
  time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm;
  localtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string Sparkline(const std::vector<double>& values, size_t width) {
  if (values.empty()) return "";
  static const char* kBars[] = {"▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"};
  size_t bins = std::min(width, values.size());
  std::vector<double> v(bins, 0);
  std::vector<int> n(bins, 0);
  for (size_t i = 0; i < values.size(); ++i) {
    size_t b = i * bins / values.size();
    v[b] += values[i];
    ++n[b];
  }
  for (size_t b = 0; b < bins; ++b) v[b] /= std::max(1, n[b]);
  double lo = *std::min_element(v.begin(), v.end());
  double hi = *std::max_element(v.begin(), v.end());
  std::string out;
  for (double x : v) {
    int level = hi > lo ? static_cast<int>((x - lo) / (hi - lo) * 7.999) : 3;
    out += kBars[std::clamp(level, 0, 7)];
  }
  return out;
}

std::string Table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], Width(row[i]));
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      size_t pad = widths[i] - Width(row[i]);
      bool r = i < right.size() && right[i];
      if (i > 0) line += "  ";
      if (r) line += std::string(pad, ' ');
      line += row[i];
      if (!r && i + 1 < row.size()) line += std::string(pad, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    absl::StrAppend(&out, line, "\n");
  }
  return out;
}

namespace {

// The length of the valid UTF-8 character at b[0..n) and its code point, or 0 when the bytes
// there are not one.
size_t Utf8Char(const unsigned char* b, size_t n, uint32_t* cp) {
  const unsigned char c = b[0];
  if (c < 0x80) {
    *cp = c;
    return 1;
  }
  const size_t len = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
  if (len == 0 || len > n) return 0;
  uint32_t v = len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
  for (size_t k = 1; k < len; ++k) {
    if ((b[k] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (b[k] & 0x3F);
  }
  if ((len == 3 && v < 0x800) || (len == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
      (v >= 0xD800 && v <= 0xDFFF)) {
    return 0;
  }
  *cp = v;
  return len;
}

}  // namespace

size_t FirstInvalidUtf8(const std::string& text) {
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  uint32_t cp;
  for (size_t i = 0; i < text.size();) {
    const size_t len = Utf8Char(b + i, text.size() - i, &cp);
    if (len == 0) return i;
    i += len;
  }
  return std::string::npos;
}

std::string TerminalSafe(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  const auto* b = reinterpret_cast<const unsigned char*>(text.data());
  for (size_t i = 0; i < text.size();) {
    uint32_t cp = 0;
    const size_t len = Utf8Char(b + i, text.size() - i, &cp);
    if (len == 0) {  // not UTF-8
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", b[i]));
      ++i;
    } else if ((cp < 0x20 && cp != '\n' && cp != '\t') || cp == 0x7f) {
      absl::StrAppend(&out, absl::StrFormat("\\x%02x", cp));
      i += len;
    } else if (cp >= 0x80 && cp <= 0x9F) {
      absl::StrAppend(&out, absl::StrFormat("\\u%04x", cp));  // C1 controls (CSI is U+009B)
      i += len;
    } else {
      out.append(text, i, len);
      i += len;
    }
  }
  return out;
}

}  // namespace eprof::cli
