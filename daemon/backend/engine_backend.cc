#include "daemon/backend/engine_backend.h"

#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/logging.h"
#include "common/contained_path.h"
#include "common/status_macros.h"
#include "daemon/engine/devices.h"
#include "daemon/engine/gemv.h"
#include "daemon/engine/generator.h"
#include "daemon/engine/model.h"
#include "daemon/engine/observer.h"
#include "daemon/engine/threading.h"
#include "daemon/engine/tokenizer/tokenizer.h"

namespace eprof::daemon {
namespace {

// The engine keeps its own copy of the detail levels so that it does not depend on protobuf;
// the backend static_casts between them, which these checks keep true. (The components are
// checked where the recorder casts them: daemon/profiler/span_recorder.cc.)
static_assert(static_cast<int>(engine::DetailLevel::kPhases) == v1::DETAIL_LEVEL_PHASES);
static_assert(static_cast<int>(engine::DetailLevel::kTokens) == v1::DETAIL_LEVEL_TOKENS);
static_assert(static_cast<int>(engine::DetailLevel::kLayers) == v1::DETAIL_LEVEL_LAYERS);
static_assert(static_cast<int>(engine::DetailLevel::kComponents) == v1::DETAIL_LEVEL_COMPONENTS);
static_assert(static_cast<int>(engine::DetailLevel::kDeep) == v1::DETAIL_LEVEL_DEEP);
static_assert(static_cast<int>(engine::DetailLevel::kDeep) == v1::DetailLevel_MAX);

class TokenizerTextStream final : public TextStream {
 public:
  explicit TokenizerTextStream(const tokenizer::Tokenizer* tok)
      : decoder_(tok, /*skip_special_tokens=*/true) {}
  // A token the tokenizer cannot decode contributes no text (the id is still recorded).
  std::string Next(int32_t id) override {
    absl::StatusOr<std::string> text = decoder_.Next(id);
    return text.ok() ? *text : std::string();
  }

 private:
  tokenizer::IncrementalDecoder decoder_;
};

// Without a tokenizer (eprofd refuses such models for text prompts, but be safe): ids as text.
class IdTextStream final : public TextStream {
 public:
  std::string Next(int32_t id) override { return absl::StrCat("<", id, ">"); }
};

class EngineModel final : public LoadedModel {
 public:
  EngineModel(std::unique_ptr<engine::Model> model, std::unique_ptr<tokenizer::Tokenizer> tok,
              v1::ModelInfo info, InferenceScheduling scheduling)
      : model_(std::move(model)),
        tokenizer_(std::move(tok)),
        info_(std::move(info)),
        scheduling_(scheduling) {
    const engine::GenerationConfig& gen = model_->generation_config();
    eos_ = gen.eos_token_ids.empty() ? model_->config().eos_token_ids : gen.eos_token_ids;
  }

  const v1::ModelInfo& info() const override { return info_; }
  std::string device() const override { return model_->device(); }
  std::string dtype() const override { return model_->compute_dtype(); }
  std::string timing_method() const override {
    return model_->device() == "cpu" ? "host_clock" : "device_sync";
  }
  uint32_t context_length() const override { return static_cast<uint32_t>(model_->max_seq_len()); }
  uint64_t weight_bytes() const override {
    return static_cast<uint64_t>(model_->weight_bytes());
  }

  absl::StatusOr<std::vector<int32_t>> Tokenize(const std::string& text,
                                                 bool add_special_tokens) override {
    if (tokenizer_ == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("model ", info_.name(), " has no tokenizer.json"));
    }
    return tokenizer_->Encode(text, add_special_tokens);
  }

  std::unique_ptr<TextStream> NewTextStream() override {
    if (tokenizer_ == nullptr) return std::make_unique<IdTextStream>();
    return std::make_unique<TokenizerTextStream>(tokenizer_.get());
  }

  bool IsEos(int32_t token_id) const override {
    return std::find(eos_.begin(), eos_.end(), token_id) != eos_.end();
  }

