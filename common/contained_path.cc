#include "common/contained_path.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace eprof {
namespace {

namespace fs = std::filesystem;

bool IsInside(const fs::path& child, const fs::path& parent) {
  const std::string c = child.string();
  const std::string p = parent.string();
  if (p == "/") return true;
  return c.size() > p.size() && c.compare(0, p.size(), p) == 0 && c[p.size()] == '/';
}

}  // namespace

absl::StatusOr<std::string> ResolveInside(const std::string& dir, const std::string& name) {
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        dir, ": the model names the file '", name, "', which ", why,
        "; a model may only refer to files inside its own directory"));
  };
  if (name.empty()) return bad("is empty");
  if (name.find('\0') != std::string::npos) return bad("holds a NUL byte");
  if (name[0] == '/') return bad("is an absolute path");
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part == "..") return bad("climbs out with '..'");
  }
  std::error_code ec;
  const fs::path real_dir = fs::canonical(dir, ec);
  if (ec) return absl::NotFoundError(absl::StrCat(dir, ": no such model directory"));
  const fs::path real = fs::canonical(real_dir / name, ec);
  if (ec) {
    return absl::NotFoundError(absl::StrCat(dir, "/", name, ": no such file"));
  }
  if (IsInside(real, real_dir)) return real.string();
  // The Hugging Face hub cache: snapshots/REV/FILE -> ../../blobs/HASH.
  if (real_dir.parent_path().filename() == "snapshots") {
    const fs::path blobs = real_dir.parent_path().parent_path() / "blobs";
    if (IsInside(real, blobs)) return real.string();
  }
  return bad("resolves (through a symbolic link) to a file outside the model directory");
}

}  // namespace eprof
