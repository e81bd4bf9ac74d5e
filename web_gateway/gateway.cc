#include "web_gateway/gateway.h"

#include <grpcpp/create_channel_posix.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"
#include "common/uds_client.h"
#include "web_gateway/grpc_web.h"
#include "web_gateway/status_page.h"

namespace eprof::web {
namespace {

namespace fs = std::filesystem;

constexpr char kCookieName[] = "eprof-web-token";

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

  void Start(const std::shared_ptr<ProxyCall>& self, grpc::GenericStub* stub,
             const std::string& method, const std::string& request) {
    self_ = self;
    grpc::Slice slice(request);
    request_ = grpc::ByteBuffer(&slice, 1);
    stub->PrepareBidiStreamingCall(&context_, method, grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&reply_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // no more messages; OnDone follows
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (reply_.Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
    bool overflow = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      buffered_ += bytes.size();
      queue_.push_back(std::move(bytes));
      overflow = buffered_ > max_buffered_;
      if (overflow) overflowed_ = true;
    }
    cv_.notify_all();
    if (overflow) {
      context_.TryCancel();  // the browser stopped reading: do not hold its replies without bound
      return;
    }
    StartRead(&reply_);
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<ProxyCall> keep = std::move(self_);  // released when this returns
    {
      std::lock_guard<std::mutex> lock(mu_);
      status_ = status;
      for (const auto& [k, v] : context_.GetServerTrailingMetadata()) {
        trailers_.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
      for (const auto& [k, v] : context_.GetServerInitialMetadata()) {
        initial_.emplace(std::string(k.data(), k.size()), std::string(v.data(), v.size()));
      }
      done_ = true;
    }
    cv_.notify_all();
  }

  // The next event within `timeout`: a message, the end (status() then valid), or nothing yet.
  Event Next(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return !queue_.empty() || done_; });
    Event e;
    if (!queue_.empty()) {
      e.kind = Event::kMessage;
      e.message = std::move(queue_.front());
      queue_.pop_front();
      buffered_ -= e.message.size();
    } else if (done_) {
      e.kind = Event::kDone;
    }
    return e;
  }

  grpc::Status status() {
    std::lock_guard<std::mutex> lock(mu_);
    if (overflowed_) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          absl::StrCat("the browser stopped reading and the call's replies passed ",
                                       max_buffered_, " bytes: eprof-web cancelled the call"));
    }
    return status_;
  }
  std::multimap<std::string, std::string> trailers() {
    std::lock_guard<std::mutex> lock(mu_);
    return trailers_;
  }
  std::multimap<std::string, std::string> initial_metadata() {
    std::lock_guard<std::mutex> lock(mu_);
    return initial_;
  }
  bool WaitDone(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_; });
  }

 private:
  const size_t max_buffered_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer reply_;
  std::shared_ptr<ProxyCall> self_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  size_t buffered_ = 0;
  bool overflowed_ = false;
  bool done_ = false;
  grpc::Status status_;
  std::multimap<std::string, std::string> trailers_;
  std::multimap<std::string, std::string> initial_;
};

}  // namespace

