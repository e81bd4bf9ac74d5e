#include "common/command_args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace eprof {
namespace {

const OptionSpec kHelp = {"help", 'h', false};

std::string Known(const std::vector<OptionSpec>& specs) {
  std::vector<std::string> names;
  for (const OptionSpec& s : specs) names.push_back("--" + s.name);
  return absl::StrJoin(names, ", ");
}

}  // namespace

absl::Status CommandArgs::Parse(const std::vector<std::string>& argv,
                                const std::vector<OptionSpec>& given_specs) {
  std::vector<OptionSpec> specs = given_specs;
  bool has_help = false;
  for (const OptionSpec& s : specs) has_help = has_help || s.name == kHelp.name;
  if (!has_help) specs.push_back(kHelp);
  auto find = [&](auto matches) -> const OptionSpec* {
    for (const OptionSpec& s : specs) {
      if (matches(s)) return &s;
    }
    return nullptr;
  };
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (options_done || a.size() < 2 || a[0] != '-') {
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
      spec = find([&](const OptionSpec& s) { return s.name == name; });
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option --", name, " (known: ", Known(specs), ")"));
      }
    } else {
      spec = a.size() == 2 ? find([&](const OptionSpec& s) { return s.short_name == a[1]; })
                           : nullptr;
      if (spec == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option ", a, " (known: ", Known(specs), ")"));
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

absl::Status CommandArgs::Parse(int argc, char** argv, const std::vector<OptionSpec>& specs) {
  return Parse(std::vector<std::string>(argv, argv + argc), specs);
}

std::string CommandArgs::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? fallback : it->second.back();
}

std::vector<std::string> CommandArgs::GetAll(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

absl::StatusOr<int64_t> CommandArgs::GetInt(const std::string& name, int64_t fallback) const {
  if (!Has(name)) return fallback;
  int64_t v;
  if (!absl::SimpleAtoi(Get(name), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be an integer, got '", Get(name), "'"));
  }
  return v;
}

absl::StatusOr<double> CommandArgs::GetDouble(const std::string& name, double fallback) const {
  if (!Has(name)) return fallback;
  double v;
  if (!absl::SimpleAtod(Get(name), &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", name, " must be a number, got '", Get(name), "'"));
  }
  return v;
}

absl::Status CommandArgs::NoPositionals() const {
  if (positionals_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", positionals_[0], "'"));
}

}  // namespace eprof
