#include "daemon/engine/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"
#include "nlohmann/json.hpp"

namespace eprof::engine {

const char* DTypeName(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
  }
  return "?";
}

size_t DTypeSizeBytes(DType dtype) { return dtype == DType::kF32 ? 4 : 2; }

uint16_t FloatToBf16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7f800000u) == 0x7f800000u && (bits & 0x007fffffu) != 0) {
    return static_cast<uint16_t>((bits >> 16) | 0x40);  // quiet NaN
  }
  const uint32_t rounding_bias = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding_bias) >> 16);
}

float Bf16ToFloat(uint16_t bits) {
  const uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, 4);
  return value;
}

namespace {

absl::Status Invalid(const std::string& path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

}  // namespace

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat(path, ": no such safetensors file"));
    }
    return ErrnoToStatus(err, absl::StrCat("open ", path));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    return ErrnoToStatus(err, absl::StrCat("stat ", path));
  }
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
  file->path_ = path;
  file->size_bytes_ = static_cast<size_t>(st.st_size);
  if (file->size_bytes_ < 8) {
    ::close(fd);
    return Invalid(path, absl::StrCat("truncated safetensors file: ", file->size_bytes_,
                                      " bytes, less than the 8-byte header length"));
  }
  void* map = ::mmap(nullptr, file->size_bytes_, PROT_READ, MAP_PRIVATE, fd, 0);
  const int map_errno = errno;
  ::close(fd);
  if (map == MAP_FAILED) return ErrnoToStatus(map_errno, absl::StrCat("mmap ", path));
  file->map_ = map;
  const auto* bytes = static_cast<const unsigned char*>(map);

  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > file->size_bytes_ - 8) {
    return Invalid(path, absl::StrCat("truncated safetensors file: header of ", header_len,
                                      " bytes but the file has ", file->size_bytes_, " bytes"));
  }
  const size_t data_begin = 8 + header_len;
  const size_t data_size = file->size_bytes_ - data_begin;
  nlohmann::json header = nlohmann::json::parse(
      reinterpret_cast<const char*>(bytes + 8), reinterpret_cast<const char*>(bytes + data_begin),
      /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) {
    return Invalid(path, "safetensors header is not a JSON object");
  }
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string& name = it.key();
    const nlohmann::json& info = it.value();
    auto bad = [&](absl::string_view what) {
      return Invalid(path, absl::StrCat("tensor '", name, "': ", what));
    };
    if (!info.is_object() || !info.contains("dtype") || !info["dtype"].is_string() ||
        !info.contains("shape") || !info["shape"].is_array() || !info.contains("data_offsets") ||
        !info["data_offsets"].is_array() || info["data_offsets"].size() != 2) {
      return bad("entry needs a string dtype, a shape array and two data_offsets");
    }
    TensorView view;
    view.name = name;
    view.file = path;
    const std::string dtype = info["dtype"].get<std::string>();
    if (dtype == "F32") {
      view.dtype = DType::kF32;
    } else if (dtype == "F16") {
      view.dtype = DType::kF16;
    } else if (dtype == "BF16") {
      view.dtype = DType::kBF16;
    } else {
      return bad(absl::StrCat("unsupported dtype ", dtype, " (supported: F32, F16, BF16)"));
    }
    size_t elements = 1;
    for (const auto& dim : info["shape"]) {
      if (!dim.is_number_unsigned()) return bad("shape has a non-integer or negative dimension");
      view.shape.push_back(dim.get<int64_t>());
      elements *= dim.get<size_t>();
    }
    const auto& offsets = info["data_offsets"];
    if (!offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      return bad("data_offsets must be non-negative integers");
    }
    const size_t begin = offsets[0].get<size_t>();
    const size_t end = offsets[1].get<size_t>();
    if (begin > end) return bad("data_offsets begin after they end");
    if (end > data_size) {
      return bad(absl::StrCat("truncated safetensors file: the tensor ends at byte ", end,
                              " of the data block, which has only ", data_size, " bytes"));
    }
    view.size_bytes = end - begin;
    if (view.size_bytes != elements * DTypeSizeBytes(view.dtype)) {
      return bad(absl::StrCat("holds ", view.size_bytes, " bytes but ", dtype, " × its shape needs ",
                              elements * DTypeSizeBytes(view.dtype)));
    }
    view.data = bytes + data_begin + begin;
    file->tensors_.emplace(name, std::move(view));
  }
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_ != nullptr) ::munmap(map_, size_bytes_);
}

const TensorView* SafetensorsFile::Find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

absl::Status WriteSafetensors(const std::string& path, const std::vector<TensorData>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  size_t offset = 0;
  for (const TensorData& t : tensors) {
    size_t elements = 1;
    for (int64_t d : t.shape) elements *= static_cast<size_t>(d);
    if (elements * DTypeSizeBytes(t.dtype) != t.bytes.size()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", t.name, "' has ", t.bytes.size(),
                                                     " bytes, its dtype and shape need ",
                                                     elements * DTypeSizeBytes(t.dtype)));
    }
    header[t.name] = {{"dtype", DTypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string header_text = header.dump();
  // Pad the header so the data block is 8-byte aligned (as the reference writer does).
  while ((8 + header_text.size()) % 8 != 0) header_text.push_back(' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  uint64_t len = header_text.size();
  char len_bytes[8];
  for (int i = 0; i < 8; ++i) len_bytes[i] = static_cast<char>((len >> (8 * i)) & 0xff);
  out.write(len_bytes, 8);
  out.write(header_text.data(), static_cast<std::streamsize>(header_text.size()));
  for (const TensorData& t : tensors) {
    out.write(t.bytes.data(), static_cast<std::streamsize>(t.bytes.size()));
  }
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("error writing ", path));
  return absl::OkStatus();
}

}  // namespace eprof::engine