std::string NewAccessToken() {
  std::random_device rd;
  std::string token;
  for (int i = 0; i < 4; ++i) absl::StrAppend(&token, absl::StrFormat("%08x", rd()));
  return token;
}

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
    for (const std::string& host : {std::string("127.0.0.1"), std::string("localhost"),
                                    std::string("[::1]"), options_.listen_address}) {
      const std::string h = absl::AsciiStrToLower(host);
      allowed_hosts_.insert(absl::StrCat(h, ":", port_));
      allowed_origins_.insert(absl::StrCat("http://", h, ":", port_));
    }
    for (const std::string& o : options_.allowed_origins) allowed_origins_.insert(o);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return absl::OkStatus();
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    {
      std::lock_guard<std::mutex> lock(calls_mu_);
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
        ConstantTimeEquals(CookieValue(req.get_header_value("Cookie"), kCookieName), options_.token);
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
      res.set_header("Set-Cookie", absl::StrCat(kCookieName, "=", options_.token,
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
    res.set_content(buf.str(), MimeType(r));
  }

  // The channel to eprofd: made afresh (connect, check the server's uid) when there is none or
  // the last one failed, since a channel made from an fd never reconnects.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel() {
    std::lock_guard<std::mutex> lock(channel_mu_);
    if (channel_ != nullptr) {
      grpc_connectivity_state state = channel_->GetState(false);
      if (state != GRPC_CHANNEL_TRANSIENT_FAILURE && state != GRPC_CHANNEL_SHUTDOWN) return channel_;
      channel_.reset();
    }
    absl::StatusOr<int> fd =
        ConnectToTrustedServer(options_.daemon_socket, options_.daemon_socket_is_default);
    if (!fd.ok()) return fd.status();
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(-1);
    channel_ = grpc::CreateCustomInsecureChannelFromFd("eprofd", *fd, args);
    return channel_;
  }
  void ForgetChannel(const std::shared_ptr<grpc::Channel>& failed) {
    std::lock_guard<std::mutex> lock(channel_mu_);
    if (channel_ == failed) channel_.reset();
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
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = Channel();
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
    auto call = std::make_shared<ProxyCall>(options_.max_stream_buffer_bytes);
    grpc::ClientContext& ctx = call->context();
    std::multimap<std::string, std::string> headers(req.headers.begin(), req.headers.end());
    for (const auto& [k, v] : ForwardableMetadata(headers)) ctx.AddMetadata(k, v);
    if (std::optional<std::chrono::nanoseconds> timeout =
            ParseGrpcTimeout(req.get_header_value("grpc-timeout"))) {
      ctx.set_deadline(std::chrono::system_clock::now() + *timeout);
    }
    grpc::GenericStub stub(*channel);
    {
      std::lock_guard<std::mutex> lock(calls_mu_);
      if (stopped_) {
        TrailersOnly(res, content_type, grpc::StatusCode::UNAVAILABLE, "eprof-web is shutting down");
        return;
      }
      calls_.insert(call.get());
    }
    call->Start(call, &stub, req.path, *message);

    // The first event decides the response's form: an error before any message is a
    // trailers-only reply (status in the headers, no body); otherwise the messages stream.
    ProxyCall::Event first;
    while ((first = call->Next(std::chrono::milliseconds(200))).kind == ProxyCall::Event::kNothingYet) {
    }
    if (first.kind == ProxyCall::Event::kDone) {
      Unregister(call.get());
      const grpc::Status status = call->status();
      if (status.error_code() == grpc::StatusCode::UNAVAILABLE) ForgetChannel(*channel);
      if (!status.ok()) {
        TrailersOnly(res, content_type, status.error_code(), status.error_message());
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
    auto pending = std::make_shared<std::string>(DataFrame(first.message, text_out));
    std::shared_ptr<grpc::Channel> used = *channel;
    res.set_chunked_content_provider(
        content_type,
        [this, call, pending, text_out, used](size_t, httplib::DataSink& sink) {
          if (!pending->empty()) {
            const bool ok = sink.write(pending->data(), pending->size());
            pending->clear();
            if (!ok) {
              call->context().TryCancel();  // the browser went away: cancel the call at once
              return false;
            }
            return true;
          }
          for (;;) {
            ProxyCall::Event e = call->Next(std::chrono::milliseconds(250));
            if (e.kind == ProxyCall::Event::kMessage) {
              const std::string frame = DataFrame(e.message, text_out);
              if (!sink.write(frame.data(), frame.size())) {
                call->context().TryCancel();
                return false;
              }
              return true;
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
            if (!sink.is_writable()) {  // nothing to send, and the browser is gone
              call->context().TryCancel();
              return false;
            }
          }
        },
        [this, call](bool) {
          // The response is over (sent, or the connection lost): the call ends with it.
          call->context().TryCancel();
          call->WaitDone(std::chrono::seconds(10));
          Unregister(call.get());
        });
  }

  void Unregister(ProxyCall* call) {
    std::lock_guard<std::mutex> lock(calls_mu_);
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

  std::mutex channel_mu_;
  std::shared_ptr<grpc::Channel> channel_;
  std::mutex calls_mu_;
  std::set<ProxyCall*> calls_;
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
