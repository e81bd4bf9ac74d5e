// eprof-llm: run, inspect and benchmark the inference engine from the command line.
//   eprof-llm generate --model DIR (--prompt TEXT | --ids 1,2,3) --max-new-tokens N [--json]
//   eprof-llm logits   --model DIR --ids 1,2,3 --out FILE.safetensors
//   eprof-llm bench    --model DIR --prompt-tokens P --new-tokens N --detail none,layers,...
//   eprof-llm mkmodel  --family F --preset tiny|small|demo --out DIR [--seed N]
//   eprof-llm tokenize (--tokenizer FILE | --model DIR) [--no-special] (TEXT | --file F) [--json]
#include <cstdio>
#include <cstring>

#include "common/process_init.h"
#include "daemon/tools/tokenize_command.h"

int RunGenerateCommand(int argc, char** argv);
int RunLogitsCommand(int argc, char** argv);
int RunBenchCommand(int argc, char** argv);
int RunMkmodelCommand(int argc, char** argv);

namespace {

void Usage() {
  std::fprintf(stderr,
               "usage: eprof-llm COMMAND [flags]\n"
               "  generate --model DIR (--prompt TEXT | --ids 1,2,3) [--max-new-tokens N]\n"
               "           [--temperature T --top-k K --top-p P --seed S] [--dtype D] [--json]\n"
               "  logits   --model DIR --ids 1,2,3 --out FILE.safetensors [--dtype D]\n"
               "  bench    --model DIR [--prompt-tokens P] [--new-tokens N]\n"
               "           [--detail none,phases,layers,components,deep] [--repeat R] [--json]\n"
               "           [--matmul eprof|libtorch] [--torch-threads N] [--blas-threads N]\n"
               "           [--gemv-threads N] [--dtype D] [--device D] [--bandwidth-mb M]\n"
               "           [--max-seq-len N (KV cache; default: what the run needs)]\n"
               "           [--rounds-from-stdin]\n"
               "  mkmodel  --family F --preset tiny|small|demo --out DIR [--seed N]\n"
               "           [--tokenizer tokenizer.json] [--dtype float32|bfloat16] [--shard-bytes B]\n"
               "  tokenize (--tokenizer FILE | --model DIR) [--no-special] (TEXT | --file F) [--json]\n"
               "           | --decode 1,2,3 | --batch\n");
}

}  // namespace

int main(int argc, char** argv) {
  eprof::InitProcess("eprof-llm");
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    Usage();
    return argc < 2 ? 2 : 0;
  }
  const char* cmd = argv[1];
  if (std::strcmp(cmd, "generate") == 0) return RunGenerateCommand(argc - 2, argv + 2);
  if (std::strcmp(cmd, "logits") == 0) return RunLogitsCommand(argc - 2, argv + 2);
  if (std::strcmp(cmd, "bench") == 0) return RunBenchCommand(argc - 2, argv + 2);
  if (std::strcmp(cmd, "mkmodel") == 0) return RunMkmodelCommand(argc - 2, argv + 2);
  if (std::strcmp(cmd, "tokenize") == 0) return eprof::tools::RunTokenizeCommand(argc - 2, argv + 2);
  std::fprintf(stderr, "eprof-llm: unknown command '%s'\n", cmd);
  Usage();
  return 2;
}