  absl::Status Begin(const std::vector<int32_t>& prompt, const v1::SamplingParams& sampling,
                     int32_t max_new_tokens, v1::DetailLevel detail) override {
    // One threading layer on purpose (daemon/engine/threading.h), set on the thread that runs
    // the model: OpenMP's thread count is a per-thread setting, so setting it elsewhere (the
    // daemon's main thread) leaves libtorch's and OpenBLAS's pools fighting over the cores.
    thread_local bool configured = false;
    if (!configured) {
      engine::ThreadingChoice choice;
      choice.compute_nice = scheduling_.nice;
      choice.yield_every_us = scheduling_.yield_every_us;
      engine::ThreadingInfo threading = engine::ConfigureThreading(choice);
      EPROF_LOG(INFO) << "engine threading on the inference thread: " << threading.Describe();
      configured = true;
    }
    engine::GenerateParams params;
    // profiler.proto's top_p 0 ("off") is the engine's 1.
    params.sampling.temperature = sampling.temperature();
    params.sampling.top_k = sampling.top_k();
    params.sampling.top_p = sampling.top_p() > 0 ? sampling.top_p() : 1.0;
    params.sampling.seed = sampling.seed();
    params.max_new_tokens = max_new_tokens;
    generator_ = std::make_unique<engine::Generator>(model_.get(), params);
    prompt_ = prompt;
    detail_ = static_cast<engine::DetailLevel>(detail);
    return absl::OkStatus();
  }

  absl::StatusOr<GeneratedToken> Prefill(engine::Observer* observer) override {
    Attach(observer);
    absl::StatusOr<int32_t> token = generator_->Prefill(prompt_);
    model_->SetObserver(nullptr, engine::DetailLevel::kNone);
    return Result(token);
  }

  absl::StatusOr<GeneratedToken> Decode(engine::Observer* observer) override {
    Attach(observer);
    absl::StatusOr<int32_t> token = generator_->Step(last_);
    model_->SetObserver(nullptr, engine::DetailLevel::kNone);
    return Result(token);
  }

 private:
  void Attach(engine::Observer* observer) {
    if (observer == nullptr || detail_ < engine::DetailLevel::kLayers) {
      model_->SetObserver(nullptr, engine::DetailLevel::kNone);
      return;
    }
    model_->SetObserver(observer, detail_);
  }

  absl::StatusOr<GeneratedToken> Result(const absl::StatusOr<int32_t>& token) {
    if (!token.ok()) return token.status();
    last_ = *token;
    GeneratedToken out;
    out.token_id = *token;
    out.probability = engine::TokenProbability(generator_->last_logits(), *token);
    return out;
  }

  std::unique_ptr<engine::Model> model_;
  std::unique_ptr<tokenizer::Tokenizer> tokenizer_;
  v1::ModelInfo info_;
  InferenceScheduling scheduling_;
  std::vector<int64_t> eos_;
  std::unique_ptr<engine::Generator> generator_;
  std::vector<int32_t> prompt_;
  int32_t last_ = 0;
  engine::DetailLevel detail_ = engine::DetailLevel::kNone;
};

}  // namespace

EngineBackend::EngineBackend(std::string default_device, InferenceScheduling scheduling)
    : default_device_(std::move(default_device)), scheduling_(scheduling) {}

SideExecutor* EngineBackend::BesideExecutor() { return engine::GemvPool::BesideExecutor(); }

std::vector<std::string> EngineBackend::Devices() const {
  // CPU always; CUDA and MPS only when this libtorch build has them (Debian's has neither).
  std::vector<std::string> devices = {"cpu"};
  for (const std::string& d : engine::AvailableAcceleratorDevices()) devices.push_back(d);
  return devices;
}

absl::StatusOr<std::unique_ptr<LoadedModel>> EngineBackend::Load(
    const std::string& dir, const LoadOptions& options,
    const std::function<void(const LoadProgress&)>& progress) {
  engine::LoadOptions load;
  load.device = options.device.empty() ? default_device_ : options.device;
  load.dtype = options.dtype.empty() ? "auto" : options.dtype;
  load.progress = progress;
  EPROF_ASSIGN_OR_RETURN(std::unique_ptr<engine::Model> model, engine::Model::Load(dir, load));
  std::unique_ptr<tokenizer::Tokenizer> tok;
  absl::StatusOr<std::string> tokenizer_path = ResolveInside(dir, "tokenizer.json");
  if (tokenizer_path.ok()) {
    EPROF_ASSIGN_OR_RETURN(tok, tokenizer::Tokenizer::FromFile(*tokenizer_path));
  } else if (!absl::IsNotFound(tokenizer_path.status())) {
    return tokenizer_path.status();
  }
  v1::ModelInfo info;
  info.set_name(std::filesystem::path(dir).filename().string());
  info.set_path(dir);
  return std::make_unique<EngineModel>(std::move(model), std::move(tok), std::move(info),
                                       scheduling_);
}

}  // namespace eprof::daemon
