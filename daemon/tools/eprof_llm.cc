// eprof-llm: run, inspect and benchmark the inference engine from the command line.
//   eprof-llm generate --model DIR (--prompt TEXT | --ids 1,2,3) --max-new-tokens N [--json]
//   eprof-llm logits   --model DIR --ids 1,2,3 --out FILE.safetensors
//   eprof-llm bench    --model DIR --prompt-tokens P --new-tokens N --detail none,layers,...
//   eprof-llm mkmodel  --family F --preset tiny|small|demo --out DIR [--seed N]
//   eprof-llm tokenize (--tokenizer FILE | --model DIR) [--no-special] (TEXT | --file F) [--json]
// Each command's flags: eprof-llm COMMAND --help (daemon/tools/tool_common.cc).
#include <cstdio>
#include <cstring>

#include "common/process_init.h"
#include "daemon/tools/tokenize_command.h"
#include "daemon/tools/tool_common.h"

int RunGenerateCommand(int argc, char** argv);
int RunLogitsCommand(int argc, char** argv);
int RunBenchCommand(int argc, char** argv);
int RunMkmodelCommand(int argc, char** argv);

int main(int argc, char** argv) {
  eprof::InitProcess("eprof-llm");
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0 ||
      std::strcmp(argv[1], "help") == 0) {
    eprof::tools::PrintUsage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const char* cmd = argv[1];
  if (std::strcmp(cmd, "generate") == 0) return RunGenerateCommand(argc - 2, argv + 2);
  if (std::strcmp(cmd, "logits") == 0) return RunLogitsCommand(argc - 2, argv + 2);
  if (std::strcmp(cmd, "bench") == 0) return RunBenchCommand(argc - 2, argv + 2);
  if (std::strcmp(cmd, "mkmodel") == 0) return RunMkmodelCommand(argc - 2, argv + 2);
  if (std::strcmp(cmd, "tokenize") == 0) return eprof::tools::RunTokenizeCommand(argc - 2, argv + 2);
  std::fprintf(stderr, "eprof-llm: unknown command '%s'\n", cmd);
  eprof::tools::PrintUsage(stderr);
  return 2;
}
