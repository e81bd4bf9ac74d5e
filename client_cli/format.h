// Human formatting for eprofctl: energies, powers, durations with sensible units; quality
// labels ("estimate" is always said); tables; sparklines.
#ifndef EPROF_CLIENT_CLI_FORMAT_H_
#define EPROF_CLIENT_CLI_FORMAT_H_

#include <string>
#include <vector>

#include "eprof/v1/profiler.pb.h"

namespace eprof::cli {

std::string Energy(double mj);          // "812 mJ", "3.41 J", "12.7 kJ"
std::string Power(double mw);           // "430 mW", "12.3 W"
std::string Duration(int64_t ns);       // "840 µs", "12.4 ms", "3.21 s", "2m 05s"
std::string Number(double v, int digits = 3);
std::string QualityLabel(v1::Quality q);        // "measured", "derived", "estimate"
std::string PhaseName(v1::Phase phase);         // "prefill"
std::string ComponentName(v1::Component c);     // "q_proj"
std::string StatusName(v1::RunStatus s);        // "completed"
std::string DetailName(v1::DetailLevel d);      // "components"
// "2026-11-23 14:05:09" (local time).
std::string Timestamp(int64_t unix_ms);
// ▁▂▃▄▅▆▇█ scaled between min and max; at most `width` characters (values averaged into bins).
std::string Sparkline(const std::vector<double>& values, size_t width = 60);

// A text table: the first row is the header; columns are left-aligned unless `right[i]`.
std::string Table(const std::vector<std::vector<std::string>>& rows, const std::vector<bool>& right);

// `text` made safe to print on a terminal: control characters (C0 but newline and tab, DEL,
// C1) become \xNN or \uNNNN escapes and bytes that are not UTF-8 become \xNN, so text a model
// generated cannot move the cursor, change colours or retitle the window. --json output keeps
// the exact text instead.
std::string TerminalSafe(const std::string& text);

// Offset of the first byte of `text` that does not start a valid UTF-8 character (overlong
// forms, surrogates and values past U+10FFFF are invalid), or std::string::npos when it is all
// valid.
size_t FirstInvalidUtf8(const std::string& text);

// Parses a detail level name; false when unknown.
bool ParseDetail(const std::string& name, v1::DetailLevel* out);

}  // namespace eprof::cli

#endif  // EPROF_CLIENT_CLI_FORMAT_H_
