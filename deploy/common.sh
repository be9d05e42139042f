# Shared by deploy/*.sh and bench/run.sh: install the Debian packages the
# build needs (when missing) and build. Source it; do not run it.

OW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OW_PACKAGES=(cmake g++ make pkg-config libgrpc++-dev protobuf-compiler-grpc
  libprotobuf-dev protobuf-compiler librocksdb-dev libspdlog-dev
  libboost1.81-dev nlohmann-json3-dev libyaml-cpp-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev python3
  libpcre2-dev libcpp-httplib-dev graphviz json-schema-test-suite openssl
  libjemalloc-dev clang)

ow_install_packages() {
  local missing=()
  for p in "${OW_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
      missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  echo "installing: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}

# ow_build BUILD_DIR BUILD_TYPE [targets...]
ow_build() {
  local dir="$1" type="$2"
  shift 2
  cmake -S "$OW_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="$type" >/dev/null
  if [ $# -gt 0 ]; then
    cmake --build "$dir" -j"$(nproc)" --target "$@"
  else
    cmake --build "$dir" -j"$(nproc)"
  fi
}
