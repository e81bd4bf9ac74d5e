// eprof-llm generate: prefill a prompt and decode with the KV cache.
#include <cstdio>
#include <string>

#include "common/clock.h"
#include "common/command_args.h"
#include "daemon/engine/generator.h"
#include "daemon/engine/model.h"
#include "daemon/engine/threading.h"
#include "daemon/tools/tool_common.h"
#include "nlohmann/json.hpp"
#ifdef EPROF_HAVE_TOKENIZER
#include "daemon/engine/tokenizer/tokenizer.h"
#endif

int RunGenerateCommand(int argc, char** argv) {
  using namespace eprof;
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "generate: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  eprof::CommandArgs args;
  if (absl::Status parsed = args.Parse(
          argc, argv,
          {{"model"}, {"prompt"}, {"ids"}, {"max-new-tokens"}, {"temperature"}, {"top-k"}, {"top-p"},
           {"seed"}, {"dtype"}, {"device"}, {"json", 0, false}});
      !parsed.ok() || !(parsed = args.NoPositionals()).ok()) {
    return fail(parsed);
  }
  if (args.Has("help")) {
    eprof::tools::PrintCommandUsage("generate", stdout);
    return 0;
  }
  if (!args.Has("model") || (args.Has("prompt") == args.Has("ids"))) {
    std::fprintf(stderr, "generate: --model and exactly one of --prompt or --ids are required\n");
    return 2;
  }
  const std::string dir = args.Get("model");
  std::vector<int32_t> prompt;
#ifdef EPROF_HAVE_TOKENIZER
  std::unique_ptr<tokenizer::Tokenizer> tok;
  if (args.Has("prompt")) {
    auto t = tokenizer::Tokenizer::FromFile(dir + "/tokenizer.json");
    if (!t.ok()) return fail(t.status());
    tok = std::move(*t);
    auto enc = tok->Encode(args.Get("prompt"), /*add_special_tokens=*/true);
    if (!enc.ok()) return fail(enc.status());
    prompt = *enc;
  }
#else
  if (args.Has("prompt")) {
    std::fprintf(stderr,
                 "generate: --prompt needs the tokenizer, which this build does not have; "
                 "pass token ids with --ids 1,2,3\n");
    return 2;
  }
#endif
  if (args.Has("ids")) {
    auto ids = tools::ParseIds(args.Get("ids"));
    if (!ids.ok()) return fail(ids.status());
    prompt = *ids;
  }
  auto max_new = args.GetInt("max-new-tokens", 32);
  auto temperature = args.GetDouble("temperature", 0.0);
  auto top_k = args.GetInt("top-k", 0);
  auto top_p = args.GetDouble("top-p", 1.0);
  auto seed = args.GetInt("seed", 0);
  for (const absl::Status& s : {max_new.status(), temperature.status(), top_k.status(),
                                top_p.status(), seed.status()}) {
    if (!s.ok()) return fail(s);
  }
  engine::ThreadingInfo threading = engine::ConfigureThreading({});
  Clock* clock = Clock::Real();
  engine::LoadOptions lo;
  lo.dtype = args.Get("dtype", "auto");
  lo.device = args.Get("device", "cpu");
  lo.max_seq_len = static_cast<int64_t>(prompt.size()) + *max_new + 1;
  const int64_t t_load_ns = clock->NowNs();
  auto model = engine::Model::Load(dir, lo);
  if (!model.ok()) return fail(model.status());
  const int64_t t_loaded_ns = clock->NowNs();
  engine::GenerateParams gp;
  gp.max_new_tokens = *max_new;
  gp.sampling = {*temperature, *top_k, *top_p, static_cast<uint64_t>(*seed)};
  engine::Generator gen(model->get(), gp);
  std::vector<int64_t> token_ns;
  const int64_t t0_ns = clock->NowNs();
  auto result = gen.Generate(prompt, [&](int32_t) { token_ns.push_back(clock->NowNs()); });
  if (!result.ok()) return fail(result.status());
  const double prefill_s = token_ns.empty() ? 0 : (token_ns[0] - t0_ns) / 1e9;
  const double decode_s = token_ns.size() > 1 ? (token_ns.back() - token_ns[0]) / 1e9 : 0;
  const double decode_tps = decode_s > 0 ? (token_ns.size() - 1) / decode_s : 0;
  std::string text;
  bool have_text = false;
#ifdef EPROF_HAVE_TOKENIZER
  if (tok) {
    auto dec = tok->Decode(result->tokens, /*skip_special_tokens=*/true);
    if (!dec.ok()) return fail(dec.status());
    text = *dec;
    have_text = true;
  }
#endif
  if (args.Has("json")) {
    nlohmann::json j = {{"model", dir},
                        {"device", (*model)->device()},
                        {"dtype", (*model)->compute_dtype()},
                        {"prompt_ids", prompt},
                        {"output_ids", result->tokens},
                        {"stop_reason", engine::StopReasonName(result->stop_reason)},
                        {"load_s", (t_loaded_ns - t_load_ns) / 1e9},
                        {"prefill_s", prefill_s},
                        {"decode_tokens_per_s", decode_tps},
                        {"threading", threading.Describe()}};
    if (have_text) j["text"] = text;
    std::printf("%s\n", j.dump(2).c_str());
  } else {
    std::printf("prompt ids (%zu):", prompt.size());
    for (int32_t id : prompt) std::printf(" %d", id);
    std::printf("\noutput ids (%zu):", result->tokens.size());
    for (int32_t id : result->tokens) std::printf(" %d", id);
    std::printf("\n");
    if (have_text) std::printf("text: %s\n", text.c_str());
    std::printf("stop: %s; load %.3f s, prefill %.3f s, decode %.2f tok/s (%s, %s)\n",
                engine::StopReasonName(result->stop_reason), (t_loaded_ns - t_load_ns) / 1e9,
                prefill_s, decode_tps, (*model)->device().c_str(),
                (*model)->compute_dtype().c_str());
  }
  return 0;
}
