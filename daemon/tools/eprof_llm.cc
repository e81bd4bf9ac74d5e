// eprof-llm: the engine's command-line front end. Each subcommand lives in its own library and
// receives the arguments after its name.
#include <cstring>
#include <iostream>

#include "daemon/tools/tokenize_command.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: eprof-llm tokenize … (see eprof-llm tokenize --help)\n";
    return 2;
  }
  if (std::strcmp(argv[1], "tokenize") == 0) {
    return eprof::tools::RunTokenizeCommand(argc - 2, argv + 2);
  }
  std::cerr << "eprof-llm: unknown subcommand \"" << argv[1] << "\"\n";
  return 2;
}
