// The one parser for subcommands' arguments (eprofctl's commands, eprof-llm's, the power
// helper's serve and probe): "--name value", "--name=value", boolean "--name", short aliases
// ("-m"), repeated options, positionals, "--" to end the options, and "--help" / "-h", which
// every subcommand accepts whether or not its specs name it.
//
//   CommandArgs args;
//   EPROF_RETURN_IF_ERROR(args.Parse(argv, {{"model", 'm', true}, {"json", 0, false}}));
//   if (args.Has("help")) { ... print the usage, exit 0 ... }
//   EPROF_ASSIGN_OR_RETURN(int64_t n, args.GetInt("limit", 20));
//
// (The long-running programs, eprofd and eprof-web, use Abseil flags: common/flags_main.h.)
//
// Thread safety: a parsed CommandArgs is immutable; Parse is not safe to call concurrently on one
// object.
#ifndef EPROF_COMMON_COMMAND_ARGS_H_
#define EPROF_COMMON_COMMAND_ARGS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eprof {

struct OptionSpec {
  std::string name;        // long name without "--"
  char short_name = 0;     // 0 if none
  bool takes_value = true;  // false: a switch, which takes no value
};

class CommandArgs {
 public:
  // Parses a subcommand's arguments. INVALID_ARGUMENT naming an unknown option (and listing the
  // known ones), a missing value, or a value given to a switch. Arguments that are not options
  // are kept in positionals().
  absl::Status Parse(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);
  absl::Status Parse(int argc, char** argv, const std::vector<OptionSpec>& specs);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, or `fallback`; "true" for a switch that was given.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value given, in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  // The last value as a number; `fallback` when not given; INVALID_ARGUMENT naming the option
  // when it is not one.
  absl::StatusOr<int64_t> GetInt(const std::string& name, int64_t fallback) const;
  absl::StatusOr<double> GetDouble(const std::string& name, double fallback) const;

  const std::vector<std::string>& positionals() const { return positionals_; }
  // INVALID_ARGUMENT naming the first positional, for subcommands that take none.
  absl::Status NoPositionals() const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

}  // namespace eprof

#endif  // EPROF_COMMON_COMMAND_ARGS_H_
