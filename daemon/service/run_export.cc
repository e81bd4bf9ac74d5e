#include "daemon/service/run_export.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"

namespace eprof::daemon {
namespace {

// RFC 4180: quote a field when it holds a comma, quote, CR or LF; double inner quotes.
std::string Csv(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

// Shortest round-tripping form of a double.
std::string Num(double v) { return absl::StrFormat("%.17g", v); }

void Line(std::string* out, const std::vector<std::string>& fields) {
  absl::StrAppend(out, absl::StrJoin(fields, ","), "\r\n");
}

std::string EnergyFields(const v1::Energy& e) {
  return absl::StrCat(Num(e.total_mj()), ",", Num(e.dynamic_mj()), ",",
                      v1::Attribution_Name(e.attribution()), ",", v1::Quality_Name(e.quality()));
}

void Table(std::string* out, const char* name, const char* header) {
  absl::StrAppend(out, "# table: ", name, "\r\n", header, "\r\n");
}

std::string ToCsv(const v1::GetRunResponse& run) {
  std::string out;
  const v1::RunSummary& s = run.summary();
  Table(&out, "summary", "field,value");
  auto kv = [&](const char* k, const std::string& v) { Line(&out, {k, Csv(v)}); };
  kv("run_id", s.run_id());
  kv("status", v1::RunStatus_Name(s.status()));
  kv("created_at_unix_ms", absl::StrCat(s.created_at_unix_ms()));
  kv("model", s.model().name());
  kv("family", s.model().family());
  kv("device", s.device());
  kv("dtype", s.dtype());
  kv("detail", v1::DetailLevel_Name(s.detail()));
  kv("power_source", s.power_source());
  kv("input_tokens", absl::StrCat(s.input_tokens()));
  kv("output_tokens", absl::StrCat(s.output_tokens()));
  kv("stop_reason", s.stop_reason());
  kv("prefill_tokens_per_s", Num(s.prefill_tokens_per_s()));
  kv("decode_tokens_per_s", Num(s.decode_tokens_per_s()));
  kv("total_energy_mj", Num(s.total_energy().total_mj()));
  kv("total_dynamic_energy_mj", Num(s.total_energy().dynamic_mj()));
  kv("prefill_energy_mj", Num(s.prefill_energy().total_mj()));
  kv("decode_energy_mj", Num(s.decode_energy().total_mj()));
  kv("prefill_energy_per_input_token_mj", Num(s.prefill_energy_per_input_token().total_mj()));
  kv("decode_energy_per_output_token_mj", Num(s.decode_energy_per_output_token().total_mj()));
  kv("joules_per_token", Num(s.joules_per_token()));
  kv("tokens_per_joule", Num(s.tokens_per_joule()));
  kv("energy_delay_product_j_s", Num(s.energy_delay_product_j_s()));
  kv("baseline_power_mw", Num(s.baseline_power_mw()));
  kv("carbon_g_co2e", Num(s.carbon_g_co2e()));
  kv("quality", v1::Quality_Name(s.total_energy().quality()));
  kv("tags", absl::StrJoin(s.tags(), ";"));
  kv("experiment", s.experiment());
  kv("output_text", s.output_text());
  for (const v1::Warning& w : s.warnings()) kv("warning", absl::StrCat(w.code(), ": ", w.message()));

  if (run.phases_size() > 0) {
    Table(&out, "phases", "phase,start_ns,end_ns,total_mj,dynamic_mj,attribution,quality");
    for (const v1::PhaseRecord& p : run.phases()) {
      Line(&out, {v1::Phase_Name(p.phase()), absl::StrCat(p.start_ns()), absl::StrCat(p.end_ns()),
                  EnergyFields(p.energy())});
    }
    Table(&out, "sections", "phase,section,start_ns,end_ns,total_mj,dynamic_mj,attribution,quality");
    for (const v1::PhaseRecord& p : run.phases()) {
      for (const v1::SectionRecord& sec : p.sections()) {
        Line(&out, {v1::Phase_Name(p.phase()), Csv(sec.name()), absl::StrCat(sec.start_ns()),
                    absl::StrCat(sec.end_ns()), EnergyFields(sec.energy())});
      }
    }
  }
  if (run.tokens_size() > 0) {
    Table(&out, "tokens",
          "index,token_id,text,phase,start_ns,end_ns,total_mj,dynamic_mj,attribution,quality,"
          "probability");
    for (const v1::TokenRecord& t : run.tokens()) {
      Line(&out, {absl::StrCat(t.index()), absl::StrCat(t.token_id()), Csv(t.text()),
                  v1::Phase_Name(t.phase()), absl::StrCat(t.start_ns()), absl::StrCat(t.end_ns()),
                  EnergyFields(t.energy()), Num(t.probability())});
    }
    bool any_layers = false;
    for (const v1::TokenRecord& t : run.tokens()) any_layers |= t.layers_size() > 0;
    if (any_layers) {
      Table(&out, "layers", "token_index,layer,duration_ns,total_mj,dynamic_mj,attribution,quality");
      for (const v1::TokenRecord& t : run.tokens()) {
        for (const v1::LayerMetrics& l : t.layers()) {
          Line(&out, {absl::StrCat(t.index()), absl::StrCat(l.layer()), absl::StrCat(l.duration_ns()),
                      EnergyFields(l.energy())});
        }
      }
      Table(&out, "components",
            "token_index,layer,component,duration_ns,total_mj,dynamic_mj,attribution,quality");
      for (const v1::TokenRecord& t : run.tokens()) {
        for (const v1::LayerMetrics& l : t.layers()) {
          for (const v1::ComponentMetrics& c : l.components()) {
            Line(&out, {absl::StrCat(t.index()), absl::StrCat(l.layer()),
                        v1::Component_Name(c.component()), absl::StrCat(c.duration_ns()),
                        EnergyFields(c.energy())});
          }
        }
      }
    }
  }
  if (run.power_samples_size() > 0) {
    Table(&out, "power_samples", "seq,t_end_ns,window_ns,channel,energy_mj,power_mw,quality");
    for (const v1::PowerSample& ps : run.power_samples()) {
      for (const v1::Reading& r : ps.readings()) {
        Line(&out, {absl::StrCat(ps.seq()), absl::StrCat(ps.t_end_ns()), absl::StrCat(ps.window_ns()),
                    Csv(r.channel()), Num(r.energy_mj()), Num(r.power_mw()),
                    v1::Quality_Name(r.quality())});
      }
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> ExportRunDocument(const v1::GetRunResponse& run,
                                              v1::ExportFormat format) {
  switch (format) {
    case v1::EXPORT_FORMAT_CSV:
      return ToCsv(run);
    case v1::EXPORT_FORMAT_JSON: {
      std::string json;
      google::protobuf::util::JsonPrintOptions options;
      options.add_whitespace = true;
      options.always_print_primitive_fields = true;
      auto status = google::protobuf::util::MessageToJsonString(run, &json, options);
      if (!status.ok()) {
        return absl::InternalError(absl::StrCat("JSON export failed: ", status.ToString()));
      }
      return json;
    }
    default:
      return absl::InvalidArgumentError("ExportRun needs a format: EXPORT_FORMAT_CSV or EXPORT_FORMAT_JSON");
  }
}

absl::StatusOr<std::vector<v1::ExportRunChunk>> ExportRunChunks(const v1::GetRunResponse& run,
                                                                v1::ExportFormat format) {
  absl::StatusOr<std::string> doc = ExportRunDocument(run, format);
  if (!doc.ok()) return doc.status();
  std::vector<v1::ExportRunChunk> chunks;
  for (size_t pos = 0; pos < doc->size() || chunks.empty(); pos += kExportChunkBytes) {
    v1::ExportRunChunk c;
    c.set_data(doc->substr(pos, kExportChunkBytes));
    chunks.push_back(std::move(c));
  }
  bool csv = format == v1::EXPORT_FORMAT_CSV;
  chunks[0].set_content_type(csv ? "text/csv" : "application/json");
  chunks[0].set_filename(absl::StrCat("eprof-run-", run.summary().run_id(), csv ? ".csv" : ".json"));
  return chunks;
}

}  // namespace eprof::daemon
