#include "daemon/engine/safetensors.h"

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "common/status_matchers.h"
#include "daemon/engine/test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eprof::engine {
namespace {

using ::eprof::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TensorData F32(const std::string& name, std::vector<int64_t> shape, std::vector<float> values) {
  TensorData t{name, DType::kF32, std::move(shape), std::string(values.size() * 4, '\0')};
  std::memcpy(t.bytes.data(), values.data(), t.bytes.size());
  return t;
}

TEST(SafetensorsTest, RoundTripsTensors) {
  TempDir dir;
  const std::string path = dir.path() + "/a.safetensors";
  EPROF_ASSERT_OK(WriteSafetensors(path, {F32("w", {2, 2}, {1, 2, 3, 4}), F32("b", {1}, {-5})}));
  EPROF_ASSERT_OK_AND_ASSIGN(auto file, SafetensorsFile::Open(path));
  ASSERT_EQ(file->tensors().size(), 2u);
  const TensorView* w = file->Find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(w->dtype, DType::kF32);
  EXPECT_EQ(static_cast<const float*>(w->data)[3], 4.0f);
  EXPECT_EQ(static_cast<const float*>(file->Find("b")->data)[0], -5.0f);
  EXPECT_EQ(file->Find("missing"), nullptr);
}

TEST(SafetensorsTest, TruncatedFileNamesFileAndTensor) {
  TempDir dir;
  const std::string path = dir.path() + "/t.safetensors";
  EPROF_ASSERT_OK(WriteSafetensors(path, {F32("first", {2}, {1, 2}), F32("second", {4}, {1, 2, 3, 4})}));
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes.substr(0, bytes.size() - 4);
  EXPECT_THAT(SafetensorsFile::Open(path).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr(path), HasSubstr("'second'"), HasSubstr("truncated"))));
}

TEST(SafetensorsTest, RejectsBadHeaderDtypeAndSize) {
  TempDir dir;
  auto write_raw = [&](const std::string& header) {
    const std::string path = dir.path() + "/raw.safetensors";
    std::string out(8, '\0');
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    out += header + std::string(16, '\0');
    std::ofstream(path, std::ios::binary | std::ios::trunc) << out;
    return path;
  };
  EXPECT_THAT(SafetensorsFile::Open(write_raw("not json")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not a JSON object")));
  EXPECT_THAT(SafetensorsFile::Open(write_raw(R"({"x":{"dtype":"I8","shape":[1],"data_offsets":[0,1]}})")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unsupported dtype I8")));
  EXPECT_THAT(SafetensorsFile::Open(write_raw(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})")).status(),
              StatusIs(absl::StatusCode::kInvalidArgument, AllOf(HasSubstr("'x'"), HasSubstr("needs 12"))));
  EXPECT_THAT(SafetensorsFile::Open(dir.path() + "/none.safetensors").status(),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.safetensors")));
  std::ofstream(dir.path() + "/short.safetensors") << "abc";
  EXPECT_THAT(SafetensorsFile::Open(dir.path() + "/short.safetensors").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncated")));
}

TEST(SafetensorsTest, Bf16RoundsToNearestEven) {
  EXPECT_EQ(FloatToBf16(1.0f), 0x3f80);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(3.140625f)), 3.140625f);
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1.0).
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + 1.0f / 256)), 1.0f);
  EXPECT_EQ(Bf16ToFloat(FloatToBf16(1.0f + 3.0f / 256)), 1.0f + 4.0f / 256);
}

}  // namespace
}  // namespace eprof::engine
