// Minimal --flag VALUE / --flag=VALUE parsing for eprof-llm's subcommands.
#ifndef EPROF_DAEMON_TOOLS_COMMAND_ARGS_H_
#define EPROF_DAEMON_TOOLS_COMMAND_ARGS_H_

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace eprof::tools {

class CommandArgs {
 public:
  // `flags_with_values`: flags that take a value; `switches`: boolean flags. Anything else is an
  // error naming the flag and listing the known ones.
  static absl::StatusOr<CommandArgs> Parse(int argc, char** argv,
                                           const std::set<std::string>& flags_with_values,
                                           const std::set<std::string>& switches);
  bool Has(const std::string& flag) const { return values_.count(flag) > 0; }
  std::string Get(const std::string& flag, const std::string& def = "") const;
  absl::StatusOr<int64_t> GetInt(const std::string& flag, int64_t def) const;
  absl::StatusOr<double> GetDouble(const std::string& flag, double def) const;

 private:
  std::map<std::string, std::string> values_;
};

// "1,2,3" or "1 2 3" → ids.
absl::StatusOr<std::vector<int32_t>> ParseIds(const std::string& text);

}  // namespace eprof::tools

#endif  // EPROF_DAEMON_TOOLS_COMMAND_ARGS_H_
