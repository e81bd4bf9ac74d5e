#include "power_helper/sensors/powermetrics_parser.h"

#include <tinyxml2.h>

#include <cstdlib>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace eprof::power {
namespace {

constexpr absl::string_view kCloseTag = "</plist>";

// A plist <dict> as key → value element.
std::map<std::string, const tinyxml2::XMLElement*> DictEntries(const tinyxml2::XMLElement* dict) {
  std::map<std::string, const tinyxml2::XMLElement*> out;
  if (dict == nullptr) return out;
  for (const tinyxml2::XMLElement* key = dict->FirstChildElement("key"); key != nullptr;
       key = key->NextSiblingElement("key")) {
    const tinyxml2::XMLElement* value = key->NextSiblingElement();
    if (value == nullptr || key->GetText() == nullptr) continue;
    out.emplace(key->GetText(), value);
  }
  return out;
}

// The number in an <integer> or <real> element; nullopt for anything else.
std::optional<double> Number(const std::map<std::string, const tinyxml2::XMLElement*>& dict,
                             const std::string& key) {
  auto it = dict.find(key);
  if (it == dict.end()) return std::nullopt;
  const char* tag = it->second->Name();
  if (std::string_view(tag) != "integer" && std::string_view(tag) != "real") return std::nullopt;
  const char* text = it->second->GetText();
  if (text == nullptr) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text, &end);
  if (end == text) return std::nullopt;
  return v;
}

std::string Text(const std::map<std::string, const tinyxml2::XMLElement*>& dict,
                 const std::string& key) {
  auto it = dict.find(key);
  if (it == dict.end() || it->second->GetText() == nullptr) return "";
  return it->second->GetText();
}

Reading MakeReading(const std::string& channel, double energy_mj, std::optional<double> power_mw,
                    int64_t window_ns) {
  Reading r;
  r.channel = channel;
  r.energy_mj = energy_mj;
  r.power_mw = power_mw ? *power_mw : energy_mj * 1e9 / static_cast<double>(window_ns);
  r.quality = v1::QUALITY_MEASURED;
  return r;
}

bool IsBlank(absl::string_view text) {
  for (char c : text) {
    if (c != '\0' && c != ' ' && c != '\n' && c != '\r' && c != '\t') return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<PowermetricsDocument> ParsePowermetricsPlist(absl::string_view xml) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat("powermetrics plist does not parse: ", doc.ErrorStr()));
  }
  const tinyxml2::XMLElement* plist = doc.FirstChildElement("plist");
  const tinyxml2::XMLElement* root = plist ? plist->FirstChildElement("dict") : nullptr;
  if (root == nullptr) {
    return absl::InvalidArgumentError("powermetrics plist has no <plist><dict> root");
  }
  auto top = DictEntries(root);
  PowermetricsDocument out;
  std::optional<double> elapsed = Number(top, "elapsed_ns");
  if (!elapsed || *elapsed <= 0) {
    return absl::InvalidArgumentError("powermetrics plist has no positive elapsed_ns");
  }
  out.elapsed_ns = static_cast<int64_t>(*elapsed);
  out.timestamp = Text(top, "timestamp");
  out.hw_model = Text(top, "hw_model");
  const int64_t w = out.elapsed_ns;

  auto proc_it = top.find("processor");
  auto processor = DictEntries(proc_it != top.end() && std::string_view(proc_it->second->Name()) ==
                                                           "dict"
                                   ? proc_it->second
                                   : nullptr);
  bool any_unit = false;
  double combined_mj = 0;
  for (const char* unit : {"cpu", "gpu", "ane"}) {
    std::optional<double> energy = Number(processor, absl::StrCat(unit, "_energy"));
    std::optional<double> power = Number(processor, absl::StrCat(unit, "_power"));
    if (!energy && power) energy = *power * static_cast<double>(w) / 1e9;
    if (!energy) continue;
    out.readings.push_back(MakeReading(unit, *energy, power, w));
    combined_mj += *energy;
    any_unit = true;
  }
  if (any_unit) {
    out.readings.push_back(
        MakeReading("combined", combined_mj, Number(processor, "combined_power"), w));
  }
  if (std::optional<double> dram = Number(processor, "dram_energy")) {
    out.readings.push_back(MakeReading("dram", *dram, std::nullopt, w));
  }
  if (std::optional<double> pkg = Number(processor, "package_energy")) {
    out.readings.push_back(MakeReading("package", *pkg, std::nullopt, w));
  } else if (std::optional<double> joules = Number(processor, "package_joules")) {
    std::optional<double> watts = Number(processor, "package_watts");
    std::optional<double> mw;
    if (watts) mw = *watts * 1e3;
    out.readings.push_back(MakeReading("package", *joules * 1e3, mw, w));
  }
  if (!any_unit) {
    auto gpu_it = top.find("gpu");
    if (gpu_it != top.end() && std::string_view(gpu_it->second->Name()) == "dict") {
      if (std::optional<double> e = Number(DictEntries(gpu_it->second), "gpu_energy")) {
        out.readings.push_back(MakeReading("gpu", *e, std::nullopt, w));
      }
    }
  }
  if (out.readings.empty()) {
    if (proc_it == top.end()) {
      out.no_power_reason = absl::StrCat(
          "no processor power in this powermetrics output (hw_model \"", out.hw_model,
          "\"): a virtual machine or a Mac without an energy model, or the cpu_power sampler "
          "was not requested");
    } else {
      out.no_power_reason = absl::StrCat("powermetrics reports a processor but no power for it (hw_model \"",
                                         out.hw_model, "\"): a virtual machine or unsupported hardware");
    }
  }
  return out;
}

