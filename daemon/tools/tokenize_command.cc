#include "daemon/tools/tokenize_command.h"

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "daemon/engine/tokenizer/tokenizer.h"
#include <nlohmann/json.hpp>

namespace eprof::tools {
namespace {

constexpr char kUsage[] =
    "usage: eprof-llm tokenize --tokenizer FILE | --model DIR [--no-special] [--skip-special]\n"
    "                          [--json] (TEXT | --file F | --decode 1,2,3 | --batch)\n";

int Usage(const std::string& problem) {
  std::cerr << "eprof-llm tokenize: " << problem << "\n" << kUsage;
  return 2;
}

std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int RunBatch(const tokenizer::Tokenizer& tok) {
  std::string line;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    nlohmann::json in = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    nlohmann::json out;
    if (in.is_discarded() || !in.is_object()) {
      out["error"] = "line is not a JSON object";
    } else if (in.contains("text") && in["text"].is_string()) {
      auto ids = tok.Encode(in["text"].get<std::string>(), in.value("add_special_tokens", true));
      if (ids.ok()) {
        out["ids"] = *ids;
      } else {
        out["error"] = std::string(ids.status().message());
      }
    } else if (in.contains("ids") && in["ids"].is_array()) {
      std::vector<int32_t> ids;
      for (const auto& v : in["ids"]) ids.push_back(v.get<int32_t>());
      auto text = tok.Decode(ids, in.value("skip_special_tokens", false));
      if (text.ok()) {
        out["text"] = *text;
      } else {
        out["error"] = std::string(text.status().message());
      }
    } else {
      out["error"] = "expected {\"text\": …} or {\"ids\": […]}";
    }
    std::cout << Dump(out) << '\n';
  }
  std::cout.flush();
  return 0;
}

}  // namespace

int RunTokenizeCommand(int argc, char** argv) {
  std::string tokenizer_path, text, file, decode;
  bool have_text = false, no_special = false, skip_special = false, json = false, batch = false;
  bool have_decode = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    if (arg == "--tokenizer") {
      if (!value(&tokenizer_path)) return Usage("--tokenizer needs a file");
    } else if (arg == "--model") {
      std::string dir;
      if (!value(&dir)) return Usage("--model needs a directory");
      tokenizer_path = dir + "/tokenizer.json";
    } else if (arg == "--file") {
      if (!value(&file)) return Usage("--file needs a file");
    } else if (arg == "--decode") {
      if (!value(&decode)) return Usage("--decode needs comma-separated ids");
      have_decode = true;
    } else if (arg == "--no-special") {
      no_special = true;
    } else if (arg == "--skip-special") {
      skip_special = true;
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--batch") {
      batch = true;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg.rfind("--", 0) == 0) {
      return Usage("unknown option " + arg);
    } else if (have_text) {
      return Usage("more than one TEXT argument (quote the text)");
    } else {
      text = arg;
      have_text = true;
    }
  }
  if (tokenizer_path.empty()) return Usage("give --tokenizer FILE or --model DIR");
  int inputs = (have_text ? 1 : 0) + (file.empty() ? 0 : 1) + (have_decode ? 1 : 0) + (batch ? 1 : 0);
  if (inputs != 1) return Usage("give exactly one of TEXT, --file, --decode, --batch");

  auto tok = tokenizer::Tokenizer::FromFile(tokenizer_path);
  if (!tok.ok()) {
    std::cerr << "eprof-llm tokenize: " << tok.status().message() << "\n";
    return 1;
  }
  if (batch) return RunBatch(**tok);
  if (have_decode) {
    std::vector<int32_t> ids;
    for (absl::string_view part : absl::StrSplit(decode, ',', absl::SkipWhitespace())) {
      int32_t id;
      if (!absl::SimpleAtoi(part, &id)) return Usage("--decode: \"" + std::string(part) + "\" is not an id");
      ids.push_back(id);
    }
    auto out = (*tok)->Decode(ids, skip_special);
    if (!out.ok()) {
      std::cerr << "eprof-llm tokenize: " << out.status().message() << "\n";
      return 1;
    }
    if (json) {
      std::cout << Dump(nlohmann::json{{"text", *out}}) << "\n";
    } else {
      std::cout << *out << "\n";
    }
    return 0;
  }
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "eprof-llm tokenize: cannot open " << file << "\n";
      return 1;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  auto ids = (*tok)->Encode(text, !no_special);
  if (!ids.ok()) {
    std::cerr << "eprof-llm tokenize: " << ids.status().message() << "\n";
    return 1;
  }
  if (json) {
    std::cout << Dump(nlohmann::json{{"ids", *ids}, {"count", ids->size()}}) << "\n";
  } else {
    std::cout << absl::StrJoin(*ids, " ") << "\n";
  }
  return 0;
}

}  // namespace eprof::tools
