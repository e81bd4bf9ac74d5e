// eprof-llm mkmodel: writes a random-weight Hugging Face model directory (see make_model.h).
#include <cstdio>
#include <string>

#include "common/command_args.h"
#include "daemon/engine/make_model.h"
#include "daemon/tools/tool_common.h"

int RunMkmodelCommand(int argc, char** argv) {
  eprof::CommandArgs args;
  if (absl::Status parsed = args.Parse(
          argc, argv,
          {{"family"}, {"preset"}, {"out"}, {"seed"}, {"tokenizer"}, {"dtype"}, {"shard-bytes"},
           {"config-patch"}});
      !parsed.ok() || !(parsed = args.NoPositionals()).ok()) {
    std::fprintf(stderr, "mkmodel: %s\n", std::string(parsed.message()).c_str());
    return 2;
  }
  if (args.Has("help")) {
    eprof::tools::PrintCommandUsage("mkmodel", stdout);
    return 0;
  }
  if (!args.Has("family") || !args.Has("out")) {
    std::fprintf(stderr, "mkmodel: --family and --out are required\n");
    return 2;
  }
  auto family = eprof::engine::ParseFamily(args.Get("family"));
  auto seed = args.GetInt("seed", 0);
  auto shard = args.GetInt("shard-bytes", 0);
  for (const absl::Status& s : {family.status(), seed.status(), shard.status()}) {
    if (!s.ok()) {
      std::fprintf(stderr, "mkmodel: %s\n", std::string(s.message()).c_str());
      return 2;
    }
  }
  eprof::engine::MakeModelOptions o;
  o.family = *family;
  o.preset = args.Get("preset", "tiny");
  o.out_dir = args.Get("out");
  o.seed = static_cast<uint64_t>(*seed);
  o.tokenizer_path = args.Get("tokenizer");
  o.dtype = args.Get("dtype", "float32");
  o.max_shard_bytes = *shard;
  o.config_patch_json = args.Get("config-patch");
  absl::Status status = eprof::engine::MakeModel(o);
  if (!status.ok()) {
    std::fprintf(stderr, "mkmodel: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::printf("wrote %s model (%s preset, %s) to %s\n", eprof::engine::FamilyName(o.family),
              o.preset.c_str(), o.dtype.c_str(), o.out_dir.c_str());
  return 0;
}
