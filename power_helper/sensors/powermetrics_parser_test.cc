// The powermetrics parser against every real capture in shared/fixtures/powermetrics/.
//
// Expected values were computed independently, once, with Python's plistlib (not with this
// parser): split each file on b'\0', plistlib.loads() every non-blank part, count documents, sum
// elapsed_ns, and sum processor.{cpu,gpu,ane}_energy (mJ), gpu.gpu_energy and
// processor.package_joules over the capture (script in the commit message of this test).
#include "power_helper/sensors/powermetrics_parser.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::power {
namespace {

using ::testing::HasSubstr;

std::string Fixture(const std::string& name) {
  const char* shared = std::getenv("EPROF_SHARED_DIR");
  std::string path = absl::StrCat(shared ? shared : "../shared", "/fixtures/powermetrics/", name);
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing fixture " << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Totals {
  size_t documents = 0;
  int64_t elapsed_ns = 0;
  std::map<std::string, double> energy_mj;
  uint64_t skipped = 0;
  std::string no_power_reason;
};

Totals Sum(const std::vector<PowermetricsDocument>& docs) {
  Totals t;
  for (const PowermetricsDocument& d : docs) {
    ++t.documents;
    t.elapsed_ns += d.elapsed_ns;
    for (const Reading& r : d.readings) t.energy_mj[r.channel] += r.energy_mj;
    if (!d.no_power_reason.empty()) t.no_power_reason = d.no_power_reason;
  }
  return t;
}

// Feeds `bytes` in chunks of random size (1..max_chunk) from a fixed seed.
Totals FeedChunked(const std::string& bytes, size_t max_chunk, uint32_t seed) {
  PowermetricsStreamParser parser;
  std::mt19937 rng(seed);
  std::vector<PowermetricsDocument> docs;
  size_t pos = 0;
  int64_t now_ns = 1;
  while (pos < bytes.size()) {
    size_t n = std::uniform_int_distribution<size_t>(1, max_chunk)(rng);
    n = std::min(n, bytes.size() - pos);
    for (auto& d : parser.Feed(absl::string_view(bytes).substr(pos, n), now_ns++)) {
      docs.push_back(std::move(d));
    }
    pos += n;
  }
  parser.Finish();
  Totals t = Sum(docs);
  t.skipped = parser.skipped_documents();
  return t;
}

struct Expected {
  const char* file;
  size_t documents;
  int64_t elapsed_ns;
  std::map<std::string, double> energy_mj;
};

const Expected kExpected[] = {
    {"m1pro-macos14-29samples.plist-stream", 29, 4037661364,
     {{"cpu", 9586}, {"gpu", 790}, {"ane", 0}, {"combined", 10376}}},
    {"m4max-macos26-1sample.plist", 1, 1023685416,
     {{"cpu", 3049}, {"gpu", 276}, {"ane", 0}, {"combined", 3325}}},
    {"m4pro-macos15-gpu-only-1sample.plist", 1, 5005449083, {{"gpu", 9}}},
    {"m4pro-macos15-gpu-only-5samples.plist-stream", 5, 25052688415, {{"gpu", 1186}}},
    {"m4pro-macos15-battery-3samples.plist-stream", 3, 3007465083, {}},
    {"intel-haswell-osx10.9-summary.plist", 1, 4295788088, {{"package", 13046.9}}},
    {"intel-unsupported-osx10.9.plist", 1, 57758028, {}},
    {"vmware-osx10.9.plist", 1, 2791294949, {}},
};

void ExpectTotals(const Totals& got, const Expected& want) {
  EXPECT_EQ(got.documents, want.documents) << want.file;
  EXPECT_EQ(got.elapsed_ns, want.elapsed_ns) << want.file;
  EXPECT_EQ(got.skipped, 0u) << want.file;
  ASSERT_EQ(got.energy_mj.size(), want.energy_mj.size()) << want.file;
  for (const auto& [channel, mj] : want.energy_mj) {
    ASSERT_TRUE(got.energy_mj.count(channel)) << want.file << " " << channel;
    EXPECT_NEAR(got.energy_mj.at(channel), mj, 1e-9) << want.file << " " << channel;
  }
  if (want.energy_mj.empty()) {
    EXPECT_FALSE(got.no_power_reason.empty()) << want.file;
  }
}

TEST(PowermetricsParser, EveryFixtureWhole) {
  for (const Expected& want : kExpected) {
    PowermetricsStreamParser parser;
    Totals got = Sum(parser.Feed(Fixture(want.file), 1));
    parser.Finish();
    got.skipped = parser.skipped_documents();
    ExpectTotals(got, want);
  }
}

TEST(PowermetricsParser, EveryFixtureInRandomChunks) {
  for (const Expected& want : kExpected) {
    const std::string bytes = Fixture(want.file);
    for (uint32_t seed : {1u, 2u, 3u}) {
      ExpectTotals(FeedChunked(bytes, 7, seed), want);
      ExpectTotals(FeedChunked(bytes, 4096, seed), want);
    }
  }
}

TEST(PowermetricsParser, LastDocumentCompleteWithoutTrailingNul) {
  // The stream has 28 NULs for 29 documents: the 29th must be emitted at its </plist>.
  const std::string bytes = Fixture("m1pro-macos14-29samples.plist-stream");
  ASSERT_NE(bytes.back(), '\0');
  PowermetricsStreamParser parser;
  EXPECT_EQ(parser.Feed(bytes, 1).size(), 29u);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
}

TEST(PowermetricsParser, FirstM1ProSampleValues) {
  PowermetricsStreamParser parser;
  auto docs = parser.Feed(Fixture("m1pro-macos14-29samples.plist-stream"), 1);
  ASSERT_FALSE(docs.empty());
  EXPECT_EQ(docs[0].elapsed_ns, 132882041);
  EXPECT_EQ(docs[0].hw_model, "MacBookPro18,3");
}

TEST(PowermetricsParser, M4MaxPowers) {
  auto doc = ParsePowermetricsPlist(Fixture("m4max-macos26-1sample.plist"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  std::map<std::string, double> power;
  for (const Reading& r : doc->readings) power[r.channel] = r.power_mw;
  EXPECT_DOUBLE_EQ(power["cpu"], 2978.45);
  EXPECT_DOUBLE_EQ(power["gpu"], 269.614);
  EXPECT_DOUBLE_EQ(power["combined"], 3248.07);
}

TEST(PowermetricsParser, IntelUnits) {
  auto doc = ParsePowermetricsPlist(Fixture("intel-haswell-osx10.9-summary.plist"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->readings.size(), 1u);
  EXPECT_EQ(doc->readings[0].channel, "package");
  EXPECT_DOUBLE_EQ(doc->readings[0].power_mw, 3037.13);  // package_watts 3.03713 W
}

TEST(PowermetricsParser, GpuOnlyDerivesPowerFromEnergy) {
  auto doc = ParsePowermetricsPlist(Fixture("m4pro-macos15-gpu-only-1sample.plist"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  ASSERT_EQ(doc->readings.size(), 1u);
  EXPECT_DOUBLE_EQ(doc->readings[0].power_mw, 9.0 * 1e9 / 5005449083.0);
}

TEST(PowermetricsParser, NoProcessorSaysWhy) {
  auto doc = ParsePowermetricsPlist(Fixture("intel-unsupported-osx10.9.plist"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_TRUE(doc->readings.empty());
  EXPECT_THAT(doc->no_power_reason, HasSubstr("no processor power"));
}

// Offsets of every document's "<?xml" in a stream.
std::vector<size_t> DocStarts(const std::string& bytes) {
  std::vector<size_t> starts;
  for (size_t p = bytes.find("<?xml"); p != std::string::npos; p = bytes.find("<?xml", p + 1)) {
    starts.push_back(p);
  }
  return starts;
}

// Parses each document of the full capture alone, for the variant tests.
std::vector<PowermetricsDocument> AllDocs(const std::string& bytes) {
  PowermetricsStreamParser parser;
  return parser.Feed(bytes, 1);
}

TEST(PowermetricsParser, TruncatedDocumentInTheMiddleIsSkipped) {
  const std::string bytes = Fixture("m1pro-macos14-29samples.plist-stream");
  const auto full = AllDocs(bytes);
  auto starts = DocStarts(bytes);
  ASSERT_EQ(starts.size(), 29u);
  // Keep only the first half of document 5 (index 4), then the NUL and document 6 onwards.
  size_t cut_from = starts[4] + (starts[5] - starts[4]) / 2;
  std::string variant = bytes.substr(0, cut_from) + bytes.substr(starts[5] - 1);
  for (uint32_t seed : {5u, 6u}) {
    Totals got = FeedChunked(variant, 1000, seed);
    EXPECT_EQ(got.documents, 28u);
    EXPECT_EQ(got.skipped, 1u);
    EXPECT_EQ(got.elapsed_ns, 4037661364 - full[4].elapsed_ns);
    EXPECT_NEAR(got.energy_mj["cpu"], 9586 - full[4].readings[0].energy_mj, 1e-9);
  }
}

TEST(PowermetricsParser, CorruptedDocumentIsSkipped) {
  std::string bytes = Fixture("m1pro-macos14-29samples.plist-stream");
  auto starts = DocStarts(bytes);
  // Break a tag inside document 3 (index 2): "<integer>" → "<intXger>" makes the XML invalid.
  size_t p = bytes.find("<integer>", starts[2]);
  ASSERT_LT(p, starts[3]);
  bytes[p + 4] = 'X';
  Totals got = FeedChunked(bytes, 333, 9);
  EXPECT_EQ(got.documents, 28u);
  EXPECT_EQ(got.skipped, 1u);
}

TEST(PowermetricsParser, GarbageBytesNeverCrash) {
  std::string bytes = Fixture("m4pro-macos15-gpu-only-5samples.plist-stream");
  std::mt19937 rng(42);
  for (int round = 0; round < 20; ++round) {
    std::string variant = bytes;
    for (int i = 0; i < 50; ++i) {
      variant[std::uniform_int_distribution<size_t>(0, variant.size() - 1)(rng)] =
          static_cast<char>(rng());
    }
    Totals got = FeedChunked(variant, 512, round);
    EXPECT_LE(got.documents, 5u);
  }
}

TEST(PowermetricsParser, TruncatedEndIsDroppedAtFinish) {
  const std::string bytes = Fixture("m4pro-macos15-gpu-only-5samples.plist-stream");
  Totals got = FeedChunked(bytes.substr(0, bytes.size() - 100), 64, 3);
  EXPECT_EQ(got.documents, 4u);
  EXPECT_EQ(got.skipped, 1u);
}

TEST(PowermetricsParser, IncompleteDocumentDroppedAfterTenSeconds) {
  const std::string bytes = Fixture("m4pro-macos15-gpu-only-1sample.plist");
  PowermetricsStreamParser parser;
  EXPECT_TRUE(parser.Feed(bytes.substr(0, 200), 0).empty());
  parser.CheckTimeout(9'000'000'000);
  EXPECT_EQ(parser.skipped_documents(), 0u);
  parser.CheckTimeout(10'500'000'000);
  EXPECT_EQ(parser.skipped_documents(), 1u);
  EXPECT_EQ(parser.buffered_bytes(), 0u);
  // The rest of that document is garbage now; the next whole document parses.
  EXPECT_EQ(parser.Feed(std::string(1, '\0') + bytes, 11'000'000'000).size(), 1u);
}

TEST(PowermetricsParser, MissingElapsedIsAnError) {
  auto doc = ParsePowermetricsPlist(
      "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>is_delta</key><true/></dict></plist>");
  EXPECT_FALSE(doc.ok());
}

TEST(PowermetricsParser, MacOS12KeysAreRead) {
  auto doc = ParsePowermetricsPlist(
      "<?xml version=\"1.0\"?><plist version=\"1.0\"><dict><key>elapsed_ns</key><integer>"
      "1000000000</integer><key>processor</key><dict><key>cpu_energy</key><integer>900"
      "</integer><key>gpu_energy</key><integer>100</integer><key>ane_energy</key><integer>0"
      "</integer><key>dram_energy</key><integer>220</integer><key>package_energy</key><integer>"
      "1473</integer></dict></dict></plist>");
  ASSERT_TRUE(doc.ok()) << doc.status();
  std::map<std::string, double> e;
  for (const Reading& r : doc->readings) e[r.channel] = r.energy_mj;
  EXPECT_EQ(e["dram"], 220);
  EXPECT_EQ(e["package"], 1473);
  EXPECT_EQ(e["combined"], 1000);
}

}  // namespace
}  // namespace eprof::power
