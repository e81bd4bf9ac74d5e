// eprof-web's HTTP side: serves the dashboard's files and turns gRPC-web calls from the browser
// into gRPC calls to eprofd over its Unix socket, generically (any method of any service, as
// raw bytes through grpc::GenericStub), streaming each reply message to the browser as it comes.
//
//   GatewayOptions o;
//   o.daemon_socket = DefaultDaemonSocket();
//   o.token = NewAccessToken();
//   EPROF_ASSIGN_OR_RETURN(std::unique_ptr<Gateway> g, Gateway::Start(o));
//   printf("http://127.0.0.1:%d/?token=%s\n", g->port(), o.token.c_str());
//   ...
//   g->Stop();
//
// Who gets in (design: every path into eprofd checks who is calling):
//   1. Host must name the gateway itself (127.0.0.1, localhost, [::1] or the listen address,
//      with its port): a page whose name an attacker rebinds to 127.0.0.1 gets 403.
//   2. The access token, from the URL the gateway printed (?token=, exchanged for an HttpOnly,
//      SameSite=Strict cookie and a redirect), the cookie, or an x-eprof-token header (for
//      non-browser clients). Anything else gets 401 and nothing more.
//   3. Origin, when sent, must be the gateway's own or one of `allowed_origins`: 403 otherwise.
//
// Threads: cpp-httplib's pool serves each connection on a thread of its own (a streaming call
// holds one for its whole life); gRPC's callback threads fill each call's bounded buffer.
// Thread safety: Start/Stop from one thread; everything else is internal.
#ifndef EPROF_WEB_GATEWAY_GATEWAY_H_
#define EPROF_WEB_GATEWAY_GATEWAY_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace eprof::web {

struct GatewayOptions {
  // eprofd's socket, and whether it is the default path (whose directory must be the user's).
  std::string daemon_socket;
  bool daemon_socket_is_default = false;
  // Where to listen. 0 picks a free port (see Gateway::port()).
  std::string listen_address = "127.0.0.1";
  int port = 8765;
  // The dashboard's built files; empty serves the built-in status page.
  std::string dashboard_dir;
  // The access token (required, at least 16 characters).
  std::string token;
  // Further origins allowed to call ("http://host:port").
  std::vector<std::string> allowed_origins;
  // Largest request body, bytes (413 beyond).
  size_t max_body_bytes = 1 << 20;
  // Reply bytes one call may hold for a browser that does not read; then the call is cancelled.
  size_t max_stream_buffer_bytes = 8 << 20;
  // HTTP worker threads: concurrent connections, streams included.
  int threads = 64;
};

// A random 32-hex-digit token.
std::string NewAccessToken();

class Gateway {
 public:
  // Binds and starts serving. FAILED_PRECONDITION for a port in use (naming it), a token that is
  // too short or a dashboard directory that does not exist.
  static absl::StatusOr<std::unique_ptr<Gateway>> Start(GatewayOptions options);
  ~Gateway();  // Stop()

  // Cancels every call in progress (each ends with its trailer), stops listening, joins the
  // threads. Idempotent.
  void Stop();

  int port() const;

  class Impl;

 private:
  explicit Gateway(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace eprof::web

#endif  // EPROF_WEB_GATEWAY_GATEWAY_H_
