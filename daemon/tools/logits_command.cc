// eprof-llm logits: the logits at every position of one forward pass over --ids, written as a
// safetensors file with one F32 tensor "logits" [T, vocab_size], for comparison with
// transformers (model(input_ids).logits[0]).
#include <cstdio>
#include <cstring>
#include <string>

#include "common/command_args.h"
#include "daemon/engine/model.h"
#include "daemon/engine/safetensors.h"
#include "daemon/engine/threading.h"
#include "daemon/tools/tool_common.h"

int RunLogitsCommand(int argc, char** argv) {
  using namespace eprof;
  auto fail = [](const absl::Status& s) {
    std::fprintf(stderr, "logits: %s\n", std::string(s.message()).c_str());
    return 1;
  };
  eprof::CommandArgs args;
  if (absl::Status parsed = args.Parse(
          argc, argv,
          {{"model"}, {"ids"}, {"out"}, {"dtype"}, {"device"}});
      !parsed.ok() || !(parsed = args.NoPositionals()).ok()) {
    return fail(parsed);
  }
  if (args.Has("help")) {
    eprof::tools::PrintCommandUsage("logits", stdout);
    return 0;
  }
  if (!args.Has("model") || !args.Has("ids") || !args.Has("out")) {
    std::fprintf(stderr, "logits: --model, --ids and --out are required\n");
    return 2;
  }
  auto ids = tools::ParseIds(args.Get("ids"));
  if (!ids.ok()) return fail(ids.status());
  engine::ConfigureThreading({});
  engine::LoadOptions lo;
  lo.dtype = args.Get("dtype", "auto");
  lo.device = args.Get("device", "cpu");
  lo.max_seq_len = static_cast<int64_t>(ids->size());
  auto model = engine::Model::Load(args.Get("model"), lo);
  if (!model.ok()) return fail(model.status());
  std::vector<float> logits;
  absl::Status s = (*model)->Forward(*ids, /*all_positions=*/true, &logits);
  if (!s.ok()) return fail(s);
  engine::TensorData t;
  t.name = "logits";
  t.dtype = engine::DType::kF32;
  t.shape = {static_cast<int64_t>(ids->size()), (*model)->config().vocab_size};
  t.bytes.resize(logits.size() * sizeof(float));
  std::memcpy(t.bytes.data(), logits.data(), t.bytes.size());
  s = engine::WriteSafetensors(args.Get("out"), {t});
  if (!s.ok()) return fail(s);
  std::printf("wrote logits [%zu, %lld] (%s) to %s\n", ids->size(),
              static_cast<long long>((*model)->config().vocab_size),
              (*model)->compute_dtype().c_str(), args.Get("out").c_str());
  return 0;
}
