// eprof-web: serves eprof's browser dashboard and carries its gRPC-web calls to eprofd over
// eprofd's Unix socket, letting in only a browser that holds its access token.
//
//   eprof-web                      # prints http://127.0.0.1:8765/?token=...
//   eprof-web --help
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/flags_main.h"
#include "common/logging.h"
#include "common/paths.h"
#include "common/process_init.h"
#include "web_gateway/gateway.h"

ABSL_FLAG(std::string, socket, "",
          "eprofd's Unix socket (default: where eprofd puts it, $XDG_RUNTIME_DIR/eprof/eprofd.sock "
          "or $TMPDIR/eprof-$UID/eprofd.sock; $EPROF_SOCKET overrides it).");
ABSL_FLAG(std::string, listen_address, "127.0.0.1",
          "Address to serve HTTP on (default 127.0.0.1, this machine only). Another address may "
          "be reachable from other machines, where only the token keeps others out; the log "
          "warns of it.");
ABSL_FLAG(int32_t, port, 8765, "TCP port to serve on, 1-65535; 0 picks a free one (printed).");
ABSL_FLAG(std::string, dashboard_dir, "",
          "Directory of the dashboard's built files (index.html and its assets); empty serves a "
          "small status page. Only files inside it are served.");
ABSL_FLAG(std::string, token_file, "",
          "File holding the access token (one line, at least 16 characters, mode 0600, owned by "
          "you). Default: a new random token at every start.");
ABSL_FLAG(std::vector<std::string>, allow_origin, {},
          "Further origins allowed to call the gateway (http://host:port), comma-separated; its "
          "own address always is.");
ABSL_FLAG(int32_t, max_body_kib, 1024,
          "Largest request body, KiB (1-65536); larger requests get HTTP 413.");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warning or error.");

namespace {

// The token from `path`, which must be the user's own and closed to others.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("--token-file ", path, " cannot be read"));
  }
  if (st.st_uid != ::getuid() || (st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "--token-file ", path, " must be yours with mode 0600 (chmod 600 ", path,
        "): others could read the token"));
  }
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  token = std::string(absl::StripAsciiWhitespace(token));
  if (token.size() < 16) {
    return absl::FailedPreconditionError(
        absl::StrCat("--token-file ", path, " holds a token shorter than 16 characters"));
  }
  return token;
}

int Main() {
  // SIGTERM and SIGINT are taken with sigwait below: blocked here, before any thread starts,
  // so that every thread inherits the mask and no handler runs in the middle of a lock.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  eprof::InitProcess("eprof-web");
  absl::StatusOr<eprof::LogLevel> level = eprof::ParseLogLevel(absl::GetFlag(FLAGS_log_level));
  if (!level.ok()) {
    EPROF_LOG(ERROR) << "--log-level: " << level.status().message();
    return 2;
  }
  eprof::SetMinLogLevel(*level);
  const int32_t port = absl::GetFlag(FLAGS_port);
  if (port < 0 || port > 65535) {
    EPROF_LOG(ERROR) << "--port " << port << " is outside 0-65535";
    return 2;
  }
  const int32_t body_kib = absl::GetFlag(FLAGS_max_body_kib);
  if (body_kib < 1 || body_kib > 65536) {
    EPROF_LOG(ERROR) << "--max-body-kib " << body_kib << " is outside 1-65536";
    return 2;
  }
  eprof::web::GatewayOptions options;
  options.daemon_socket = absl::GetFlag(FLAGS_socket);
  if (options.daemon_socket.empty()) {
    const char* env = std::getenv("EPROF_SOCKET");
    options.daemon_socket_is_default = env == nullptr || *env == '\0';
    options.daemon_socket = eprof::DefaultDaemonSocket();
  }
  options.listen_address = absl::GetFlag(FLAGS_listen_address);
  options.port = port;
  options.dashboard_dir = absl::GetFlag(FLAGS_dashboard_dir);
  options.allowed_origins = absl::GetFlag(FLAGS_allow_origin);
  options.max_body_bytes = static_cast<size_t>(body_kib) << 10;
  if (const std::string file = absl::GetFlag(FLAGS_token_file); !file.empty()) {
    absl::StatusOr<std::string> token = ReadTokenFile(file);
    if (!token.ok()) {
      EPROF_LOG(ERROR) << token.status().message();
      return 2;
    }
    options.token = *token;
  } else {
    options.token = eprof::web::NewAccessToken();
  }
  if (options.listen_address != "127.0.0.1" && options.listen_address != "localhost" &&
      options.listen_address != "::1") {
    EPROF_LOG(WARNING) << "listening on " << options.listen_address
                       << ", which other machines may reach: only the access token keeps them out";
  }
  absl::StatusOr<std::unique_ptr<eprof::web::Gateway>> gateway = eprof::web::Gateway::Start(options);
  if (!gateway.ok()) {
    EPROF_LOG(ERROR) << gateway.status().message();
    return 1;
  }
  const std::string host = options.listen_address.find(':') != std::string::npos
                               ? absl::StrCat("[", options.listen_address, "]")
                               : options.listen_address;
  std::printf("eprof-web: open http://%s:%d/?token=%s\n", host.c_str(), (*gateway)->port(),
              options.token.c_str());
  std::fflush(stdout);
  EPROF_LOG(INFO) << "eprof-web serving on " << host << ":" << (*gateway)->port()
                  << ", eprofd at " << options.daemon_socket;

  signal(SIGPIPE, SIG_IGN);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  EPROF_LOG(INFO) << "stopping: ending the calls in progress";
  (*gateway)->Stop();
  EPROF_LOG(INFO) << "stopped";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  eprof::ParseCommandLineWithDashes(
      argc, argv,
      "serves eprof's dashboard and carries its gRPC-web calls to eprofd.\n\nUsage: eprof-web "
      "[flags]\n\nWrite flags with dashes or underscores (--dashboard-dir or --dashboard_dir).",
      "web_gateway/main.cc");
  return Main();
}
