// eprof-web with real processes: the power helper replaying a trace, eprofd on a tiny checkpoint,
// eprof-web, and a gRPC-web client over real HTTP (cpp-httplib's client, reading the body as it
// arrives, frame by frame): unary and streaming calls in binary and text mode, errors before the
// first message (trailers-only), bad requests, the token, Host and Origin checks, a client that
// goes away mid-stream, eprofd restarted under a running gateway, and twenty streams at once.
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "eprof/v1/profiler.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/daemon_harness.h"
#include "web_gateway/grpc_web.h"

namespace eprof {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::DaemonHarness;
using testing::Subprocess;
using web::WebFrameReader;

constexpr char kToken[] = "0123456789abcdef0123456789abcdef";
constexpr char kService[] = "/eprof.v1.ProfilerService/";

struct WebReply {
  int http_status = 0;
  httplib::Error error = httplib::Error::Success;
  httplib::Headers headers;
  std::vector<std::string> messages;
  std::multimap<std::string, std::string> trailers;
  bool have_trailer = false;
  std::string raw;
  // The gRPC status: the trailer frame's, or the headers' for a trailers-only reply.
  int grpc_status() const {
    auto it = trailers.find("grpc-status");
    if (it != trailers.end()) return std::stoi(it->second);
    auto h = headers.find("grpc-status");
    return h != headers.end() ? std::stoi(h->second) : -1;
  }
  std::string grpc_message() const {
    auto it = trailers.find("grpc-message");
    if (it != trailers.end()) return it->second;
    auto h = headers.find("grpc-message");
    return h != headers.end() ? h->second : "";
  }
};

class GatewayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.Prepare());
    ASSERT_TRUE(h_.StartHelper());
    ASSERT_TRUE(h_.StartDaemon());
    port_ = h_.StartWeb(kToken);
    ASSERT_NE(port_, 0) << "eprof-web printed no URL";
  }
  void TearDown() override { h_.Stop(/*keep=*/HasFailure()); }

  httplib::Headers Auth() const { return {{"x-eprof-token", kToken}}; }

  // A gRPC-web call: POST `method` with `request`, reading the reply as it arrives.
  // `stop_after` > 0: the client goes away after that many messages.
  WebReply Call(const std::string& method, const google::protobuf::Message& request, bool text = false,
                httplib::Headers headers = {}, int stop_after = 0, const std::string& host = "") {
    if (headers.empty()) headers = Auth();
    std::string frame(5, '\0');
    const std::string bytes = request.SerializeAsString();
    for (int i = 0; i < 4; ++i) frame[1 + i] = static_cast<char>((bytes.size() >> (24 - 8 * i)) & 0xff);
    frame += bytes;
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60, 0);
    httplib::Request req;
    req.method = "POST";
    req.path = kService + method;
    req.headers = headers;
    req.headers.emplace("Content-Type", text ? "application/grpc-web-text" : "application/grpc-web+proto");
    if (!host.empty()) req.headers.emplace("Host", host);
    req.body = text ? web::Base64Encode(frame) : frame;
    WebReply reply;
    WebFrameReader reader(text);
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      reply.raw.append(data, n);
      EXPECT_TRUE(reader.Feed(absl::string_view(data, n)).ok());
      WebFrameReader::Frame f;
      while (reader.Next(&f)) {
        if (f.trailer) {
          reply.have_trailer = true;
          reply.trailers = web::ParseTrailers(f.payload);
        } else {
          reply.messages.push_back(f.payload);
        }
      }
      return stop_after == 0 || static_cast<int>(reply.messages.size()) < stop_after;
    };
    httplib::Response res;
    httplib::Error error;
    client.send(req, res, error);
    reply.error = error;
    reply.http_status = res.status;
    reply.headers = res.headers;
    return reply;
  }

  v1::ProfileRequest Request(uint32_t tokens, uint32_t idle_ms = 100) {
    v1::ProfileRequest r;
    r.set_model("tiny");
    r.set_prompt("Where does the energy go?");
    r.set_max_new_tokens(tokens);
    r.set_idle_baseline_ms(idle_ms);
    r.set_power_interval_ms(10);
    return r;
  }

  DaemonHarness h_;
  int port_ = 0;
};

TEST_F(GatewayTest, UnaryCallInBinaryAndTextMode) {
  for (bool text : {false, true}) {
    WebReply r = Call("GetStatus", v1::GetStatusRequest(), text);
    EXPECT_EQ(r.http_status, 200);
    EXPECT_EQ(r.headers.find("Content-Type")->second,
              text ? "application/grpc-web-text+proto" : "application/grpc-web+proto");
    ASSERT_EQ(r.messages.size(), 1u) << r.raw;
    ASSERT_TRUE(r.have_trailer);
    EXPECT_EQ(r.grpc_status(), 0);
    v1::GetStatusResponse status;
    ASSERT_TRUE(status.ParseFromString(r.messages[0]));
    EXPECT_EQ(status.pid(), static_cast<uint32_t>(h_.daemon()->pid()));
  }
}

