// eprofctl against a real eprofd (power helper replaying a known-power trace, a tiny checkpoint):
// every command, JSON outputs checked field by field, exit codes, SIGINT during profile.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/daemon_harness.h"

namespace eprof {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

struct CliResult {
  int rc = -1;
  std::string out;
  std::string err;
};

class EprofctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(h_.Prepare());
    ASSERT_TRUE(h_.StartHelper());
    ASSERT_TRUE(h_.StartDaemon());
  }
  void TearDown() override { h_.Stop(/*keep=*/HasFailure()); }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }

  // Runs `eprofctl --socket <daemon> ARGS` (stdout is not a terminal, so no live view).
  CliResult Cli(const std::string& args, bool with_socket = true) {
    std::string out = (h_.dir() / "cli.out").string();
    std::string err = (h_.dir() / "cli.err").string();
    std::string cmd = absl::StrCat(testing::DaemonHarness::Bin("eprofctl"),
                                   with_socket ? absl::StrCat(" --socket ", h_.socket()) : "", " ",
                                   args, " > ", out, " 2> ", err, " < /dev/null");
    int status = std::system(cmd.c_str());
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, Slurp(out), Slurp(err)};
  }

  json Json(const CliResult& r) {
    json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out.substr(0, 300) << "\nstderr: " << r.err;
    return j;
  }

  // A completed run; returns its id.
  std::string ProfileRun(const std::string& extra = "") {
    CliResult r = Cli("profile -m tiny -p 'Where does the energy go?' -n 8 --detail layers "
                      "--idle-baseline-ms 100 --interval-ms 10 --json " + extra);
    EXPECT_EQ(r.rc, 0) << r.err;
    json j = Json(r);
    return j.value("runId", "");
  }

  // The id of the run eprofd reports in progress, waiting up to 5 s for one; "" if none came.
  std::string CurrentRunId() {
    for (int i = 0; i < 100; ++i) {
      json status = Json(Cli("status --json"));
      if (status.contains("currentRun")) return status["currentRun"].value("runId", "");
      absl::SleepFor(absl::Milliseconds(50));
    }
    return "";
  }

  testing::DaemonHarness h_;
};

