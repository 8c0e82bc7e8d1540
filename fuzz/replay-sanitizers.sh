#!/usr/bin/env bash
# CI regression run under clang's sanitizers: builds the fuzzers into OUT_DIR
# and runs each over its committed corpus and crash regressions, without
# mutating (-runs=0). Exits 77 (meson: skipped) when clang cannot build a
# libFuzzer + ASan + UBSan program here (no libclang-rt-*-dev).
#   fuzz/replay-sanitizers.sh OUT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: $0 OUT_DIR}
cc=${CC_FUZZ:-clang}
mkdir -p "$out"

probe=$out/probe.c
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return 0; }\n' >"$probe"
if ! "$cc" -fsanitize=fuzzer,address,undefined "$probe" -o "$out/probe" 2>"$out/probe.log"; then
  echo "SKIP: $cc cannot link -fsanitize=fuzzer,address,undefined (install clang and libclang-rt-14-dev):"
  cat "$out/probe.log"
  exit 77
fi

"$here/build.sh" "$out"
status=0
for name in safetensors tflite config preprocess; do
  dirs=()
  for d in "$here/corpus/$name" "$here/regressions/$name"; do
    [ -d "$d" ] && [ -n "$(ls -A "$d")" ] && dirs+=("$d")
  done
  # The released models reach the TFLite matcher (too big to commit).
  models=$(dirname "$here")/../shared/models
  [ "$name" = tflite ] && [ -d "$models" ] && dirs+=("$models")
  if [ ${#dirs[@]} -eq 0 ]; then
    echo "FAIL: fuzz_$name has no corpus in $here/corpus/$name"
    status=1
    continue
  fi
  # -runs=0: execute the given inputs, mutate nothing.
  if "$out/fuzz_$name" -runs=0 -rss_limit_mb=4096 -max_len=4000000 "${dirs[@]}" \
      >"$out/replay-$name.log" 2>&1; then
    echo "ok: fuzz_$name: $(grep -Eo 'INITED cov: [0-9]+ ft: [0-9]+' "$out/replay-$name.log" | tail -1) over ${dirs[*]}"
  else
    echo "FAIL: fuzz_$name crashed; the report:"
    tail -n 40 "$out/replay-$name.log"
    status=1
  fi
done
exit $status
