#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) and runs each for a bounded time from a
# seed corpus of valid inputs. A crash leaves its input in build/fuzz/crashes/<target>/ and makes
# this script fail; turn it into a regression test before fixing it.
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default 60 s, all targets)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(onnx_import npy tokenizer squad_json shape_parse)
assets=${RATEL_ASSETS:-../shared}

RATEL_WITH_CROSS=0 scripts/install-deps.sh
command -v clang++ >/dev/null || { apt-get install -y -qq clang libclang-rt-dev >/dev/null; }
CC=clang CXX=clang++ cmake -S . -B build/fuzz -G Ninja -DRATEL_FUZZ=ON -DRATEL_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build/fuzz -j "$(nproc)" --target $(printf 'fuzz_%s ' "${targets[@]}")

# Seed corpora from valid inputs.
seeds=build/fuzz/seeds
mkdir -p "$seeds"/{onnx_import,npy,tokenizer,squad_json,shape_parse}
if [ -z "$(ls -A "$seeds/onnx_import")" ]; then
  n=0
  for m in /usr/share/libonnx-testdata/data/node/*/model.onnx; do
    [ -f "$m" ] || continue
    cp "$m" "$seeds/onnx_import/$(basename "$(dirname "$m")").onnx"; n=$((n + 1))
    [ $n -ge 300 ] && break
  done
  printf '\x93NUMPY\x01\x00\x76\x00{'"'"'descr'"'"': '"'"'<f4'"'"', '"'"'fortran_order'"'"': False, '"'"'shape'"'"': (2, 3), }                                                            \n' > "$seeds/npy/f32.npy"
  head -c 24 /dev/zero >> "$seeds/npy/f32.npy"
  printf '1 384;1 384;1 384' > "$seeds/shape_parse/hhb"
  printf '[1, 384]' > "$seeds/shape_parse/brackets"
  printf '1x3x224x224' > "$seeds/shape_parse/x"
  printf 'Which NFL team represented the AFC at Super Bowl 50?' > "$seeds/tokenizer/seed"
  printf 'Caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 na\xc3\xafve \xe2\x80\x94 "quotes"\t\r\n' > "$seeds/tokenizer/unicode"
  if [ -f "$assets/data/squad/test1.json" ]; then cp "$assets/data/squad/test1.json" "$seeds/squad_json/"; fi
  printf '{"version":"1.1","data":[{"title":"t","paragraphs":[{"context":"a b","qas":[{"id":"1","question":"q","answers":[{"text":"a","answer_start":0}]}]}]}]}' > "$seeds/squad_json/min.json"
fi

mkdir -p build/fuzz/crashes build/fuzz/corpus
status=0
for t in "${targets[@]}"; do
  mkdir -p "build/fuzz/corpus/$t" "build/fuzz/crashes/$t"
  echo "== fuzz_$t for ${seconds}s"
  if ! build/fuzz/fuzz/fuzz_"$t" "build/fuzz/corpus/$t" "$seeds/$t" -max_total_time="$seconds" \
      -rss_limit_mb=2048 -timeout=20 -artifact_prefix="build/fuzz/crashes/$t/" -print_final_stats=1 \
      2>"build/fuzz/$t.log"; then
    echo "fuzz_$t FOUND A CRASH: see build/fuzz/$t.log and build/fuzz/crashes/$t/" >&2
    status=1
  fi
  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build/fuzz/$t.log" | sed "s/^/  /"
done
exit $status
