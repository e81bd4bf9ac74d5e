#include "common/secure_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/errno_status.h"
#include "common/peer_credentials.h"

namespace eprof {
namespace {

absl::Status Refuse(const std::string& dir, const std::string& why) {
  return absl::FailedPreconditionError(absl::StrCat(
      "refusing to use ", dir, ": ", why,
      ". Another local user may have made it to intercept or block eprof's socket: remove it "
      "if it is a directory eprof made for you (not one such as /tmp), or choose another socket "
      "path (--socket, or set XDG_RUNTIME_DIR)"));
}

absl::Status RefuseShared(const std::string& dir, mode_t mode) {
  return absl::FailedPreconditionError(absl::StrFormat(
      "refusing to use %s: others may write to it (mode %04o), so any local user could replace "
      "the socket or plant its lock file. Put the socket in a directory only you can write to "
      "(the default, $XDG_RUNTIME_DIR/eprof, or --socket in such a directory); if %s is an "
      "eprof directory someone else opened up, remove it",
      dir, mode, dir));
}

}  // namespace

std::string DirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool SocketDirectory::MayServe(uid_t server_uid) const {
  if (server_uid == ::getuid() || server_uid == 0) return true;
  return !writable_by_others && server_uid == owner;
}

absl::StatusOr<SocketDirectory> InspectSocketDirectory(const std::string& dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(dir, " does not exist"));
    return ErrnoToStatus(errno, absl::StrCat("cannot inspect ", dir));
  }
  if (S_ISLNK(st.st_mode)) return Refuse(dir, "it is a symbolic link");
  if (!S_ISDIR(st.st_mode)) return Refuse(dir, "it is not a directory");
  SocketDirectory d;
  d.owner = st.st_uid;
  d.writable_by_others = (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
  return d;
}

absl::Status PrepareSocketDirectory(const std::string& dir, mode_t mode, bool set_mode) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return ErrnoToStatus(errno, absl::StrCat("cannot inspect ", dir));
    if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
      return ErrnoToStatus(errno, absl::StrCat("cannot create socket directory ", dir));
    }
    // Made by us, or by someone who raced us to it (EEXIST): either way, check what is there.
    if (::lstat(dir.c_str(), &st) != 0) {
      return ErrnoToStatus(errno, absl::StrCat("cannot inspect ", dir));
    }
    if (S_ISDIR(st.st_mode) && st.st_uid == ::geteuid()) {
      // mkdir applied the umask; give the mode asked for.
      if (::chmod(dir.c_str(), mode) != 0) {
        return ErrnoToStatus(errno, absl::StrFormat("cannot chmod %o %s", mode, dir));
      }
      st.st_mode = (st.st_mode & ~07777) | mode;
    }
  }
  if (S_ISLNK(st.st_mode)) return Refuse(dir, "it is a symbolic link");
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is not a directory; cannot create a socket in it"));
  }
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    return Refuse(dir, absl::StrCat("it is owned by ", DescribeUser(st.st_uid), ", not by you (",
                                    DescribeUser(::geteuid()), ")"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return RefuseShared(dir, st.st_mode & 07777);
  if (set_mode && st.st_uid == ::geteuid() && (st.st_mode & 07777) != mode) {
    if (::chmod(dir.c_str(), mode) != 0) {
      return ErrnoToStatus(errno, absl::StrFormat("cannot chmod %o %s", mode, dir));
    }
  }
  return absl::OkStatus();
}

}  // namespace eprof
