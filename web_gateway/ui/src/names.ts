// Human names for the proto's enums, as eprofctl prints them (client_cli/format.cc).
import { Quality, ChannelKind } from "./gen/eprof/v1/power_pb";
import { Attribution, Component, DetailLevel, Phase, RunStatus } from "./gen/eprof/v1/profiler_pb";

export const PHASE_NAMES: Record<Phase, string> = {
  [Phase.UNSPECIFIED]: "unspecified",
  [Phase.MODEL_LOAD]: "model_load",
  [Phase.IDLE_BASELINE]: "idle_baseline",
  [Phase.PRE_INFERENCE]: "pre_inference",
  [Phase.PREFILL]: "prefill",
  [Phase.DECODE]: "decode",
  [Phase.POST_INFERENCE]: "post_inference",
  [Phase.WARMUP]: "warmup",
};
export const phaseName = (p: Phase): string => PHASE_NAMES[p] ?? `phase ${p}`;

export const COMPONENT_NAMES: Record<Component, string> = {
  [Component.UNSPECIFIED]: "unspecified",
  [Component.EMBEDDING]: "embedding",
  [Component.INPUT_NORM]: "input_norm",
  [Component.Q_PROJ]: "q_proj",
  [Component.K_PROJ]: "k_proj",
  [Component.V_PROJ]: "v_proj",
  [Component.QKV_PROJ]: "qkv_proj",
  [Component.Q_NORM]: "q_norm",
  [Component.K_NORM]: "k_norm",
  [Component.ROTARY]: "rotary",
  [Component.ATTENTION]: "attention",
  [Component.O_PROJ]: "o_proj",
  [Component.POST_ATTENTION_NORM]: "post_attention_norm",
  [Component.PRE_FEEDFORWARD_NORM]: "pre_feedforward_norm",
  [Component.POST_FEEDFORWARD_NORM]: "post_feedforward_norm",
  [Component.GATE_PROJ]: "gate_proj",
  [Component.UP_PROJ]: "up_proj",
  [Component.GATE_UP_PROJ]: "gate_up_proj",
  [Component.MLP_ACT]: "mlp_act",
  [Component.DOWN_PROJ]: "down_proj",
  [Component.FINAL_NORM]: "final_norm",
  [Component.LM_HEAD]: "lm_head",
  [Component.SAMPLING]: "sampling",
};
export const componentName = (c: Component): string => COMPONENT_NAMES[c] ?? `component ${c}`;

// Which side of a layer a component is on (for the energy flow).
export function componentGroup(c: Component): "attention" | "mlp" | "norm" | "outside" {
  switch (c) {
    case Component.Q_PROJ: case Component.K_PROJ: case Component.V_PROJ: case Component.QKV_PROJ:
    case Component.Q_NORM: case Component.K_NORM: case Component.ROTARY: case Component.ATTENTION:
    case Component.O_PROJ:
      return "attention";
    case Component.GATE_PROJ: case Component.UP_PROJ: case Component.GATE_UP_PROJ:
    case Component.MLP_ACT: case Component.DOWN_PROJ:
      return "mlp";
    case Component.INPUT_NORM: case Component.POST_ATTENTION_NORM:
    case Component.PRE_FEEDFORWARD_NORM: case Component.POST_FEEDFORWARD_NORM:
      return "norm";
    default:
      return "outside";
  }
}

export const STATUS_NAMES: Record<RunStatus, string> = {
  [RunStatus.UNSPECIFIED]: "unspecified",
  [RunStatus.QUEUED]: "queued",
  [RunStatus.RUNNING]: "running",
  [RunStatus.COMPLETED]: "completed",
  [RunStatus.CANCELLED]: "cancelled",
  [RunStatus.FAILED]: "failed",
  [RunStatus.INTERRUPTED]: "interrupted",
};
export const statusName = (s: RunStatus): string => STATUS_NAMES[s] ?? `status ${s}`;

export const DETAIL_NAMES: Record<DetailLevel, string> = {
  [DetailLevel.UNSPECIFIED]: "default",
  [DetailLevel.PHASES]: "phases",
  [DetailLevel.TOKENS]: "tokens",
  [DetailLevel.LAYERS]: "layers",
  [DetailLevel.COMPONENTS]: "components",
  [DetailLevel.DEEP]: "deep",
};
export const detailName = (d: DetailLevel): string => DETAIL_NAMES[d] ?? `detail ${d}`;

// Said in words wherever a figure is shown: an estimate is not a measurement.
export function qualityLabel(q: Quality): string {
  switch (q) {
    case Quality.MEASURED: return "measured";
    case Quality.DERIVED: return "derived";
    default: return "estimate";  // estimated, or unset (which consumers treat as an estimate)
  }
}

export function attributionLabel(a: Attribution): string {
  switch (a) {
    case Attribution.COUNTER: return "counter";
    case Attribution.TIME_SHARE: return "time share";
    case Attribution.NONE: return "none";
    default: return "—";
  }
}

export function channelKindName(k: ChannelKind): string {
  return ChannelKind[k]?.toLowerCase() ?? "other";
}

/** The stop reason in words, or "" where it only repeats the status ("cancelled"). */
export function stopReasonText(status: RunStatus, stopReason: string): string {
  const why = stopReason.replace(/_/g, " ");
  return why === statusName(status) ? "" : why;
}

/** "completed (max new tokens)", "cancelled". */
export function outcome(status: RunStatus, stopReason: string): string {
  const why = stopReasonText(status, stopReason);
  return why ? `${statusName(status)} (${why})` : statusName(status);
}
