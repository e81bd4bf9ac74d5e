// config.json and generation_config.json as a downloaded model directory holds them.
#include "daemon/engine/model_config.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(eprof::fuzz::View(data, size));
  absl::StatusOr<eprof::engine::ModelConfig> config =
      eprof::engine::ParseModelConfig(text, "config.json");
  if (config.ok()) (void)config->rotary_dims();
  (void)eprof::engine::ParseGenerationConfig(text, "generation_config.json");
  return 0;
}