TEST_F(GatewayTest, ProfileStreamsEveryEventAndTheRunIsStored) {
  WebReply r = Call("Profile", Request(8));
  EXPECT_EQ(r.http_status, 200);
  EXPECT_EQ(r.grpc_status(), 0) << r.grpc_message();
  ASSERT_GE(r.messages.size(), 10u);
  v1::ProfileEvent first, last;
  ASSERT_TRUE(first.ParseFromString(r.messages.front()));
  ASSERT_TRUE(last.ParseFromString(r.messages.back()));
  EXPECT_TRUE(first.has_run_started());
  ASSERT_TRUE(last.has_summary());
  EXPECT_EQ(last.summary().status(), v1::RUN_STATUS_COMPLETED);
  int tokens = 0;
  for (const std::string& m : r.messages) {
    v1::ProfileEvent e;
    ASSERT_TRUE(e.ParseFromString(m));
    tokens += e.has_token();
  }
  EXPECT_EQ(tokens, 8);
  v1::GetRunRequest get;
  get.set_run_id(last.run_id());
  WebReply stored = Call("GetRun", get);
  ASSERT_EQ(stored.messages.size(), 1u);
  v1::GetRunResponse run;
  ASSERT_TRUE(run.ParseFromString(stored.messages[0]));
  EXPECT_EQ(run.tokens_size(), 8);
}

// An error before any message is a trailers-only reply: status in the headers, empty body.
TEST_F(GatewayTest, AnErrorBeforeAnyMessageIsTrailersOnly) {
  v1::ProfileRequest bad = Request(8);
  bad.set_model("nope");
  WebReply r = Call("Profile", bad);
  EXPECT_EQ(r.http_status, 200);
  EXPECT_TRUE(r.raw.empty()) << r.raw;
  EXPECT_EQ(r.headers.find("grpc-status")->second, "5");  // NOT_FOUND
  EXPECT_THAT(r.grpc_message(), HasSubstr("no model"));
  WebReply unknown = Call("NoSuchMethod", v1::GetStatusRequest());
  EXPECT_EQ(unknown.grpc_status(), 12);  // UNIMPLEMENTED
}

TEST_F(GatewayTest, BadRequestsGetTheirHttpStatus) {
  httplib::Client client("127.0.0.1", port_);
  httplib::Headers auth = Auth();
  auto json = client.Post("/eprof.v1.ProfilerService/GetStatus", auth, std::string(5, '\0'),
                          "application/grpc-web+json");
  ASSERT_TRUE(json);
  EXPECT_EQ(json->status, 415);
  auto base64 = client.Post("/eprof.v1.ProfilerService/GetStatus", auth, "not base64!!",
                            "application/grpc-web-text");
  ASSERT_TRUE(base64);
  EXPECT_EQ(base64->status, 400);
  auto framing = client.Post("/eprof.v1.ProfilerService/GetStatus", auth, std::string(3, '\0'),
                             "application/grpc-web");
  ASSERT_TRUE(framing);
  EXPECT_EQ(framing->status, 400);
  auto big = client.Post("/eprof.v1.ProfilerService/GetStatus", auth, std::string(2 << 20, '\0'),
                         "application/grpc-web");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  auto get = client.Get("/eprof.v1.ProfilerService/GetStatus", auth);
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
}

