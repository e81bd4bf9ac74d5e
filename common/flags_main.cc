#include "common/flags_main.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"

namespace eprof {

void ParseCommandLineWithDashes(int argc, char** argv, absl::string_view usage,
                                absl::string_view main_file) {
  absl::SetProgramUsageMessage(usage);
  absl::FlagsUsageConfig config;
  const std::string file(main_file);
  config.contains_help_flags = [file](absl::string_view f) { return absl::EndsWith(f, file); };
  config.contains_helpshort_flags = config.contains_help_flags;
  // Abseil names each flag's file by the path it was compiled from (the build machine's): name
  // it by its place in the source tree instead.
  config.normalize_filename = [file](absl::string_view f) {
    return absl::EndsWith(f, file) ? file : std::string(f);
  };
  absl::SetFlagsUsageConfig(config);
  // Abseil's flag names use underscores.
  std::vector<std::string> storage(argv, argv + argc);
  std::vector<char*> args;
  for (std::string& a : storage) {
    if (a.rfind("--", 0) == 0) {
      const size_t end = a.find('=');
      std::replace(a.begin() + 2, end == std::string::npos ? a.end() : a.begin() + end, '-', '_');
    }
    args.push_back(a.data());
  }
  absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
}

}  // namespace eprof
