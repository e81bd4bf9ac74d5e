// The checkpoint format eprofd reads from model directories anyone can download: a
// safetensors file (header and data offsets), and the sharded index naming the shards. The first
// input byte chooses which; the rest is the file. The index's shards are two valid files.
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "daemon/engine/checkpoint.h"
#include "daemon/engine/safetensors.h"
#include "fuzz/fuzz_util.h"

namespace {

std::string g_dir;  // a fresh directory of this process's

void Write(const std::string& path, absl::string_view bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(bytes.data(), bytes.size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char tmpl[] = "/tmp/eprof-fuzz-checkpoint-XXXXXX";
  g_dir = mkdtemp(tmpl);
  using eprof::engine::DType;
  using eprof::engine::TensorData;
  const std::vector<TensorData> a = {{"model.layers.0.a", DType::kF32, {2}, std::string(8, '\0')}};
  const std::vector<TensorData> b = {
      {"model.layers.0.b", DType::kBF16, {1, 3}, std::string(6, '\0')}};
  (void)eprof::engine::WriteSafetensors(g_dir + "/a.safetensors", a);
  (void)eprof::engine::WriteSafetensors(g_dir + "/b.safetensors", b);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const absl::string_view bytes = eprof::fuzz::View(data + 1, size - 1);
  if (data[0] & 1) {
    const std::string path = g_dir + "/fuzz.safetensors";
    Write(path, bytes);
    {
      auto file = eprof::engine::SafetensorsFile::Open(path);
      if (file.ok()) {
        for (const auto& [name, view] : (*file)->tensors()) {
          // Every view lies inside the mapping: touch its first and last byte.
          if (view.size_bytes > 0) {
            volatile char first = static_cast<const char*>(view.data)[0];
            volatile char last = static_cast<const char*>(view.data)[view.size_bytes - 1];
            (void)first;
            (void)last;
          }
        }
      }
    }
    unlink(path.c_str());  // each input on its own: the next sees only the two shards
  } else {
    const std::string path = g_dir + "/model.safetensors.index.json";
    Write(path, bytes);
    {
      auto checkpoint = eprof::engine::Checkpoint::Open(g_dir);
      if (checkpoint.ok()) {
        (void)(*checkpoint)->CountIndexed("model.layers.");
        (void)(*checkpoint)->total_bytes();
      }
    }
    unlink(path.c_str());
  }
  return 0;
}
