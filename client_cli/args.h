// A small command-line parser for eprofctl's subcommands: "--name value", "--name=value",
// boolean "--name", short aliases ("-m"), repeatable options, positionals, and "--help".
//
//   Args args;
//   EPROF_RETURN_IF_ERROR(args.Parse(argc, argv, {{"model", 'm', true}, {"json", 0, false}}));
//   std::string model = args.Get("model");
#ifndef EPROF_CLIENT_CLI_ARGS_H_
#define EPROF_CLIENT_CLI_ARGS_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace eprof::cli {

struct OptionSpec {
  std::string name;   // long name without "--"
  char short_name;    // 0 if none
  bool takes_value;
};

class Args {
 public:
  // Parses argv[0..argc) (the subcommand's arguments). INVALID_ARGUMENT naming an unknown
  // option or a missing value. "--" ends options.
  absl::Status Parse(const std::vector<std::string>& argv, const std::vector<OptionSpec>& specs);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, or `fallback`.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // Every value given, in order.
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positionals_;
};

}  // namespace eprof::cli

#endif  // EPROF_CLIENT_CLI_ARGS_H_
