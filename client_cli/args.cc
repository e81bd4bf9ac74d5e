#include "client_cli/args.h"

#include "absl/strings/str_cat.h"

namespace eprof::cli {

absl::Status Args::Parse(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs) {
  auto find_long = [&](const std::string& name) -> const OptionSpec* {
    for (const OptionSpec& s : specs) {
      if (s.name == name) return &s;
    }
    return nullptr;
  };
  auto find_short = [&](char c) -> const OptionSpec* {
    for (const OptionSpec& s : specs) {
      if (s.short_name == c) return &s;
    }
    return nullptr;
  };
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (options_done || a.size() < 2 || a[0] != '-' || a == "-") {
      positionals_.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    const OptionSpec* spec = nullptr;
    std::string value;
    bool has_inline = false;
    if (a[1] == '-') {
      std::string name = a.substr(2);
      if (size_t eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_inline = true;
      }
      spec = find_long(name);
      if (spec == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("unknown option --", name));
      }
    } else {
      if (a.size() != 2 || (spec = find_short(a[1])) == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("unknown option ", a));
      }
    }
    if (!spec->takes_value) {
      if (has_inline) {
        return absl::InvalidArgumentError(absl::StrCat("option --", spec->name, " takes no value"));
      }
      values_[spec->name].push_back("true");
      continue;
    }
    if (!has_inline) {
      if (i + 1 >= argv.size()) {
        return absl::InvalidArgumentError(absl::StrCat("option --", spec->name, " needs a value"));
      }
      value = argv[++i];
    }
    values_[spec->name].push_back(value);
  }
  return absl::OkStatus();
}

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

}  // namespace eprof::cli
