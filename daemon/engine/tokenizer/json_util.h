// Small helpers for reading tokenizer.json values with clear errors.
#ifndef EPROF_DAEMON_ENGINE_TOKENIZER_JSON_UTIL_H_
#define EPROF_DAEMON_ENGINE_TOKENIZER_JSON_UTIL_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "daemon/engine/tokenizer/regex.h"
#include <nlohmann/json.hpp>

namespace eprof::tokenizer {

// `j[key]` as a bool, `fallback` when absent or null.
inline bool JsonBool(const nlohmann::json& j, const char* key, bool fallback) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null() || !it->is_boolean()) return fallback;
  return it->get<bool>();
}

// `j[key]` as a string, `fallback` when absent or null.
inline std::string JsonString(const nlohmann::json& j, const char* key,
                              const std::string& fallback) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

// A {"String": s} or {"Regex": r} pattern, compiled (a String is matched literally).
inline absl::StatusOr<std::unique_ptr<Regex>> PatternFromJson(const nlohmann::json& j,
                                                              const char* component) {
  if (j.is_object() && j.contains("String") && j["String"].is_string()) {
    return Regex::Compile(Regex::Escape(j["String"].get<std::string>()));
  }
  if (j.is_object() && j.contains("Regex") && j["Regex"].is_string()) {
    return Regex::Compile(j["Regex"].get<std::string>());
  }
  return absl::InvalidArgumentError(
      absl::StrCat(component, ": \"pattern\" must be {\"String\": …} or {\"Regex\": …}, got ",
                   j.dump()));
}

}  // namespace eprof::tokenizer

#endif  // EPROF_DAEMON_ENGINE_TOKENIZER_JSON_UTIL_H_
