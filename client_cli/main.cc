// eprofctl: the command-line client of eprofd.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "client_cli/client.h"
#include "client_cli/commands.h"
#include "common/paths.h"
#include "common/process_init.h"

namespace {

constexpr char kHelp[] = R"(Usage: eprofctl [--socket PATH] COMMAND [options]

Measure where the energy of LLM inference goes, with eprofd.

Commands:
  profile   run a profiled generation and show it live, then its summary
  runs      list, show, compare, export and delete stored runs
  models    the models eprofd can run
  power     live power readout
  status    eprofd, the power helper, the current run

`eprofctl COMMAND --help` describes each. Every command takes --json.
eprofd is found at --socket, else $EPROF_SOCKET, else the default path
(%s).

Exit codes: 0 ok, 1 error, 2 usage, 3 eprofd unreachable, 4 not found, 5 request rejected,
130 cancelled with Ctrl-C.
)";

}  // namespace

int main(int argc, char** argv) {
  eprof::InitProcess("eprofctl");
  // eprofctl makes its socket itself (uds_client.h): a server that goes away mid-call must give
  // a message and an exit code, not a SIGPIPE death (macOS sends without MSG_NOSIGNAL).
  signal(SIGPIPE, SIG_IGN);
  using namespace eprof::cli;
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string socket;
  size_t i = 0;
  for (; i < args.size(); ++i) {
    if (args[i] == "--socket" && i + 1 < args.size()) {
      socket = args[++i];
    } else if (args[i].rfind("--socket=", 0) == 0) {
      socket = args[i].substr(9);
    } else {
      break;
    }
  }
  if (i >= args.size() || args[i] == "--help" || args[i] == "-h" || args[i] == "help") {
    std::printf(kHelp, eprof::DefaultDaemonSocket(false).c_str());
    return i >= args.size() ? kExitUsage : kExitOk;
  }
  bool default_path = false;
  if (socket.empty()) {
    const char* env = std::getenv("EPROF_SOCKET");
    default_path = env == nullptr || *env == '\0';
    socket = eprof::DefaultDaemonSocket();
  }
  std::string command = args[i];
  std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
  // --socket may also follow the command.
  for (size_t j = 0; j < rest.size(); ++j) {
    if (rest[j] == "--socket" && j + 1 < rest.size()) {
      socket = rest[j + 1];
      default_path = false;
      rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(j), rest.begin() + static_cast<std::ptrdiff_t>(j) + 2);
      break;
    }
  }
  Client client(socket, default_path);
  if (command == "profile") return ProfileCommand(client, rest);
  if (command == "runs") return RunsCommand(client, rest);
  if (command == "models") return ModelsCommand(client, rest);
  if (command == "power") return PowerCommand(client, rest);
  if (command == "status") return StatusCommand(client, rest);
  return Error(kExitUsage, absl::StrCat("unknown command '", command, "' (see eprofctl --help)"));
}