std::vector<v1::Channel> PowermetricsChannels(bool apple_silicon) {
  std::vector<v1::Channel> out;
  if (apple_silicon) {
    out.push_back(MakeChannel("cpu", "powermetrics", "Apple Silicon CPU clusters (processor.cpu_energy)",
                              v1::CHANNEL_KIND_CPU, v1::QUALITY_MEASURED, "mJ", false));
    out.push_back(MakeChannel("gpu", "powermetrics", "Apple Silicon GPU (processor.gpu_energy)",
                              v1::CHANNEL_KIND_GPU, v1::QUALITY_MEASURED, "mJ", false));
    out.push_back(MakeChannel("ane", "powermetrics", "Apple Neural Engine (processor.ane_energy)",
                              v1::CHANNEL_KIND_ACCELERATOR, v1::QUALITY_MEASURED, "mJ", false));
    out.push_back(MakeChannel("combined", "powermetrics", "CPU + GPU + ANE (combined_power)",
                              v1::CHANNEL_KIND_PACKAGE, v1::QUALITY_MEASURED, "mW", false,
                              {"cpu", "gpu", "ane"}));
  } else {
    out.push_back(MakeChannel("package", "powermetrics",
                              "Intel Mac package (processor.package_joules)",
                              v1::CHANNEL_KIND_PACKAGE, v1::QUALITY_MEASURED, "J", false));
  }
  return out;
}

void PowermetricsStreamParser::Skip(absl::string_view why) {
  ++skipped_;
  EPROF_LOG(WARNING) << "powermetrics: skipped a document: " << why;
}

std::vector<PowermetricsDocument> PowermetricsStreamParser::Feed(absl::string_view bytes,
                                                                 int64_t now_ns) {
  std::vector<PowermetricsDocument> docs;
  if (buffer_.empty() || IsBlank(buffer_)) partial_since_ns_ = now_ns;
  // Search for the close tag only in the new bytes (and the few before them that may hold its
  // beginning), so feeding byte by byte stays linear.
  size_t search_from = buffer_.size() >= kCloseTag.size() ? buffer_.size() - kCloseTag.size() + 1 : 0;
  buffer_.append(bytes.data(), bytes.size());
  for (;;) {
    size_t close = buffer_.find(kCloseTag.data(), search_from, kCloseTag.size());
    if (close == std::string::npos) break;
    size_t end = close + kCloseTag.size();
    absl::string_view doc(buffer_.data(), end);
    // A document starts at its last "<?xml" (or, lacking one, after its last NUL): anything
    // before that is the remains of a truncated document.
    size_t start = doc.rfind("<?xml");
    if (start == absl::string_view::npos) {
      size_t nul = doc.rfind('\0');
      start = nul == absl::string_view::npos ? 0 : nul + 1;
    }
    if (!IsBlank(doc.substr(0, start))) {
      Skip(absl::StrCat("truncated document (", start, " bytes) before the next one"));
    }
    absl::StatusOr<PowermetricsDocument> parsed = ParsePowermetricsPlist(doc.substr(start));
    if (parsed.ok()) {
      docs.push_back(*std::move(parsed));
    } else {
      Skip(parsed.status().message());
    }
    buffer_.erase(0, end);
    search_from = 0;
    partial_since_ns_ = now_ns;
  }
  if (IsBlank(buffer_)) buffer_.clear();
  return docs;
}

void PowermetricsStreamParser::CheckTimeout(int64_t now_ns) {
  if (!buffer_.empty() && now_ns - partial_since_ns_ > partial_timeout_ns_) {
    Skip(absl::StrCat("incomplete document of ", buffer_.size(), " bytes waited more than ",
                      partial_timeout_ns_ / 1'000'000'000, " s for </plist>"));
    buffer_.clear();
  }
}

void PowermetricsStreamParser::Finish() {
  if (!IsBlank(buffer_)) Skip(absl::StrCat("stream ended inside a document (", buffer_.size(), " bytes)"));
  buffer_.clear();
}

}  // namespace eprof::power
