#include "daemon/tools/command_args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace eprof::tools {

absl::StatusOr<CommandArgs> CommandArgs::Parse(int argc, char** argv,
                                               const std::set<std::string>& flags_with_values,
                                               const std::set<std::string>& switches) {
  CommandArgs args;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    std::string name = arg.substr(2), value;
    const size_t eq = name.find('=');
    bool has_inline = eq != std::string::npos;
    if (has_inline) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (switches.count(name)) {
      args.values_[name] = has_inline ? value : "1";
    } else if (flags_with_values.count(name)) {
      if (!has_inline) {
        if (i + 1 >= argc) {
          return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
        }
        value = argv[++i];
      }
      args.values_[name] = value;
    } else {
      std::vector<std::string> known(flags_with_values.begin(), flags_with_values.end());
      known.insert(known.end(), switches.begin(), switches.end());
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " (known: --",
                                                     absl::StrJoin(known, ", --"), ")"));
    }
  }
  return args;
}

std::string CommandArgs::Get(const std::string& flag, const std::string& def) const {
  auto it = values_.find(flag);
  return it == values_.end() ? def : it->second;
}

absl::StatusOr<int64_t> CommandArgs::GetInt(const std::string& flag, int64_t def) const {
  if (!Has(flag)) return def;
  int64_t v;
  if (!absl::SimpleAtoi(Get(flag), &v)) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be an integer, got '", Get(flag), "'"));
  }
  return v;
}

absl::StatusOr<double> CommandArgs::GetDouble(const std::string& flag, double def) const {
  if (!Has(flag)) return def;
  double v;
  if (!absl::SimpleAtod(Get(flag), &v)) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be a number, got '", Get(flag), "'"));
  }
  return v;
}

absl::StatusOr<std::vector<int32_t>> ParseIds(const std::string& text) {
  std::vector<int32_t> ids;
  for (absl::string_view part : absl::StrSplit(text, absl::ByAnyChar(", "), absl::SkipEmpty())) {
    int32_t id;
    if (!absl::SimpleAtoi(part, &id) || id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("--ids: '", std::string(part), "' is not a non-negative integer token id"));
    }
    ids.push_back(id);
  }
  if (ids.empty()) return absl::InvalidArgumentError("--ids: no token ids given");
  return ids;
}

}  // namespace eprof::tools
