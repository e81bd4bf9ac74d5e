// powermetrics' plist stream (the helper reads it from a root child process), fed in chunks of
// the sizes a pipe gives, and one document parsed whole.
#include "fuzz/fuzz_util.h"
#include "power_helper/sensors/powermetrics_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes = eprof::fuzz::View(data, size);  // data[0] also sets the chunks
  eprof::power::PowermetricsStreamParser parser(/*partial_timeout_ns=*/1'000'000'000);
  int64_t now_ns = 0;
  for (absl::string_view chunk : eprof::fuzz::Chunks(bytes, data[0])) {
    now_ns += 50'000'000;
    parser.Feed(chunk, now_ns);
  }
  parser.CheckTimeout(now_ns + 2'000'000'000);
  parser.Finish();
  (void)eprof::power::ParsePowermetricsPlist(bytes);
  return 0;
}
