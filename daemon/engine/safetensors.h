// Reading and writing the safetensors format (https://github.com/huggingface/safetensors):
// an 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data block; offsets are relative to the start of the data block.
//
//   EPROF_ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open("/m/model.safetensors"));
//   const TensorView* w = file->Find("model.norm.weight");  // nullptr if absent
//
// The file is memory-mapped read-only; TensorView::data points into the mapping and stays valid
// while the SafetensorsFile lives. Every offset and size is checked against the file size and the
// dtype × shape, so a truncated or inconsistent file is an error naming the file and the tensor.
//
// Thread safety: an opened file is immutable; concurrent reads are safe.
#ifndef EPROF_DAEMON_ENGINE_SAFETENSORS_H_
#define EPROF_DAEMON_ENGINE_SAFETENSORS_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace eprof::engine {

enum class DType { kF32, kF16, kBF16 };

// "F32", "F16", "BF16".
const char* DTypeName(DType dtype);
size_t DTypeSizeBytes(DType dtype);

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // into the mapping; not owned
  size_t size_bytes = 0;
  std::string file;  // the path it came from, for error messages
};

class SafetensorsFile {
 public:
  // Maps `path` and validates its header. Errors: NotFound (no file), InvalidArgument (bad
  // header, unsupported dtype, offsets outside the file, size != dtype × shape), each naming the
  // file and, where there is one, the tensor.
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // nullptr when the file has no tensor of that name.
  const TensorView* Find(const std::string& name) const;
  const std::map<std::string, TensorView>& tensors() const { return tensors_; }
  const std::string& path() const { return path_; }
  size_t file_size_bytes() const { return size_bytes_; }

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* map_ = nullptr;
  size_t size_bytes_ = 0;
  std::map<std::string, TensorView> tensors_;
};

// One tensor to write: its bytes are already in `dtype`, little-endian, row-major.
struct TensorData {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::string bytes;
};

// Writes `tensors` (in the given order) to `path`. Fails if a tensor's byte count does not match
// dtype × shape, or on an I/O error.
absl::Status WriteSafetensors(const std::string& path, const std::vector<TensorData>& tensors);

// float -> bfloat16 bits, round to nearest even (what torch's .to(torch.bfloat16) does).
uint16_t FloatToBf16(float value);
float Bf16ToFloat(uint16_t bits);

}  // namespace eprof::engine

#endif  // EPROF_DAEMON_ENGINE_SAFETENSORS_H_
