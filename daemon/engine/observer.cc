#include "daemon/engine/observer.h"

namespace eprof::engine {

const char* ComponentName(Component component) {
  switch (component) {
    case Component::kUnspecified: return "unspecified";
    case Component::kEmbedding: return "embedding";
    case Component::kInputNorm: return "input_norm";
    case Component::kQProj: return "q_proj";
    case Component::kKProj: return "k_proj";
    case Component::kVProj: return "v_proj";
    case Component::kQkvProj: return "qkv_proj";
    case Component::kQNorm: return "q_norm";
    case Component::kKNorm: return "k_norm";
    case Component::kRotary: return "rotary";
    case Component::kAttention: return "attention";
    case Component::kOProj: return "o_proj";
    case Component::kPostAttentionNorm: return "post_attention_norm";
    case Component::kPreFeedforwardNorm: return "pre_feedforward_norm";
    case Component::kPostFeedforwardNorm: return "post_feedforward_norm";
    case Component::kGateProj: return "gate_proj";
    case Component::kUpProj: return "up_proj";
    case Component::kGateUpProj: return "gate_up_proj";
    case Component::kMlpAct: return "mlp_act";
    case Component::kDownProj: return "down_proj";
    case Component::kFinalNorm: return "final_norm";
    case Component::kLmHead: return "lm_head";
    case Component::kSampling: return "sampling";
  }
  return "?";
}

}  // namespace eprof::engine