TEST_F(EprofctlTest, EveryCommandHasHelp) {
  for (const char* cmd : {"--help", "profile --help", "runs --help", "models --help",
                          "power --help", "status --help"}) {
    CliResult r = Cli(cmd);
    EXPECT_EQ(r.rc, 0) << cmd;
    EXPECT_THAT(r.out, HasSubstr("Usage: eprofctl")) << cmd;
  }
  CliResult none = Cli("");
  EXPECT_EQ(none.rc, 2);
  CliResult unknown = Cli("frobnicate");
  EXPECT_EQ(unknown.rc, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command 'frobnicate'"));
  CliResult bad_flag = Cli("profile --bogus");
  EXPECT_EQ(bad_flag.rc, 2);
  EXPECT_THAT(bad_flag.err, HasSubstr("unknown option --bogus"));
}

TEST_F(EprofctlTest, UnreachableDaemonSaysHowToStartIt) {
  CliResult r = Cli("--socket /tmp/eprof-nowhere.sock status", /*with_socket=*/false);
  EXPECT_EQ(r.rc, 3);
  EXPECT_THAT(r.err, HasSubstr("cannot reach eprofd at /tmp/eprof-nowhere.sock"));
  EXPECT_THAT(r.err, HasSubstr("start it with `eprofd`"));
  // EPROF_SOCKET is honoured too.
  std::string cmd = absl::StrCat("EPROF_SOCKET=", h_.socket(), " ", testing::DaemonHarness::Bin("eprofctl"),
                                 " status --json > /dev/null 2>&1");
  EXPECT_EQ(WEXITSTATUS(std::system(cmd.c_str())), 0);
}

TEST_F(EprofctlTest, StatusAndModelsAsJson) {
  json status = Json(Cli("status --json"));
  EXPECT_EQ(status["power"]["connected"], true);
  EXPECT_EQ(status["power"]["source"], "replay");
  EXPECT_EQ(status["power"]["channels"][0]["name"], "cpu");
  EXPECT_EQ(status["maxNewTokensCap"], 4096);
  EXPECT_EQ(status["maxQueuedRuns"], 4);  // eprofd's default --max-queued
  EXPECT_EQ(status["databasePath"], (h_.dir() / "eprof.db").string());
  json models = Json(Cli("models --json"));
  ASSERT_EQ(models["models"].size(), 1u);
  EXPECT_EQ(models["models"][0]["name"], "tiny");
  EXPECT_EQ(models["models"][0]["family"], "llama");
  EXPECT_EQ(models["models"][0]["hasTokenizer"], true);
  CliResult table = Cli("models");
  EXPECT_EQ(table.rc, 0);
  EXPECT_THAT(table.out, HasSubstr("tiny"));
  CliResult human = Cli("status");
  EXPECT_THAT(human.out, HasSubstr("source replay"));
}

TEST_F(EprofctlTest, ProfileJsonSummaryFieldByField) {
  CliResult r = Cli("profile -m tiny -p 'Where does the energy go?' -n 8 --detail layers "
                    "--idle-baseline-ms 100 --interval-ms 10 --seed 7 --tag t1 --tag t2 "
                    "--experiment e1 --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  json s = Json(r);
  EXPECT_EQ(s["status"], "RUN_STATUS_COMPLETED");
  EXPECT_EQ(s["stopReason"], "max_new_tokens");
  EXPECT_EQ(s["outputTokens"], 8);
  EXPECT_GT(s["inputTokens"].get<int>(), 3);
  EXPECT_EQ(s["detail"], "DETAIL_LEVEL_LAYERS");
  EXPECT_EQ(s["tags"], json::array({"t1", "t2"}));
  EXPECT_EQ(s["experiment"], "e1");
  EXPECT_EQ(s["request"]["sampling"]["seed"], "7");  // uint64 is a string in proto3 JSON
  EXPECT_EQ(s["powerSource"], "replay");
  EXPECT_GT(s["totalEnergy"]["totalMj"].get<double>(), 0);
  EXPECT_EQ(s["totalEnergy"]["quality"], "QUALITY_MEASURED");
  EXPECT_GT(s["decodeTokensPerS"].get<double>(), 0);
  EXPECT_GT(s["joulesPerToken"].get<double>(), 0);
  EXPECT_NEAR(s["tokensPerJoule"].get<double>() * s["joulesPerToken"].get<double>(), 1.0, 1e-9);
  EXPECT_GT(s["decodeEnergyPerOutputToken"]["totalMj"].get<double>(), 0);
  EXPECT_GT(s["baselinePowerMw"].get<double>(), 1999);  // the trace is 2.0–3.9 W
  EXPECT_LT(s["baselinePowerMw"].get<double>(), 3901);
}

TEST_F(EprofctlTest, ProfileHumanSummaryAndEvents) {
  CliResult human = Cli("profile -m tiny -p 'Hello' -n 6 --detail components --idle-baseline-ms 100");
  ASSERT_EQ(human.rc, 0) << human.err;
  for (const char* part : {"prefill", "decode", "energy per input token", "energy per output token",
                           "J/token", "tokens/J", "measured", "top layers", "top components"}) {
    EXPECT_THAT(human.out, HasSubstr(part));
  }
  CliResult events = Cli("profile -m tiny -p 'Hello' -n 4 --idle-baseline-ms 50 --events");
  ASSERT_EQ(events.rc, 0) << events.err;
  std::vector<std::string> lines = absl::StrSplit(events.out, '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 6u);
  EXPECT_TRUE(json::parse(lines.front()).contains("runStarted"));
  EXPECT_TRUE(json::parse(lines.back()).contains("summary"));
  int tokens = 0;
  for (const std::string& l : lines) tokens += json::parse(l).contains("token");
  EXPECT_EQ(tokens, 4);
}

TEST_F(EprofctlTest, BadRequestsHaveDistinctExitCodes) {
  CliResult unknown = Cli("profile -m nope -p hi");
  EXPECT_EQ(unknown.rc, 4);
  EXPECT_THAT(unknown.err, HasSubstr("no model 'nope'"));
  CliResult empty = Cli("profile -m tiny -p ''");
  EXPECT_EQ(empty.rc, 5);
  EXPECT_THAT(empty.err, HasSubstr("rejected by eprofd: the prompt is empty"));
  CliResult usage = Cli("profile -m tiny");
  EXPECT_EQ(usage.rc, 2);
  CliResult detail = Cli("profile -m tiny -p hi --detail everything");
  EXPECT_EQ(detail.rc, 2);
  EXPECT_THAT(detail.err, HasSubstr("unknown detail level 'everything'"));
  CliResult missing_run = Cli("runs show 0123456789abcdef");
  EXPECT_EQ(missing_run.rc, 4);
}

TEST_F(EprofctlTest, RunsListShowCompareExportRemove) {
  std::string a = ProfileRun("--tag x");
  std::string b = ProfileRun();
  ASSERT_FALSE(a.empty());
  ASSERT_FALSE(b.empty());
  json list = Json(Cli("runs list --json"));
  EXPECT_EQ(list["totalCount"], 2);
  EXPECT_EQ(list["runs"][0]["runId"], b);  // newest first
  json tagged = Json(Cli("runs list --tag x --json"));
  ASSERT_EQ(tagged["runs"].size(), 1u);
  EXPECT_EQ(tagged["runs"][0]["runId"], a);
  CliResult table = Cli("runs list");
  EXPECT_THAT(table.out, HasSubstr(a));

  json shown = Json(Cli("runs show " + a + " --json"));
  EXPECT_EQ(shown["summary"]["runId"], a);
  EXPECT_EQ(shown["tokens"].size(), 8u);
  EXPECT_EQ(shown["tokens"][3]["layers"].size(), 3u);  // 2 layers + outside
  CliResult show = Cli("runs show " + a);
  EXPECT_THAT(show.out, HasSubstr("idle_baseline"));
  EXPECT_THAT(show.out, HasSubstr("energy per decode token"));

  json cmp = Json(Cli("runs compare " + a + " " + b + " --json"));
  EXPECT_EQ(cmp["runs"].size(), 2u);
  bool found = false;
  for (const json& m : cmp["metrics"]) {
    if (m["name"] == "joules_per_token") {
      found = true;
      EXPECT_EQ(m["values"].size(), 2u);
      EXPECT_EQ(m["lowerIsBetter"], true);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_THAT(Cli("runs compare " + a + " " + b).out, HasSubstr("joules_per_token"));
  EXPECT_EQ(Cli("runs compare " + a).rc, 2);

  std::string csv = (h_.dir() / "run.csv").string();
  CliResult exported = Cli("runs export " + a + " --format csv -o " + csv);
  EXPECT_EQ(exported.rc, 0) << exported.err;
  std::string text = Slurp(csv);
  EXPECT_THAT(text, HasSubstr("# table: summary"));
  EXPECT_THAT(text, HasSubstr(absl::StrCat("run_id,", a)));
  json exported_json = Json(Cli("runs export " + a + " --format json"));
  EXPECT_EQ(exported_json["summary"]["runId"], a);

  CliResult rm = Cli("runs rm " + a);
  EXPECT_EQ(rm.rc, 0);
  EXPECT_THAT(rm.out, HasSubstr("deleted " + a));
  EXPECT_EQ(Cli("runs show " + a).rc, 4);
  EXPECT_EQ(Cli("runs rm " + a).rc, 4);
}

TEST_F(EprofctlTest, PowerStreamsSamples) {
  CliResult r = Cli("power --samples 3 --interval-ms 20 --json");
  ASSERT_EQ(r.rc, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u);
  for (const std::string& l : lines) {
    json s = json::parse(l);
    EXPECT_GE(std::stoll(s["windowNs"].get<std::string>()), 20'000'000);
    EXPECT_EQ(s["readings"][0]["channel"], "cpu");
  }
  CliResult human = Cli("power --samples 2 --interval-ms 20");
  EXPECT_THAT(human.out, HasSubstr("cpu"));
  EXPECT_THAT(human.out, HasSubstr(" W"));
}

// A profile that has to wait for another run says so at once (on stderr, so --json stays
// parseable): which run it waits behind, then runs when its turn comes.
TEST_F(EprofctlTest, ProfileBehindAnotherRunSaysItWaits) {
  std::string log = (h_.dir() / "first.log").string();
  testing::Subprocess first({testing::DaemonHarness::Bin("eprofctl"), "--socket", h_.socket(),
                             "profile", "-m", "tiny", "-p", "hello", "-n", "8",
                             "--idle-baseline-ms", "3000", "--json"},
                            log);
  std::string first_id = CurrentRunId();
  ASSERT_FALSE(first_id.empty()) << "the first run never showed in eprofctl status";
  CliResult second = Cli("profile -m tiny -p 'Where does the energy go?' -n 4 "
                         "--idle-baseline-ms 50 --json");
  ASSERT_EQ(second.rc, 0) << second.err;
  EXPECT_THAT(second.err, HasSubstr("eprofctl: eprofd is busy with run " + first_id + " (tiny, "));
  EXPECT_THAT(second.err, HasSubstr(" of 8 tokens); this run waits its turn in the queue "
                                    "(Ctrl-C gives up)\n"));
  EXPECT_THAT(second.err, ::testing::Not(HasSubstr("more waiting")));  // none was queued
  EXPECT_EQ(Json(second)["status"], "RUN_STATUS_COMPLETED");
  int status = first.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << Slurp(log);
  // Alone, it says nothing of the kind.
  CliResult alone = Cli("profile -m tiny -p 'hi' -n 2 --idle-baseline-ms 50 --json");
  ASSERT_EQ(alone.rc, 0) << alone.err;
  EXPECT_THAT(alone.err, ::testing::Not(HasSubstr("busy")));
}

// With no room in the queue (--max-queued 0) it does not promise a wait: eprofd's refusal is what
// the user reads, with its reason, and the run in progress goes on untouched.
TEST_F(EprofctlTest, ProfileWithTheQueueFullIsRefusedWithoutPromisingAWait) {
  h_.ResetDaemon();
  ASSERT_TRUE(h_.StartDaemon(0, {"--max-queued", "0"}));
  std::string log = (h_.dir() / "first.log").string();
  testing::Subprocess first({testing::DaemonHarness::Bin("eprofctl"), "--socket", h_.socket(),
                             "profile", "-m", "tiny", "-p", "hello", "-n", "8",
                             "--idle-baseline-ms", "3000", "--json"},
                            log);
  ASSERT_FALSE(CurrentRunId().empty()) << "the first run never showed in eprofctl status";
  CliResult second = Cli("profile -m tiny -p 'hi' -n 2 --json");
  EXPECT_EQ(second.rc, 5) << second.err;  // kExitRejected
  EXPECT_THAT(second.err, HasSubstr("profile rejected by eprofd: eprofd is busy: 1 runs are "
                                    "running or waiting and the queue holds at most 0; try again "
                                    "when one has finished"));
  EXPECT_THAT(second.err, ::testing::Not(HasSubstr("waits its turn")));
  int status = first.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << Slurp(log);
  json list = Json(Cli("runs list --json"));
  ASSERT_EQ(list["runs"].size(), 1u);
  EXPECT_EQ(list["runs"][0]["status"], "RUN_STATUS_COMPLETED");
}

// --keep-running promises the run goes on when eprofctl is interrupted; before, Ctrl-C
// cancelled it anyway.
TEST_F(EprofctlTest, CtrlCWithKeepRunningLeavesTheRunGoing) {
  std::string log = (h_.dir() / "keep.log").string();
  testing::Subprocess cli({testing::DaemonHarness::Bin("eprofctl"), "--socket", h_.socket(), "profile",
                           "-m", "tiny", "-p", "hello", "-n", "20", "--idle-baseline-ms", "2000",
                           "--keep-running", "--json"},
                          log);
  std::string id = CurrentRunId();
  ASSERT_FALSE(id.empty());
  ::kill(cli.pid(), SIGINT);
  int status = cli.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << Slurp(log);
  EXPECT_THAT(Slurp(log), HasSubstr("the run goes on in eprofd (--keep-running)"));
  EXPECT_THAT(Slurp(log), HasSubstr("eprofctl runs show " + id));
  for (int i = 0; i < 100 && !CurrentRunId().empty(); ++i) absl::SleepFor(absl::Milliseconds(50));
  json shown = Json(Cli("runs show " + id + " --json"));
  EXPECT_EQ(shown["summary"]["status"], "RUN_STATUS_COMPLETED");
  EXPECT_EQ(shown["summary"]["outputTokens"], 20);
}

// Run ids are long: any unique start of one will do, as in git.
TEST_F(EprofctlTest, RunIdsMayBeShortenedToAUniquePrefix) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) ids.push_back(ProfileRun());
  std::string id = ids[0];
  // The shortest prefix of ids[0] that no other id shares.
  size_t n = 1;
  while (ids[1].compare(0, n, id, 0, n) == 0 || ids[2].compare(0, n, id, 0, n) == 0) ++n;
  std::string shortest = id.substr(0, std::max<size_t>(n, 4));
  json shown = Json(Cli("runs show " + shortest + " --json"));
  EXPECT_EQ(shown["summary"]["runId"], id);
  EXPECT_EQ(Cli("runs export " + shortest + " --format json").rc, 0);
  CliResult nothing = Cli("runs show ffffffffffff0");
  EXPECT_EQ(nothing.rc, 4);
  EXPECT_THAT(nothing.err, HasSubstr("no run id starts with 'ffffffffffff0'"));
  CliResult not_hex = Cli("runs show zz");
  EXPECT_EQ(not_hex.rc, 2);
  // An empty-ish prefix shared by several runs: ambiguous, and the matches are listed.
  std::string common;
  for (char c = '0'; c <= 'f'; c = c == '9' ? 'a' : c + 1) {
    int count = 0;
    for (const std::string& i : ids) count += i[0] == c;
    if (count >= 2) common = std::string(1, c);
  }
  if (!common.empty()) {
    CliResult ambiguous = Cli("runs show " + common);
    EXPECT_EQ(ambiguous.rc, 2);
    EXPECT_THAT(ambiguous.err, HasSubstr("is ambiguous"));
  }
  CliResult rm = Cli("runs rm " + shortest);
  EXPECT_EQ(rm.rc, 0) << rm.err;
  EXPECT_THAT(rm.out, HasSubstr("deleted " + id));
}

// "Better" and "worse" only where they mean something: not for token counts, baseline power
// or duration.
TEST_F(EprofctlTest, CompareJudgesOnlyWhatHasABetterDirection) {
  std::string a = ProfileRun();
  CliResult longer = Cli("profile -m tiny -p 'Where does the energy go? Tell me more.' -n 12 "
                         "--idle-baseline-ms 100 --interval-ms 10 --json");
  ASSERT_EQ(longer.rc, 0) << longer.err;
  std::string b = Json(longer)["runId"];
  json cmp = Json(Cli("runs compare " + a + " " + b + " --json"));
  for (const json& m : cmp["metrics"]) {
    const std::string name = m["name"];
    bool judged = m.value("judged", false);
    if (name == "input_tokens" || name == "output_tokens" || name == "baseline_power_mw" ||
        name == "duration_s") {
      EXPECT_FALSE(judged) << name;
    } else {
      EXPECT_TRUE(judged) << name;
    }
  }
  CliResult table = Cli("runs compare " + a + " " + b);
  for (absl::string_view line : absl::StrSplit(table.out, '\n')) {
    if (line.rfind("output_tokens", 0) == 0 || line.rfind("input_tokens", 0) == 0 ||
        line.rfind("duration_s", 0) == 0) {
      EXPECT_THAT(line, ::testing::Not(HasSubstr("better"))) << line;
      EXPECT_THAT(line, ::testing::Not(HasSubstr("worse"))) << line;
    }
  }
}

// Prompts are checked before they are sent: over the stated limit, or not UTF-8 (which used to
// arrive as "no ProfileRequest was received"). A list of runs with long prompts still fits one
// message (it used to exceed gRPC's limit even at --limit 2).
TEST_F(EprofctlTest, PromptsAreCheckedAndListsOfLongPromptsStillWork) {
  std::string big = (h_.dir() / "big.txt").string();
  { std::ofstream(big) << std::string((1 << 20) + 1, 'a'); }
  CliResult too_long = Cli("profile -m tiny --prompt-file " + big);
  EXPECT_EQ(too_long.rc, 2);
  EXPECT_THAT(too_long.err, HasSubstr("the prompt is 1048577 bytes"));
  EXPECT_THAT(too_long.err, HasSubstr("at most 1048576 bytes (1 MiB)"));
  std::string latin1 = (h_.dir() / "latin1.txt").string();
  { std::ofstream(latin1) << "caf\xe9"; }
  CliResult not_utf8 = Cli("profile -m tiny --prompt-file " + latin1);
  EXPECT_EQ(not_utf8.rc, 2);
  EXPECT_THAT(not_utf8.err, HasSubstr("not valid UTF-8 (byte 0xe9 at offset 3)"));

  std::string full = (h_.dir() / "full.txt").string();
  { std::ofstream(full) << std::string(1 << 20, 'b'); }
  for (int i = 0; i < 5; ++i) {
    CliResult r = Cli("profile -m tiny --prompt-file " + full + " -n 1 --idle-baseline-ms 0 --json");
    EXPECT_EQ(r.rc, 5) << r.err;  // far too long for the tiny model's context: stored as failed
  }
  CliResult list = Cli("runs list --limit 5 --json");
  ASSERT_EQ(list.rc, 0) << list.err;
  json j = Json(list);
  ASSERT_EQ(j["runs"].size(), 5u);
  EXPECT_EQ(j["runs"][0]["promptTruncated"], true);
  EXPECT_EQ(j["runs"][0]["promptBytes"], 1 << 20);
}

// "./tiny/", "tiny/." and "tiny" are one model, stored under one name.
TEST_F(EprofctlTest, ModelNamesAreNormalised) {
  for (const char* name : {"./tiny", "tiny/", "tiny/."}) {
    CliResult r = Cli(absl::StrCat("profile -m ", name, " -p hi -n 1 --idle-baseline-ms 0 --json"));
    ASSERT_EQ(r.rc, 0) << r.err;
    EXPECT_EQ(Json(r)["model"]["name"], "tiny") << name;
  }
  EXPECT_EQ(Json(Cli("runs list --model tiny --json"))["totalCount"], 3);
}

// Before, a database made immutable under a running eprofd showed in eprofctl as "cannot reach
// eprofd ... start it" (exit 3), although eprofd was up: the store's I/O error travelled as
// UNAVAILABLE. Now the user reads the database's problem.
TEST_F(EprofctlTest, AnUnwritableDatabaseIsNotMistakenForAnAbsentDaemon) {
  if (geteuid() != 0) GTEST_SKIP() << "chattr +i needs root";
  ASSERT_FALSE(ProfileRun().empty());
  const std::string db = (h_.dir() / "eprof.db").string();
  // The database and its log (not the shared-memory index, which SQLite maps: see the note of
  // issue 17 for what an immutable -shm does).
  const std::string files = absl::StrCat(db, " ", db, "-wal");
  if (std::system(absl::StrCat("chattr +i ", files, " 2>/dev/null").c_str()) != 0) {
    (void)std::system(absl::StrCat("chattr -i ", files, " 2>/dev/null").c_str());
    GTEST_SKIP() << "this file system has no immutable attribute";
  }
  CliResult r = Cli("profile -m tiny -p hi -n 2 --idle-baseline-ms 0");
  (void)std::system(absl::StrCat("chattr -i ", files).c_str());
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.rc, 3) << r.err;
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("cannot reach eprofd")));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("start it with")));
  EXPECT_THAT(r.err, HasSubstr("database"));
  EXPECT_EQ(Cli("status").rc, 0) << "eprofd is still up";
}

TEST_F(EprofctlTest, CtrlCCancelsTheRunCleanly) {
  std::string log = (h_.dir() / "sigint.log").string();
  testing::Subprocess cli({testing::DaemonHarness::Bin("eprofctl"), "--socket", h_.socket(), "profile",
                           "-m", "tiny", "-p", "hello", "-n", "50", "--idle-baseline-ms", "4000",
                           "--json"},
                          log);
  absl::SleepFor(absl::Milliseconds(1200));  // inside the idle baseline
  ::kill(cli.pid(), SIGINT);
  int status = cli.Wait();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  std::string out = Slurp(log);
  EXPECT_THAT(out, HasSubstr("cancelling run"));
  EXPECT_THAT(out, HasSubstr("\"status\": \"RUN_STATUS_CANCELLED\""));
  EXPECT_THAT(out, HasSubstr("what was measured is saved"));
  json list = Json(Cli("runs list --json"));
  ASSERT_EQ(list["runs"].size(), 1u);
  EXPECT_EQ(list["runs"][0]["status"], "RUN_STATUS_CANCELLED");
}

}  // namespace
}  // namespace eprof
