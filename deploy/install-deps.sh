#!/usr/bin/env bash
# Installs every build and test dependency of eprof. Idempotent, and quick when everything is
# already there (it only asks the package manager for what is missing).
#
#   deploy/install-deps.sh            # build + test dependencies
#
# Debian/Ubuntu: apt. macOS: Homebrew. Anything else: a list of what to install by hand.
set -euo pipefail

# Debian package → what eprof needs it for.
DEBIAN_PACKAGES=(
  build-essential   # compiler
  clang libclang-rt-dev   # the sanitizer builds and the fuzzers (ASan, UBSan, TSan, libFuzzer)
  cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler   # the API
  libabsl-dev        # Status, flags, synchronisation
  libsqlite3-dev sqlite3   # the run store (sqlite3 for inspecting it in tests)
  libtinyxml2-dev    # powermetrics plist parsing
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and benchmarks
  nlohmann-json3-dev # config.json, tokenizer.json, JSON output
  libpcre2-dev       # tokenizer regexes (\p{L}, lookahead)
  libicu-dev         # tokenizer Unicode normalizers (NFC, NFKC, NFD, NFKD)
  prometheus-cpp-dev # /metrics
  libcpp-httplib-dev # the web gateway's HTTP server
  libtorch-dev       # the inference engine
  libopenblas0-pthread   # libtorch's BLAS: without it Debian's libtorch uses the ~25x slower reference BLAS
  nodejs npm         # tokenizer parity harness, the browser clients' tests and the dashboard
  prometheus         # the real Prometheus server the metrics test scrapes eprofd with
  systemd            # systemd-analyze verify, which checks the service units (tests/suites.d/deploy.sh)
  python3            # plistlib, which checks the launchd plists (tests/suites.d/deploy.sh)
  chromium           # the real browser the dashboard's end-to-end tests drive (playwright-core)
  fonts-dejavu-core  # a font for chromium's screenshots
)

BREW_PACKAGES=(cmake ninja ccache pkg-config grpc protobuf abseil sqlite tinyxml2 googletest
  google-benchmark nlohmann-json pcre2 icu4c prometheus-cpp cpp-httplib pytorch node prometheus)

say() { printf 'install-deps: %s\n' "$*" >&2; }

install_debian() {
  local missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q '^install ok installed$'; then
      missing+=("$pkg")
    fi
  done
  # Node may come from elsewhere (nodesource, nvm): accept any node >= 18 with npm.
  if command -v node >/dev/null && command -v npm >/dev/null; then
    local filtered=()
    for pkg in "${missing[@]}"; do
      [[ $pkg == nodejs || $pkg == npm ]] || filtered+=("$pkg")
    done
    missing=("${filtered[@]}")
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    say "all Debian packages present"
    return
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { say "need root to install: ${missing[*]}"; exit 1; }
    sudo=(sudo)
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_macos() {
  command -v brew >/dev/null || {
    say "Homebrew is required on macOS: see https://brew.sh, then run this script again"
    exit 1
  }
  local missing=()
  local installed
  installed=$(brew list --formula -1)
  for pkg in "${BREW_PACKAGES[@]}"; do
    grep -qx "$pkg" <<<"$installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    say "all Homebrew packages present"
    return
  fi
  say "installing with Homebrew: ${missing[*]}"
  brew install "${missing[@]}"
}

case "$(uname -s)" in
  Linux)
    if [ -r /etc/os-release ] && grep -qiE '^(ID|ID_LIKE)=.*(debian|ubuntu)' /etc/os-release; then
      install_debian
    else
      say "this Linux is not Debian-based; install these (or your distribution's equivalents):"
      say "  C++20 compiler, CMake >= 3.22, Ninja, ccache, gRPC C++ >= 1.51 with protoc plugin,"
      say "  protobuf >= 3.21, Abseil, SQLite 3, tinyxml2, GoogleTest/GoogleMock, Google Benchmark,"
      say "  nlohmann-json, PCRE2, prometheus-cpp, cpp-httplib, libtorch (with OpenBLAS), Node >= 18"
      exit 1
    fi
    ;;
  Darwin) install_macos ;;
  *)
    say "unsupported system $(uname -s): eprof builds on Debian/Ubuntu Linux and macOS"
    exit 1
    ;;
esac
