// Command-line parsing for eprof's Abseil-flag binaries (eprofd, eprof-web): flags may be written
// with dashes (--model-root) or underscores (--model_root), and --help lists the flags of the
// binary's own main file, not of a file named after the program.
//
//   int main(int argc, char** argv) {
//     eprof::ParseCommandLineWithDashes(argc, argv, "eprofd: ...", "daemon/main.cc");
//     return Main();
//   }
//
// Thread safety: call once, from main(), before any thread starts.
#ifndef EPROF_COMMON_FLAGS_MAIN_H_
#define EPROF_COMMON_FLAGS_MAIN_H_

#include "absl/strings/string_view.h"

namespace eprof {

// Sets `usage` as the program's usage message, makes --help list the flags defined in the file
// whose path ends with `main_file`, and parses argv (exits on --help or a bad flag, as Abseil
// does).
void ParseCommandLineWithDashes(int argc, char** argv, absl::string_view usage,
                                absl::string_view main_file);

}  // namespace eprof

#endif  // EPROF_COMMON_FLAGS_MAIN_H_
