#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer:  fuzz/build.sh [OUT_DIR]   (default build-fuzz/)
#
# Only the engine sources the parsers reach are compiled (the same files as
# in engine/meson.build, minus the model, plan, context and kernels, which
# no fuzzed entry point calls), so no SIMD flags are needed and a kernel
# change elsewhere cannot break this build.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:-$root/build-fuzz}
cc=${CC_FUZZ:-clang}
mkdir -p "$out/obj"
rm -f "$out"/fuzz_safetensors "$out"/fuzz_tflite "$out"/fuzz_config "$out"/fuzz_preprocess

common=(-std=c11 -D_GNU_SOURCE -DMNV3_BUILDING_LIBRARY -g -O1 -fno-omit-frame-pointer
        -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -I"$root/engine/include" -I"$root/engine/src" -I"$here")
# pthreadpool: the preprocessing splits rows over a pool when given one.
libs=($(pkg-config --libs yaml-0.1 libcjson) -lpthreadpool -lm)

# The engine once, instrumented for coverage but without libFuzzer's main.
objects=()
for f in error config network safetensors tflite preprocess blend; do
  "$cc" "${common[@]}" -fsanitize=fuzzer-no-link -c "$root/engine/src/$f.c" \
    -o "$out/obj/$f.o" &
  objects+=("$out/obj/$f.o")
done
wait

for name in safetensors tflite config preprocess; do
  "$cc" "${common[@]}" -fsanitize=fuzzer -o "$out/fuzz_$name" \
    "$here/fuzz_$name.c" "${objects[@]}" "${libs[@]}" &
done
wait
for name in safetensors tflite config preprocess; do
  test -x "$out/fuzz_$name" || { echo "build.sh: fuzz_$name failed to build" >&2; exit 1; }
done
echo "fuzzers in $out: fuzz_safetensors fuzz_tflite fuzz_config fuzz_preprocess"
