// eprof-web's gRPC-web framing from the browser: a request body (binary and text mode) and a
// response stream's frames fed in chunks, both modes.
#include "fuzz/fuzz_util.h"
#include "web_gateway/grpc_web.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes = eprof::fuzz::View(data, size);  // data[0] also sets the chunks
  (void)eprof::web::DecodeRequestBody(bytes, /*text=*/false);
  (void)eprof::web::DecodeRequestBody(bytes, /*text=*/true);
  (void)eprof::web::Base64Decode(bytes);
  for (bool text : {false, true}) {
    eprof::web::WebFrameReader reader(text);
    eprof::web::WebFrameReader::Frame frame;
    for (absl::string_view chunk : eprof::fuzz::Chunks(bytes, data[0])) {
      if (!reader.Feed(chunk).ok()) break;
      while (reader.Next(&frame)) {
        if (frame.trailer) (void)eprof::web::ParseTrailers(frame.payload);
      }
    }
  }
  return 0;
}
