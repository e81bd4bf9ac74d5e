// Encode throughput of eprof's tokenizer: tokenizer_benchmark TOKENIZER_JSON DOCS_JSON [REPS]
// DOCS_JSON is a JSON array of strings; each is encoded (without special tokens) in turn, REPS
// times (default 3) after one warm-up pass. Prints one JSON line:
//   {"mb_per_s": …, "bytes": …, "tokens": …, "seconds": …}
// tests/tokenizer/bench.js runs it beside the Hugging Face reference on the same documents.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/engine/tokenizer/tokenizer.h"
#include <nlohmann/json.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: tokenizer_benchmark TOKENIZER_JSON DOCS_JSON [REPS]\n";
    return 2;
  }
  auto tok = eprof::tokenizer::Tokenizer::FromFile(argv[1]);
  if (!tok.ok()) {
    std::cerr << tok.status() << "\n";
    return 1;
  }
  std::ifstream in(argv[2]);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto docs = nlohmann::json::parse(buffer.str()).get<std::vector<std::string>>();
  int reps = argc > 3 ? std::atoi(argv[3]) : 3;
  size_t bytes = 0, tokens = 0;
  for (const auto& d : docs) {  // warm-up
    bytes += d.size();
    tokens += (*tok)->Encode(d, false)->size();
  }
  auto start = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    for (const auto& d : docs) {
      auto ids = (*tok)->Encode(d, false);
      if (!ids.ok()) {
        std::cerr << ids.status() << "\n";
        return 1;
      }
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << nlohmann::json{{"mb_per_s", bytes * reps / seconds / 1e6},
                              {"bytes", bytes},
                              {"tokens", tokens},
                              {"seconds", seconds}}
                   .dump()
            << "\n";
  return 0;
}
