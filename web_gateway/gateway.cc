#include "web_gateway/gateway.h"

#include <grpcpp/create_channel_posix.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/logging.h"
#include "common/random_id.h"
#include "common/uds_client.h"
#include "web_gateway/grpc_web.h"
#include "web_gateway/status_page.h"

namespace eprof::web {
namespace {

namespace fs = std::filesystem;

// The cookie carries the port: browsers send a host's cookies to all its ports, and two
// gateways on one machine must not overwrite each other's.
std::string CookieName(int port) { return absl::StrCat("eprof-web-token-", port); }

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string CookieValue(const std::string& header, const std::string& name) {
  for (absl::string_view part : absl::StrSplit(header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::StartsWith(part, name + "=")) return std::string(part.substr(name.size() + 1));
  }
  return "";
}

const char* MimeType(const std::string& path) {
  static const std::map<std::string, const char*> kTypes = {
      {".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".css", "text/css; charset=utf-8"},
      {".json", "application/json"}, {".svg", "image/svg+xml"}, {".png", "image/png"},
      {".ico", "image/x-icon"}, {".woff2", "font/woff2"}, {".map", "application/json"},
      {".txt", "text/plain; charset=utf-8"}};
  auto it = kTypes.find(fs::path(path).extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

// One gRPC call to eprofd, its reply messages queued for the HTTP thread that streams them.
// Owned by a shared_ptr that the call itself holds until gRPC's OnDone.
class ProxyCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  struct Event {
    enum Kind { kMessage, kDone, kNothingYet } kind = kNothingYet;
    std::string message;
  };

  explicit ProxyCall(size_t max_buffered) : max_buffered_(max_buffered) {}

  grpc::ClientContext& context() { return context_; }

  // Starts the call on `channel`; the call keeps its stub (and so the channel) until it ends.
  void Start(const std::shared_ptr<ProxyCall>& self, std::shared_ptr<grpc::Channel> channel,
             const std::string& method, const std::string& request) {
    self_ = self;
    stub_ = std::make_unique<grpc::GenericStub>(std::move(channel));
    grpc::Slice slice(request);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub_->PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    // A read paused by backpressure is resumed from the HTTP thread (Next), outside any
    // reaction: the hold keeps the call (and OnDone) from finishing under it. Released when the
    // reads are over or the HTTP side has let go (Detach) with no read in flight.
    AddHold();
    held_ = true;
    reading_ = true;
    StartRead(&reply_);
    StartCall();
  }

  // The HTTP side will call Next no more (the response is over): no read is resumed from
  // outside any more, so the hold goes now if no read is in flight, else when it completes.
  void Detach() {
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      detached_ = true;
      if (!reading_ && held_) {
        release = true;
        held_ = false;
      }
    }
    if (release) RemoveHold();
  }

  void OnReadInitialMetadataDone(bool ok) override {
    if (!ok) return;
    absl::MutexLock lock(&mu_);
    for (const auto& [k, v] : context_.GetServerInitialMetadata()) {
      initial_.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
    }
  }

  // Backpressure: the next message is read only while less than max_buffered_ bytes wait for
  // the browser, so one that stops reading holds at most that much (and a message); its writes
  // then time out and the call is cancelled.
  void OnReadDone(bool ok) override {
    std::string bytes;
    if (ok) {
      std::vector<grpc::Slice> slices;
      if (reply_.Dump(&slices).ok()) {
        for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    bool read_on = false;
    bool release = false;
    {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      if (ok) {
        buffered_ += bytes.size();
        queue_.push_back(std::move(bytes));
        read_on = buffered_ < max_buffered_ && !detached_;
        paused_ = !read_on && !detached_;
        reading_ = read_on;
      }
      // No more messages (OnDone follows), or nobody to resume the read: let the call finish.
      if (!read_on && (!ok || detached_) && held_) {
        release = true;
        held_ = false;
      }
    }
    if (read_on) StartRead(&reply_);
    if (release) RemoveHold();
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<ProxyCall> keep = std::move(self_);  // released when this returns
    {
      absl::MutexLock lock(&mu_);
      status_ = status;
      for (const auto& [k, v] : context_.GetServerTrailingMetadata()) {
        trailers_.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
      done_ = true;
    }
  }

  // The next event within `timeout`: a message, the end (status() then valid), or nothing yet.
  Event Next(std::chrono::milliseconds timeout) {
    Event e;
    bool resume = false;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(this, &ProxyCall::HasEventLocked),
                           absl::FromChrono(timeout));
      if (!queue_.empty()) {
        e.kind = Event::kMessage;
        e.message = std::move(queue_.front());
        queue_.pop_front();
        buffered_ -= e.message.size();
        resume = paused_ && buffered_ < max_buffered_ && held_ && !detached_;
        if (resume) {
          paused_ = false;
          reading_ = true;
        }
      } else if (done_) {
        e.kind = Event::kDone;
      }
    }
    if (resume) StartRead(&reply_);  // safe outside a reaction: the hold is still in place
    return e;
  }

  grpc::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }
  std::multimap<std::string, std::string> trailers() {
    absl::MutexLock lock(&mu_);
    return trailers_;
  }
  std::multimap<std::string, std::string> initial_metadata() {
    absl::MutexLock lock(&mu_);
    return initial_;
  }
  bool WaitDone(std::chrono::milliseconds timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done_), absl::FromChrono(timeout));
  }