TEST_F(GatewayTest, OnlyTheTokenHolderOnTheGatewaysOwnHostAndOriginGetsIn) {
  httplib::Client client("127.0.0.1", port_);
  auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 401);
  WebReply no_token = Call("GetStatus", v1::GetStatusRequest(), false, {{"x-other", "1"}});
  EXPECT_EQ(no_token.http_status, 401);
  EXPECT_TRUE(no_token.messages.empty());
  // The printed URL: its token becomes an HttpOnly, SameSite=Strict cookie.
  auto login = client.Get(absl::StrCat("/?token=", kToken));
  ASSERT_TRUE(login);
  EXPECT_EQ(login->status, 303);
  const std::string cookie = login->get_header_value("Set-Cookie");
  EXPECT_THAT(cookie, HasSubstr("HttpOnly"));
  EXPECT_THAT(cookie, HasSubstr("SameSite=Strict"));
  auto with_cookie = client.Get("/", {{"Cookie", cookie.substr(0, cookie.find(';'))}});
  ASSERT_TRUE(with_cookie);
  EXPECT_EQ(with_cookie->status, 200);
  EXPECT_THAT(with_cookie->body, HasSubstr("eprof.v1.ProfilerService/GetStatus"));
  auto wrong = client.Get("/?token=ffffffffffffffffffffffffffffffff");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  // DNS rebinding: the right token under a foreign name is refused.
  WebReply rebound = Call("GetStatus", v1::GetStatusRequest(), false, Auth(), 0, "evil.example:80");
  EXPECT_EQ(rebound.http_status, 403);
  httplib::Headers foreign = Auth();
  foreign.emplace("Origin", "http://evil.example");
  WebReply cross = Call("GetStatus", v1::GetStatusRequest(), false, foreign);
  EXPECT_EQ(cross.http_status, 403);
  httplib::Headers own = Auth();
  own.emplace("Origin", absl::StrCat("http://127.0.0.1:", port_));
  EXPECT_EQ(Call("GetStatus", v1::GetStatusRequest(), false, own).grpc_status(), 0);
  // Files outside the dashboard are never served.
  auto escape = client.Get("/../../etc/passwd", Auth());
  ASSERT_TRUE(escape);
  EXPECT_EQ(escape->status, 404);
}

// A browser that goes away cancels its call at once: the run is stored as cancelled.
TEST_F(GatewayTest, AClientThatGoesAwayCancelsItsRun) {
  WebReply r = Call("Profile", Request(50, /*idle_ms=*/3000), false, {}, /*stop_after=*/1);
  ASSERT_GE(r.messages.size(), 1u);
  v1::ProfileEvent started;
  ASSERT_TRUE(started.ParseFromString(r.messages[0]));
  const std::string id = started.run_id();
  v1::GetRunRequest get;
  get.set_run_id(id);
  v1::RunStatus status = v1::RUN_STATUS_RUNNING;
  for (int i = 0; i < 100 && status == v1::RUN_STATUS_RUNNING; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    WebReply stored = Call("GetRun", get);
    v1::GetRunResponse run;
    if (stored.messages.size() == 1 && run.ParseFromString(stored.messages[0])) {
      status = run.summary().status();
    }
  }
  EXPECT_EQ(status, v1::RUN_STATUS_CANCELLED);
}

// eprofd away: UNAVAILABLE saying how to start it; back: the gateway serves again by itself.
TEST_F(GatewayTest, EprofdRestartedUnderARunningGateway) {
  ASSERT_EQ(Call("GetStatus", v1::GetStatusRequest()).grpc_status(), 0);
  h_.ResetDaemon();
  WebReply away = Call("GetStatus", v1::GetStatusRequest());
  EXPECT_EQ(away.http_status, 200);
  EXPECT_EQ(away.grpc_status(), 14);  // UNAVAILABLE
  EXPECT_THAT(away.grpc_message(), HasSubstr("start it with"));
  ASSERT_TRUE(h_.StartDaemon());
  int status = -1;
  for (int i = 0; i < 40 && status != 0; ++i) {
    status = Call("GetStatus", v1::GetStatusRequest()).grpc_status();
    if (status != 0) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(status, 0);
}

TEST_F(GatewayTest, TwentyStreamsAtOnce) {
  std::vector<std::thread> threads;
  std::vector<WebReply> replies(20);
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      v1::StreamPowerRequest req;
      req.set_interval_ms(10);
      replies[i] = Call("StreamPower", req, false, {}, /*stop_after=*/5);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 20; ++i) {
    EXPECT_GE(replies[i].messages.size(), 5u)
        << "stream " << i << ": " << httplib::to_string(replies[i].error) << ", HTTP "
        << replies[i].http_status << ", grpc-status "
        << replies[i].grpc_status() << " " << replies[i].grpc_message() << ", "
        << replies[i].raw.size() << " bytes";
  }
  EXPECT_EQ(Call("GetStatus", v1::GetStatusRequest()).grpc_status(), 0) << "still serving";
}

// grpc-timeout is the call's deadline: a Profile that cannot finish in 300 ms ends with
// DEADLINE_EXCEEDED (and eprofd cancels the run).
TEST_F(GatewayTest, GrpcTimeoutBecomesTheDeadline) {
  httplib::Headers headers = Auth();
  headers.emplace("grpc-timeout", "300m");
  const absl::Time t0 = absl::Now();
  WebReply r = Call("Profile", Request(50, /*idle_ms=*/3000), false, headers);
  EXPECT_LT(absl::Now() - t0, absl::Seconds(2));
  EXPECT_EQ(r.grpc_status(), 4) << r.grpc_message();  // DEADLINE_EXCEEDED
}

