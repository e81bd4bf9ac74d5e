// What eprof-llm's subcommands share: their usage texts (one home, printed by `eprof-llm --help`
// and by each `eprof-llm COMMAND --help`) and the token-id list parser. Arguments are parsed by
// common/command_args.h.
//
// Thread safety: pure functions.
#ifndef EPROF_DAEMON_TOOLS_TOOL_COMMON_H_
#define EPROF_DAEMON_TOOLS_TOOL_COMMON_H_

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace eprof::tools {

// Every command's usage, after a "usage: eprof-llm COMMAND [flags]" line.
void PrintUsage(FILE* out);
// One command's usage ("generate", "logits", "bench", "mkmodel", "tokenize").
void PrintCommandUsage(const std::string& command, FILE* out);

// "1,2,3" or "1 2 3" → ids.
absl::StatusOr<std::vector<int32_t>> ParseIds(const std::string& text);

}  // namespace eprof::tools

#endif  // EPROF_DAEMON_TOOLS_TOOL_COMMON_H_
