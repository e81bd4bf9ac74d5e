// Where eprof's per-user files live by default, so that eprofd and eprofctl agree.
//
//   DefaultDaemonSocket()  $EPROF_SOCKET, else $XDG_RUNTIME_DIR/eprof/eprofd.sock, else
//                          $TMPDIR/eprof-$UID/eprofd.sock ($TMPDIR when unset: the per-user
//                          temporary directory on macOS, /tmp elsewhere). The
//                          directory is eprofd's alone: it makes it with mode 0700 and both
//                          sides refuse one another user made (common/secure_dir.h).
//   DefaultDataDir()       $XDG_DATA_HOME/eprof, else ~/.local/share/eprof (macOS:
//                          ~/Library/Application Support/eprof): the database (eprof.db) and
//                          the models (models/) both live here
//   kDefaultPowerSocket    the power helper's socket
#ifndef EPROF_COMMON_PATHS_H_
#define EPROF_COMMON_PATHS_H_

#include <string>

namespace eprof {

inline constexpr char kDefaultPowerSocket[] = "/var/run/eprof/power.sock";

// The daemon's socket when no flag says otherwise. `use_env`: consult $EPROF_SOCKET first.
std::string DefaultDaemonSocket(bool use_env = true);
std::string DefaultDataDir();

}  // namespace eprof

#endif  // EPROF_COMMON_PATHS_H_
