// eprof-llm tokenize: token ids of a text (or the text of ids) with a tokenizer.json.
//
//   eprof-llm tokenize (--tokenizer FILE | --model DIR) [--no-special] (TEXT | --file F) [--json]
//   eprof-llm tokenize (--tokenizer FILE | --model DIR) --decode 1,2,3 [--keep-special]
//   eprof-llm tokenize (--tokenizer FILE | --model DIR) --batch   # JSON lines in and out
//
// --batch reads one JSON object per line from standard input, {"text": "..."}, and writes
// {"ids": [...], "ids_no_special": [...], "decoded": "..."} per line (for parity harnesses).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/engine/tokenizer/tokenizer.h"

int RunTokenizeCommand(int argc, char** argv) {
  using namespace eprof;
  std::string tokenizer_path, file, decode;
  bool no_special = false, json_out = false, batch = false, keep_special = false;
  std::vector<std::string> text;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    std::string dir;
    if (a == "--tokenizer") {
      if (!value(&tokenizer_path)) return std::fprintf(stderr, "eprof-llm tokenize: --tokenizer needs a file\n"), 2;
    } else if (a == "--model") {
      if (!value(&dir)) return std::fprintf(stderr, "eprof-llm tokenize: --model needs a directory\n"), 2;
      tokenizer_path = dir + "/tokenizer.json";
    } else if (a == "--file") {
      if (!value(&file)) return std::fprintf(stderr, "eprof-llm tokenize: --file needs a path\n"), 2;
    } else if (a == "--decode") {
      if (!value(&decode)) return std::fprintf(stderr, "eprof-llm tokenize: --decode needs ids\n"), 2;
    } else if (a == "--no-special") {
      no_special = true;
    } else if (a == "--keep-special") {
      keep_special = true;
    } else if (a == "--json") {
      json_out = true;
    } else if (a == "--batch") {
      batch = true;
    } else if (a == "--help" || a == "-h") {
      std::printf(
          "usage: eprof-llm tokenize (--tokenizer FILE | --model DIR) [--no-special] (TEXT | --file F) [--json]\n"
          "       eprof-llm tokenize (--tokenizer FILE | --model DIR) --decode 1,2,3 [--keep-special]\n"
          "       eprof-llm tokenize (--tokenizer FILE | --model DIR) --batch  < lines of {\"text\": ...}\n");
      return 0;
    } else if (!a.empty() && a[0] == '-') {
      return std::fprintf(stderr, "eprof-llm tokenize: unknown option %s\n", a.c_str()), 2;
    } else {
      text.push_back(a);
    }
  }
  if (tokenizer_path.empty()) {
    return std::fprintf(stderr, "eprof-llm tokenize: give --tokenizer FILE or --model DIR\n"), 2;
  }
  auto tok = tokenizer::Tokenizer::FromFile(tokenizer_path);
  if (!tok.ok()) return std::fprintf(stderr, "eprof-llm tokenize: %s\n", std::string(tok.status().message()).c_str()), 1;
  if (!decode.empty()) {
    std::vector<int32_t> ids;
    for (absl::string_view part : absl::StrSplit(decode, ',', absl::SkipWhitespace())) {
      int32_t id;
      if (!absl::SimpleAtoi(part, &id)) return std::fprintf(stderr, "eprof-llm tokenize: '%s' is not a token id\n", std::string(part).c_str()), 2;
      ids.push_back(id);
    }
    auto out = (*tok)->Decode(ids, !keep_special);
    if (!out.ok()) return std::fprintf(stderr, "eprof-llm tokenize: %s\n", std::string(out.status().message()).c_str()), 1;
    std::printf("%s\n", out->c_str());
    return 0;
  }
  if (batch) {
    std::string line;
    while (std::getline(std::cin, line)) {
      nlohmann::json in = nlohmann::json::parse(line, nullptr, false);
      nlohmann::json out;
      if (!in.is_object() || !in.contains("text") || !in["text"].is_string()) {
        out["error"] = "each line must be {\"text\": \"...\"}";
      } else {
        std::string t = in["text"].get<std::string>();
        auto with = (*tok)->Encode(t, true);
        auto without = (*tok)->Encode(t, false);
        if (!with.ok() || !without.ok()) {
          out["error"] = std::string((!with.ok() ? with.status() : without.status()).message());
        } else {
          out["ids"] = *with;
          out["ids_no_special"] = *without;
          auto decoded = (*tok)->Decode(*without, false);
          out["decoded"] = decoded.ok() ? *decoded : std::string();
        }
      }
      std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
      std::fflush(stdout);
    }
    return 0;
  }
  std::string input;
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return std::fprintf(stderr, "eprof-llm tokenize: cannot read %s\n", file.c_str()), 1;
    std::stringstream buf;
    buf << in.rdbuf();
    input = buf.str();
  } else if (text.size() == 1) {
    input = text[0];
  } else {
    return std::fprintf(stderr, "eprof-llm tokenize: give one TEXT argument or --file F\n"), 2;
  }
  auto ids = (*tok)->Encode(input, !no_special);
  if (!ids.ok()) return std::fprintf(stderr, "eprof-llm tokenize: %s\n", std::string(ids.status().message()).c_str()), 1;
  if (json_out) {
    std::printf("%s\n", nlohmann::json{{"ids", *ids}, {"count", ids->size()}}.dump().c_str());
  } else {
    std::printf("%s\n", absl::StrJoin(*ids, " ").c_str());
  }
  return 0;
}