 private:
  const size_t max_buffered_;
  std::unique_ptr<grpc::GenericStub> stub_;  // declared before context_: destroyed after it
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
  std::shared_ptr<ProxyCall> self_;

  bool HasEventLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || done_;
  }

  absl::Mutex mu_;
  std::deque<std::string> queue_ ABSL_GUARDED_BY(mu_);
  size_t buffered_ ABSL_GUARDED_BY(mu_) = 0;
  // No read in flight: the browser has max_buffered_ bytes to take.
  bool paused_ ABSL_GUARDED_BY(mu_) = false;
  bool reading_ ABSL_GUARDED_BY(mu_) = false;   // a StartRead is in flight
  bool held_ ABSL_GUARDED_BY(mu_) = false;      // the hold taken in Start is still in place
  bool detached_ ABSL_GUARDED_BY(mu_) = false;  // the HTTP side calls Next no more
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, std::string> trailers_ ABSL_GUARDED_BY(mu_);
  std::multimap<std::string, std::string> initial_ ABSL_GUARDED_BY(mu_);
};

// cpp-httplib listens with a backlog of 5, compiled into Debian's library: twenty tabs
// connecting at once on a busy machine overflowed it, and the kernel reset the connections it
// had no room for. listen(2) again on the bound socket raises the backlog (Linux and macOS).
void RaiseListenBacklog(int port) {
  for (int fd = 0; fd < 4096; ++fd) {
    int listening = 0;
    socklen_t len = sizeof listening;
    if (::getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
    sockaddr_storage addr{};
    socklen_t addr_len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &addr_len) != 0) continue;
    int bound = -1;
    if (addr.ss_family == AF_INET) bound = ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
    if (addr.ss_family == AF_INET6) bound = ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
    if (bound == port) ::listen(fd, 512);
  }
}

}  // namespace

std::string NewAccessToken() { return RandomHex(16); }

class Gateway::Impl {
 public:
  explicit Impl(GatewayOptions options) : options_(std::move(options)) {}

