// The gRPC-web wire format (shared/reference/grpc-web-and-services.md §A), as pure functions
// the gateway and its tests share: request content types, the one request frame (binary or
// base64 text), response data and trailer frames, grpc-timeout, grpc-message percent-encoding,
// and which browser headers may become gRPC metadata.
//
//   EPROF_ASSIGN_OR_RETURN(WebContentType type, ParseContentType(req.get_header_value("content-type")));
//   EPROF_ASSIGN_OR_RETURN(std::string message, DecodeRequestBody(req.body, type.text));
//   std::string frame = DataFrame(reply_bytes, text_out);
//   std::string last = TrailerFrame(status, trailing_metadata, text_out);
//
// Thread safety: free functions, thread-safe.
#ifndef EPROF_WEB_GATEWAY_GRPC_WEB_H_
#define EPROF_WEB_GATEWAY_GRPC_WEB_H_

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eprof::web {

// What a request's Content-Type says.
struct WebContentType {
  // application/grpc-web-text(+proto): the body is base64.
  bool text = false;
};

// The four gRPC-web proto content types (parameters such as "; charset" ignored).
// INVALID_ARGUMENT for +json, +thrift and anything else: the gateway answers those with 415.
absl::StatusOr<WebContentType> ParseContentType(absl::string_view content_type);

// Standard base64 with padding, no line breaks.
std::string Base64Encode(absl::string_view bytes);
// Decodes quad by quad; '=' may end any quad (clients may concatenate padded chunks).
// INVALID_ARGUMENT for a length that is not a multiple of 4 or a character outside the alphabet.
absl::StatusOr<std::string> Base64Decode(absl::string_view text);

// The message of a request body: exactly one uncompressed data frame (flag 0x00), after base64
// decoding when `text`. INVALID_ARGUMENT (the gateway answers 400) naming what is wrong:
// truncated header or payload, a compressed or trailer frame, bytes after the frame.
absl::StatusOr<std::string> DecodeRequestBody(absl::string_view body, bool text);

// One response data frame: 0x00, big-endian length, `message`; base64 when `text` (each frame
// encoded on its own, with its padding).
std::string DataFrame(absl::string_view message, bool text);

// The trailer frame: 0x80, length, "grpc-status:N\r\ngrpc-message:PCT\r\n" then the other
// trailing metadata, keys lowercase, "-bin" values base64; base64 when `text`.
std::string TrailerFrame(int grpc_status, absl::string_view grpc_message,
                         const std::multimap<std::string, std::string>& trailing_metadata,
                         bool text);

// grpc-message's encoding (PROTOCOL-HTTP2): bytes outside printable ASCII and '%' become %XX.
std::string PercentEncode(absl::string_view message);

// A metadata value as it goes into an HTTP header or a trailer line: "-bin" keys base64.
std::string MetadataValue(absl::string_view key, absl::string_view value);

// grpc-timeout "1*8DIGIT unit" (H M S m u n) as a duration; nullopt when malformed.
std::optional<std::chrono::nanoseconds> ParseGrpcTimeout(absl::string_view value);

// Browser request headers that may become gRPC metadata of the call: keys lowercased, legal
// for gRPC ([0-9a-z_.-], values printable ASCII, or any bytes for "-bin" keys, base64-decoded),
// hop-by-hop, HTTP-only, gateway-only and reserved ones (grpc-*, :pseudo, host, cookie, origin,
// content-*, te, ...) dropped. gRPC aborts the process on illegal metadata, so nothing else
// reaches it.
std::vector<std::pair<std::string, std::string>> ForwardableMetadata(
    const std::multimap<std::string, std::string>& http_headers);

// Reads a gRPC-web response body as it arrives, in chunks cut anywhere (what a browser client
// does): binary frames, or in text mode base64 whose padded groups may end any chunk.
//
//   WebFrameReader reader(/*text=*/false);
//   reader.Feed(chunk);
//   WebFrameReader::Frame f;
//   while (reader.Next(&f)) { f.trailer ? parse trailers : handle f.payload; }
//
// Thread safety: one reader per stream, used from one thread.
class WebFrameReader {
 public:
  struct Frame {
    bool trailer = false;  // flag 0x80: "key:value\r\n" lines
    std::string payload;
  };

  explicit WebFrameReader(bool text) : text_(text) {}

  // Adds bytes. INVALID_ARGUMENT for text that is not base64 (the reader is then unusable).
  absl::Status Feed(absl::string_view chunk);
  // The next complete frame, if one has arrived.
  bool Next(Frame* frame);
  // Bytes received that do not yet make a whole frame (0 at a clean end of stream).
  size_t pending_bytes() const { return bytes_.size() + text_pending_.size(); }

 private:
  bool text_;
  std::string text_pending_;  // < 4 base64 characters not yet decoded
  std::string bytes_;
};

// Parses a trailer frame's "key:value\r\n" lines (keys lowercased, values trimmed).
std::multimap<std::string, std::string> ParseTrailers(absl::string_view block);

}  // namespace eprof::web

#endif  // EPROF_WEB_GATEWAY_GRPC_WEB_H_
