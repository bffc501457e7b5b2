#!/usr/bin/env bash
# Installs the Debian packages Ratel builds and tests with. Idempotent: does nothing (and needs
# no network) when everything is already installed. Run as root on Debian 12.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  libonnx-dev libonnx-testdata libprotobuf-dev protobuf-compiler   # ONNX import + its op tests
  libutf8proc-dev nlohmann-json3-dev libsimdjson-dev zlib1g-dev      # tokenizer, SQuAD JSON
  libcli11-dev libfmt-dev                                            # CLI, formatting
  libzip-dev                                                         # .npz calibration data
  googletest libgtest-dev libgmock-dev libbenchmark-dev              # tests, benchmarks
  clang libclang-rt-dev                     # the ASan+UBSan build (compiles faster than gcc)
)
if [ "${RATEL_WITH_CROSS:-0}" = 1 ]; then
  packages+=(g++-riscv64-linux-gnu clang-16 qemu-user)               # riscv64 targets
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} Debian packages present"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo $0)" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
