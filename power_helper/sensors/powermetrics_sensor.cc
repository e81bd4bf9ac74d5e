#include "power_helper/sensors/powermetrics_sensor.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/logging.h"

namespace eprof::power {
namespace {
constexpr int kPollSliceMs = 20;
constexpr size_t kStderrTailBytes = 2048;
}  // namespace

PowermetricsSensor::PowermetricsSensor(const PowermetricsSensorOptions& options)
    : options_(options),
      launcher_(options.launcher ? options.launcher : ProcessLauncher::Real()),
      clock_(options.clock ? options.clock : Clock::Real()) {}

v1::Source PowermetricsSensor::Describe() const {
  // Shortest interval 100 ms: shorter powermetrics windows are not reliable (see reference).
  v1::Source info = MakeSource("powermetrics",
                    absl::StrCat("macOS powermetrics (", options_.executable,
                                 " -f plist, run as a child of the helper)"),
                    /*min_interval_ns=*/100'000'000,
                    /*default_interval_ns=*/1'000'000'000);
  if (access(options_.executable.c_str(), X_OK) != 0) {
    info.set_available(false);
    info.set_unavailable_reason(absl::StrCat(options_.executable,
                                             " is not an executable file: powermetrics exists "
                                             "only on macOS"));
    return info;
  }
  info.set_available(true);
  for (v1::Channel& c : PowermetricsChannels(options_.apple_silicon)) {
    *info.add_channels() = std::move(c);
  }
  return info;
}

absl::Status PowermetricsSensor::Start(int64_t interval_ns) {
  Stop();
  interrupted_.store(false);
  if (options_.require_root && geteuid() != 0) {
    return absl::FailedPreconditionError(
        "powermetrics must run as root: the helper runs as uid " + std::to_string(geteuid()) +
        "; install it as a root service with deploy/install.sh (launchd) or run "
        "`sudo eprof-power-helper serve`");
  }
  const int64_t interval_ms = std::max<int64_t>(1, interval_ns / 1'000'000);
  std::vector<std::string> argv = {options_.executable, "-f", "plist", "-b", "0", "-i",
                                   std::to_string(interval_ms), "--samplers",
                                   "cpu_power,gpu_power,ane_power,thermal"};
  absl::StatusOr<std::unique_ptr<ChildProcess>> child = launcher_->Launch(argv);
  if (!child.ok()) {
    return absl::UnavailableError(
        absl::StrCat("cannot start ", options_.executable, ": ", child.status().message()));
  }
  child_ = *std::move(child);
  parser_ = std::make_unique<PowermetricsStreamParser>(options_.partial_timeout_ns);
  ready_.clear();
  stderr_tail_.clear();
  EPROF_LOG(INFO) << "started " << options_.executable << " (pid " << child_->pid()
                  << ") at " << interval_ms << " ms";
  return absl::OkStatus();
}

absl::Status PowermetricsSensor::ChildFailed() {
  int status = 0;
  std::string how = "closed its output";
  if (child_->Exited(&status)) how = DescribeWaitStatus(status);
  std::string message = absl::StrCat(options_.executable, " ", how);
  if (absl::StrContains(stderr_tail_, "superuser")) {
    absl::StrAppend(&message, ": powermetrics must run as root; install the helper as a root "
                              "service with deploy/install.sh");
  } else if (!stderr_tail_.empty()) {
    absl::StrAppend(&message, "; stderr: ", stderr_tail_);
  }
  if (parser_) parser_->Finish();
  child_->Stop();
  child_.reset();
  return absl::UnavailableError(message);
}

// The sample loop of powermetrics: poll the child's pipes, feed the parser.
absl::Status PowermetricsSensor::NextInto(int64_t /*interval_ns*/, SensorSample* sample) {
  if (!child_) return absl::FailedPreconditionError("powermetrics is not running");
  char buf[65536];
  while (ready_.empty()) {
    if (interrupted_.load()) return absl::CancelledError("sensor interrupted");
    pollfd fds[2] = {{child_->stdout_fd(), POLLIN, 0}, {child_->stderr_fd(), POLLIN, 0}};
    int n = poll(fds, fds[1].fd >= 0 ? 2 : 1, kPollSliceMs);
    if (n < 0 && errno != EINTR) return absl::InternalError("poll on powermetrics pipes failed");
    if (fds[1].revents & (POLLIN | POLLHUP)) {
      ssize_t got = read(child_->stderr_fd(), buf, sizeof(buf));
      if (got > 0) {
        stderr_tail_.append(buf, static_cast<size_t>(got));
        if (stderr_tail_.size() > kStderrTailBytes) {
          stderr_tail_.erase(0, stderr_tail_.size() - kStderrTailBytes);
        }
      }
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t got = read(child_->stdout_fd(), buf, sizeof(buf));
      if (got == 0) return ChildFailed();
      if (got < 0 && errno != EAGAIN && errno != EINTR) return ChildFailed();
      if (got > 0) {
        const int64_t now_ns = clock_->NowNs();
        for (PowermetricsDocument& doc :
             parser_->Feed(absl::string_view(buf, static_cast<size_t>(got)), now_ns)) {
          if (doc.readings.empty() && !logged_no_power_) {
            EPROF_LOG(WARNING) << doc.no_power_reason;
            logged_no_power_ = true;
          }
          SensorSample doc_sample;
          doc_sample.t_end_ns = now_ns;
          doc_sample.window_ns = doc.elapsed_ns;
          doc_sample.readings = std::move(doc.readings);
          ready_.push_back(std::move(doc_sample));
        }
      }
    }
    parser_->CheckTimeout(clock_->NowNs());
  }
  *sample = std::move(ready_.front());
  ready_.pop_front();
  return absl::OkStatus();
}

void PowermetricsSensor::Stop() {
  if (!child_) return;
  const pid_t pid = child_->pid();
  int status = child_->Stop();
  EPROF_LOG(INFO) << "stopped powermetrics (pid " << pid << "): "
                  << (status == -1 ? std::string("already reaped") : DescribeWaitStatus(status));
  child_.reset();
  parser_.reset();
  ready_.clear();
}

}  // namespace eprof::power