  absl::Status Init() {
    if (options_.token.size() < 16) {
      return absl::FailedPreconditionError("the access token must have at least 16 characters");
    }
    if (!options_.dashboard_dir.empty()) {
      std::error_code ec;
      dashboard_root_ = fs::canonical(options_.dashboard_dir, ec);
      if (ec || !fs::is_directory(dashboard_root_)) {
        return absl::FailedPreconditionError(absl::StrCat(
            "--dashboard-dir ", options_.dashboard_dir, " is not a directory"));
      }
    }
    server_.new_task_queue = [n = options_.threads] { return new httplib::ThreadPool(n); };
    server_.set_payload_max_length(options_.max_body_bytes);
    server_.set_keep_alive_max_count(1000);
    // Headers and body leave in separate writes: without TCP_NODELAY the body waits for the
    // ACK of the headers, which the browser delays on a kept-alive connection (delayed ACK).
    server_.set_tcp_nodelay(true);
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      return Admit(req, res) ? httplib::Server::HandlerResponse::Unhandled
                             : httplib::Server::HandlerResponse::Handled;
    });
    static const char kMethodPath[] =
        R"(/((?:[A-Za-z_][A-Za-z0-9_]*\.)+[A-Za-z_][A-Za-z0-9_]*)/([A-Za-z_][A-Za-z0-9_]*))";
    server_.Post(kMethodPath, [this](const httplib::Request& req, httplib::Response& res) {
      Proxy(req, res);
    });
    auto not_post = [](const httplib::Request&, httplib::Response& res) {
      res.status = 405;
      res.set_header("Allow", "POST");
      res.set_content("gRPC-web calls are POST requests\n", "text/plain");
    };
    server_.Put(kMethodPath, not_post);
    server_.Delete(kMethodPath, not_post);
    server_.Patch(kMethodPath, not_post);
    server_.Get(kMethodPath, not_post);
    server_.Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
      ServeFile(req, res);
    });
    const int port = options_.port == 0 ? server_.bind_to_any_port(options_.listen_address)
                                        : (server_.bind_to_port(options_.listen_address,
                                                                options_.port)
                                               ? options_.port
                                               : -1);
    if (port < 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot listen on ", options_.listen_address, ":", options_.port,
          " (in use, or not an address of this machine): choose another with --port"));
    }
    port_ = port;
    RaiseListenBacklog(port_);
    const std::string listen = options_.listen_address.find(':') != std::string::npos &&
                                       options_.listen_address[0] != '['
                                   ? absl::StrCat("[", options_.listen_address, "]")
                                   : options_.listen_address;  // as browsers write IPv6 hosts
    for (const std::string& host : {std::string("127.0.0.1"), std::string("localhost"),
                                    std::string("[::1]"), listen}) {
      const std::string h = absl::AsciiStrToLower(host);
      allowed_hosts_.insert(absl::StrCat(h, ":", port_));
      allowed_origins_.insert(absl::StrCat("http://", h, ":", port_));
    }
    for (const std::string& o : options_.allowed_origins) allowed_origins_.insert(o);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    // Stop() is a no-op until the server runs: do not return before it does.
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return absl::OkStatus();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    {
      absl::MutexLock lock(&calls_mu_);
      for (ProxyCall* c : calls_) c->context().TryCancel();
    }
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  int port() const { return port_; }

 private:
  // A refusal: the HTTP status and a line of text, and for a gRPC-web call also its gRPC form
  // (a gRPC-web content type, grpc-status and grpc-message, no body), which grpc-web's client
  // needs to report it rather than "Unknown Content-type received".
  static void Refuse(const httplib::Request& req, httplib::Response& res, int http_status,
                     int grpc_code, const std::string& message) {
    res.status = http_status;
    // Its body was not read: on a kept-alive connection it would be taken for the next request.
    if (req.method == "POST") res.set_header("Connection", "close");
    absl::StatusOr<WebContentType> type = ParseContentType(req.get_header_value("Content-Type"));
    if (req.method == "POST" && type.ok()) {
      res.set_header("grpc-status", std::to_string(grpc_code));
      res.set_header("grpc-message", PercentEncode(message));
      res.set_content("", type->text ? "application/grpc-web-text+proto"
                                     : "application/grpc-web+proto");
      return;
    }
    res.set_content(absl::StrCat(http_status, " ", message, "\n"), "text/plain");
  }

  // Host, token, Origin (see gateway.h). Writes the refusal and returns false, or returns true.
  bool Admit(const httplib::Request& req, httplib::Response& res) {
    const std::string host = absl::AsciiStrToLower(req.get_header_value("Host"));
    if (allowed_hosts_.count(host) == 0) {
      Refuse(req, res, 403, grpc::StatusCode::PERMISSION_DENIED,
             "forbidden: this is eprof-web, reached by another name than its own");
      return false;
    }
    const std::string query_token = req.get_param_value("token");
    const bool by_query = !query_token.empty() && ConstantTimeEquals(query_token, options_.token);
    const bool by_cookie =
        ConstantTimeEquals(CookieValue(req.get_header_value("Cookie"), CookieName(port_)), options_.token);
    const bool by_header = ConstantTimeEquals(req.get_header_value("x-eprof-token"), options_.token);
    if (!by_query && !by_cookie && !by_header) {
      Refuse(req, res, 401, grpc::StatusCode::UNAUTHENTICATED,
             "unauthorized: open the URL eprof-web printed when it started");
      return false;
    }
    const std::string origin = req.get_header_value("Origin");
    if (!origin.empty() && allowed_origins_.count(absl::AsciiStrToLower(origin)) == 0 &&
        allowed_origins_.count(origin) == 0) {
      Refuse(req, res, 403, grpc::StatusCode::PERMISSION_DENIED,
             "forbidden: requests from this origin are not allowed");
      return false;
    }
    if (by_query && req.method == "GET") {
      // Exchange the URL's token for a cookie and drop it from the address bar.
      res.status = 303;
      res.set_header("Set-Cookie", absl::StrCat(CookieName(port_), "=", options_.token,
                                                "; HttpOnly; SameSite=Strict; Path=/"));
      res.set_header("Location", req.path.empty() ? "/" : req.path);
      res.set_header("Cache-Control", "no-store");
      return false;
    }
    return true;
  }

  void ServeFile(const httplib::Request& req, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
    // The dashboard loads nothing from elsewhere and talks only to this gateway; no other site
    // may frame it (its Delete button must not be clickjacked). Inline styles: React and uPlot
    // set element styles.
    res.set_header("Content-Security-Policy",
                   "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                   "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
                   "object-src 'none'; base-uri 'none'; form-action 'self'; "
                   "frame-ancestors 'none'");
    res.set_header("X-Frame-Options", "DENY");
    if (dashboard_root_.empty()) {
      if (req.path == "/" || req.path == "/index.html") {
        res.set_content(kStatusPage, "text/html; charset=utf-8");
      } else {
        res.status = 404;
        res.set_content("404 not found\n", "text/plain");
      }
      return;
    }
    std::string rel = req.path == "/" ? "index.html" : req.path.substr(1);
    for (absl::string_view part : absl::StrSplit(rel, '/')) {
      if (part == ".." || part == ".") {
        res.status = 404;
        res.set_content("404 not found\n", "text/plain");
        return;
      }
    }
    std::error_code ec;
    fs::path real = fs::canonical(dashboard_root_ / rel, ec);
    const std::string root = dashboard_root_.string();
    const std::string r = real.string();
    if (ec || r.size() <= root.size() || r.compare(0, root.size(), root) != 0 || r[root.size()] != '/' ||
        !fs::is_regular_file(real)) {
      res.status = 404;
      res.set_content("404 not found\n", "text/plain");
      return;
    }
    std::ifstream in(real, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    // Sent through a sized content provider, which httplib does not compress: with a body set
    // directly it would compress every reply afresh, at brotli's highest quality when the
    // browser accepts "br", which made a 0.5 MB script take most of a second on each load.
    auto body = std::make_shared<const std::string>(std::move(buf).str());
    res.set_content_provider(
        body->size(), MimeType(r),
        [body](size_t offset, size_t length, httplib::DataSink& sink) {
          if (offset >= body->size()) return false;
          return sink.write(body->data() + offset, std::min(length, body->size() - offset));
        });
  }

  // The channel to eprofd: made afresh (connect, check the server's uid) when there is none or
  // the last one failed, since a channel made from an fd never reconnects.
  // `*reused`: the channel served earlier calls (a failure may mean eprofd restarted since).
  // (A channel made from an fd is not a client channel: GetState cannot tell its health, so it
  // is kept until a call on it fails UNAVAILABLE.)
  // Made under the lock, so that calls arriving together share one new channel (making one
  // each and dropping all but one, unused, tripped an assertion inside gRPC 1.51). The connect
  // never blocks (uds_client.h), so the lock is held only briefly.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(bool* reused) {
    absl::MutexLock lock(&channel_mu_);
    PruneRetiredLocked();
    *reused = channel_ != nullptr;
    if (channel_ != nullptr) return channel_;
    absl::StatusOr<int> fd =
        ConnectToTrustedServer(options_.daemon_socket, options_.daemon_socket_is_default);
    if (!fd.ok()) return fd.status();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    channel_ = grpc::CreateCustomInsecureChannelFromFd("eprofd", *fd, args);
    return channel_;
  }
  // A failed channel is retired, not dropped: calls still hold it (their stubs), and the last
  // of them to end would destroy it inside its OnDone, on a gRPC thread, which gRPC 1.51 does
  // not survive (an assertion in grpc_cq_internal_unref aborted eprof-web when eprofd died under
  // a busy dashboard). Retired channels are destroyed here, on an HTTP thread, once nothing else
  // holds them.
  void ForgetChannel(const std::shared_ptr<grpc::Channel>& failed) {
    absl::MutexLock lock(&channel_mu_);
    if (channel_ == failed) {
      retired_.push_back(std::move(channel_));
      channel_.reset();
    }
    PruneRetiredLocked();
  }

  void PruneRetiredLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(channel_mu_) {
    std::erase_if(retired_, [](const std::shared_ptr<grpc::Channel>& c) { return c.use_count() == 1; });
  }

  static void TrailersOnly(httplib::Response& res, const std::string& content_type, int code,
                           const std::string& message) {
    res.status = 200;
    res.set_header("grpc-status", std::to_string(code));
    if (!message.empty()) res.set_header("grpc-message", PercentEncode(message));
    res.set_header("Cache-Control", "no-store");
    res.set_content("", content_type);
  }

  void Proxy(const httplib::Request& req, httplib::Response& res) {
    absl::StatusOr<WebContentType> type = ParseContentType(req.get_header_value("Content-Type"));
    if (!type.ok()) {
      res.status = 415;
      res.set_content(std::string(type.status().message()) + "\n", "text/plain");
      return;
    }
    const bool text_out =
        type->text || absl::StrContains(req.get_header_value("Accept"), "application/grpc-web-text");
    const std::string content_type =
        text_out ? "application/grpc-web-text+proto" : "application/grpc-web+proto";
    absl::StatusOr<std::string> message = DecodeRequestBody(req.body, type->text);
    if (!message.ok()) {
      res.status = 400;
      res.set_content(std::string(message.status().message()) + "\n", "text/plain");
      return;
    }
    std::multimap<std::string, std::string> headers(req.headers.begin(), req.headers.end());
    const std::vector<std::pair<std::string, std::string>> metadata = ForwardableMetadata(headers);
    const std::optional<std::chrono::nanoseconds> timeout =
        ParseGrpcTimeout(req.get_header_value("grpc-timeout"));
    std::shared_ptr<ProxyCall> call;
    std::shared_ptr<grpc::Channel> used;
    ProxyCall::Event first;
    // Twice at most: a call that fails UNAVAILABLE before anything on a channel that served
    // earlier calls found eprofd restarted; it is made again on a new connection.
    for (int attempt = 0; attempt < 2; ++attempt) {
      bool reused = false;
      absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Channel(&reused);
      if (!channel.ok()) {
        TrailersOnly(res, content_type,
                     absl::IsPermissionDenied(channel.status()) ? grpc::StatusCode::PERMISSION_DENIED
                                                                : grpc::StatusCode::UNAVAILABLE,
                     absl::StrCat("eprof-web cannot reach eprofd at ", options_.daemon_socket, " (",
                                  channel.status().message(),
                                  "): start it with `eprofd` (or deploy/quickstart.sh); eprof-web "
                                  "connects again by itself"));
        return;
      }
      used = *channel;
      call = std::make_shared<ProxyCall>(options_.max_stream_buffer_bytes);
      grpc::ClientContext& ctx = call->context();
      for (const auto& [k, v] : metadata) ctx.AddMetadata(k, v);
      if (timeout) ctx.set_deadline(std::chrono::system_clock::now() + *timeout);
      {
        absl::MutexLock lock(&calls_mu_);
        if (stopped_) {
          TrailersOnly(res, content_type, grpc::StatusCode::UNAVAILABLE, "eprof-web is shutting down");
          return;
        }
        calls_.insert(call.get());
      }
      call->Start(call, used, req.path, *message);
      // The first event, for at most a second, decides the response's form: an error before any
      // message is a trailers-only reply (status in the headers, no body); otherwise the
      // messages stream. A call quiet for longer streams anyway, so that a browser leaving is
      // noticed (the provider can tell; this thread cannot).
      first = call->Next(std::chrono::milliseconds(1000));
      if (first.kind == ProxyCall::Event::kDone &&
          call->status().error_code() == grpc::StatusCode::UNAVAILABLE) {
        Unregister(call.get());
        ForgetChannel(used);
        if (reused && attempt == 0) continue;
      }
      break;
    }
    if (first.kind == ProxyCall::Event::kDone) {
      Unregister(call.get());
      const grpc::Status status = call->status();
      if (!status.ok()) {
        TrailersOnly(res, content_type, status.error_code(),
                     status.error_code() == grpc::StatusCode::UNAVAILABLE &&
                             status.error_message().empty()
                         ? absl::StrCat("eprofd at ", options_.daemon_socket,
                                        " went away: start it with `eprofd` (or "
                                        "deploy/quickstart.sh); eprof-web connects again by itself")
                         : status.error_message());
        for (const auto& [k, v] : call->trailers()) {
          if (!absl::StartsWith(k, "grpc-")) res.set_header(k, MetadataValue(k, v));
        }
        return;
      }
      res.set_header("Cache-Control", "no-store");
      res.set_content(TrailerFrame(0, "", call->trailers(), text_out), content_type);
      return;
    }
    res.set_header("Cache-Control", "no-store");
    for (const auto& [k, v] : call->initial_metadata()) {
      if (!absl::StartsWith(k, "grpc-") && k != "content-type") res.set_header(k, MetadataValue(k, v));
    }
    // The first message, if one came within the second (else the call is still quiet).
    auto pending = std::make_shared<std::string>(
        first.kind == ProxyCall::Event::kMessage ? DataFrame(first.message, text_out) : "");
    res.set_chunked_content_provider(
        content_type,
        [this, call, pending, text_out, used](size_t, httplib::DataSink& sink) {
          // Writes what is there; on the call's end, every queued frame and the trailer in this
          // one provider call (httplib may stop calling between calls once it shuts down).
          std::chrono::milliseconds wait(250);
          for (;;) {
            ProxyCall::Event e;
            if (!pending->empty()) {
              e.kind = ProxyCall::Event::kMessage;
            } else {
              e = call->Next(wait);
            }
            if (e.kind == ProxyCall::Event::kMessage) {
              const std::string frame = pending->empty() ? DataFrame(e.message, text_out) : *pending;
              pending->clear();
              if (!sink.write(frame.data(), frame.size())) {
                call->context().TryCancel();  // the browser went away: cancel the call at once
                return false;
              }
              wait = std::chrono::milliseconds(0);  // drain what else is queued, then return
              continue;
            }
            if (e.kind == ProxyCall::Event::kDone) {
              const grpc::Status status = call->status();
              if (status.error_code() == grpc::StatusCode::UNAVAILABLE) ForgetChannel(used);
              const std::string trailer =
                  TrailerFrame(status.error_code(), status.error_message(), call->trailers(), text_out);
              sink.write(trailer.data(), trailer.size());
              sink.done();
              return true;
            }
            if (wait.count() == 0) return true;  // wrote what was queued; more comes later
            if (!sink.is_writable()) {           // nothing to send, and the browser is gone
              call->context().TryCancel();
              return false;
            }
          }
        },
        [this, call](bool) {
          // The response is over (sent, or the connection lost): the call ends with it.
          call->context().TryCancel();
          call->Detach();
          call->WaitDone(std::chrono::seconds(10));
          Unregister(call.get());
        });
  }

  void Unregister(ProxyCall* call) {
    absl::MutexLock lock(&calls_mu_);
    calls_.erase(call);
  }

  GatewayOptions options_;
  fs::path dashboard_root_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::set<std::string> allowed_hosts_;
  std::set<std::string> allowed_origins_;
  std::atomic<bool> stopped_{false};

  absl::Mutex channel_mu_;
  std::shared_ptr<grpc::Channel> channel_ ABSL_GUARDED_BY(channel_mu_);
  // See ForgetChannel.
  std::vector<std::shared_ptr<grpc::Channel>> retired_ ABSL_GUARDED_BY(channel_mu_);
  absl::Mutex calls_mu_;
  std::set<ProxyCall*> calls_ ABSL_GUARDED_BY(calls_mu_);
};

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() { Stop(); }
void Gateway::Stop() { impl_->Stop(); }
int Gateway::port() const { return impl_->port(); }

}  // namespace eprof::web