// Only files inside the dashboard directory are served: not through "..", not through a link.
TEST(GatewayFilesTest, OnlyFilesInsideTheDashboardAreServed) {
  DaemonHarness h;
  ASSERT_TRUE(h.Prepare());
  const fs::path ui = h.dir() / "ui";
  fs::create_directories(ui / "assets");
  std::ofstream(ui / "index.html") << "<!doctype html><title>dashboard</title>";
  std::ofstream(ui / "assets" / "app.js") << "console.log(1)";
  std::ofstream(h.dir() / "secret.txt") << "secret";
  fs::create_symlink(h.dir() / "secret.txt", ui / "leak.txt");
  const int port = h.StartWeb(kToken, {"--dashboard-dir", ui.string()});
  ASSERT_NE(port, 0);
  httplib::Client client("127.0.0.1", port);
  const httplib::Headers auth = {{"x-eprof-token", kToken}};
  auto index = client.Get("/", auth);
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_THAT(index->body, HasSubstr("dashboard"));
  // Nothing from elsewhere, and no framing by other sites.
  EXPECT_THAT(index->get_header_value("Content-Security-Policy"),
              HasSubstr("default-src 'self'; script-src 'self'"));
  EXPECT_THAT(index->get_header_value("Content-Security-Policy"),
              HasSubstr("frame-ancestors 'none'"));
  EXPECT_EQ(index->get_header_value("X-Frame-Options"), "DENY");
  auto js = client.Get("/assets/app.js", auth);
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_THAT(js->get_header_value("Content-Type"), HasSubstr("text/javascript"));
  // Files go out as they are on disk, never compressed per request (httplib would brotli-compress
  // a body at its slowest quality on every load of the page).
  auto br = client.Get("/assets/app.js", {{"x-eprof-token", kToken}, {"Accept-Encoding", "br, gzip"}});
  ASSERT_TRUE(br);
  EXPECT_EQ(br->status, 200);
  EXPECT_EQ(br->get_header_value("Content-Encoding"), "");
  EXPECT_EQ(br->body, "console.log(1)");
  for (const char* bad : {"/leak.txt", "/../secret.txt", "/assets/../../secret.txt", "/missing.js"}) {
    auto r = client.Get(bad, auth);
    ASSERT_TRUE(r) << bad;
    EXPECT_EQ(r->status, 404) << bad;
    EXPECT_THAT(r->body, ::testing::Not(HasSubstr("secret"))) << bad;
  }
  h.Stop(/*keep=*/false);
}

// SIGTERM ends the streams in progress (each with its trailer) and exits.
TEST_F(GatewayTest, SigtermEndsOpenStreamsAndExits) {
  WebReply reply;
  std::thread client([&] {
    v1::StreamPowerRequest req;
    req.set_interval_ms(10);
    reply = Call("StreamPower", req);  // until the gateway ends it
  });
  absl::SleepFor(absl::Milliseconds(500));
  const absl::Time t0 = absl::Now();
  ::kill(h_.web()->pid(), SIGTERM);
  const int status = h_.web()->Wait();
  client.join();
  EXPECT_LT(absl::Now() - t0, absl::Seconds(5));
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_GE(reply.messages.size(), 1u);
  EXPECT_TRUE(reply.have_trailer) << "the stream ends with its trailer, not a cut connection";
  EXPECT_EQ(reply.grpc_status(), 1);  // CANCELLED
}

TEST(EprofWebHelp, EveryFlagIsDescribedAndBadValuesAreRefused) {
  const std::string out = (fs::temp_directory_path() / absl::StrCat("eprof-web-help-", getpid())).string();
  ASSERT_EQ(std::system(absl::StrCat(DaemonHarness::Bin("eprof-web"), " --help > ", out, " 2>&1").c_str()) >> 8, 1);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  for (const char* flag : {"--socket", "--listen_address", "--port", "--dashboard_dir", "--token_file",
                           "--allow_origin", "--max_body_kib", "--log_level"}) {
    EXPECT_THAT(text.str(), HasSubstr(flag));
  }
  EXPECT_EQ(std::system(absl::StrCat(DaemonHarness::Bin("eprof-web"), " --port 70000 > ", out, " 2>&1").c_str()) >> 8, 2);
  std::ifstream bad(out);
  std::stringstream bad_text;
  bad_text << bad.rdbuf();
  EXPECT_THAT(bad_text.str(), HasSubstr("--port 70000 is outside 0-65535"));
  fs::remove(out);
}

}  // namespace
}  // namespace eprof
