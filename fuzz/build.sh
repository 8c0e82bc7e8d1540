#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer:  fuzz/build.sh [OUT_DIR]   (default build-fuzz/)
#
# The whole engine is compiled, kernels included (each SIMD variant with its
# own ISA flags, as engine/kernels/meson.build does): the preprocessing runs
# the dispatched kernels, and the blend reaches a context's thread pool. The
# network's kernels, which no fuzzed entry point runs, are built plain
# (instrumented, their unrolled templates take clang many minutes).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
out=${1:-$root/build-fuzz}
cc=${CC_FUZZ:-clang}
mkdir -p "$out/obj"
rm -f "$out"/fuzz_safetensors "$out"/fuzz_tflite "$out"/fuzz_config "$out"/fuzz_preprocess

common=(-std=c11 -D_GNU_SOURCE -DMNV3_BUILDING_LIBRARY -g -O1 -fno-omit-frame-pointer
        -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -I"$root/engine/include" -I"$root/engine/src" -I"$root/engine/kernels" -I"$here")
libs=($(pkg-config --libs yaml-0.1 libcjson) -lcpuinfo -lpthread -lm)

# Flags of a kernel file by its ISA suffix; empty output: not for this CPU.
isa_flags() {
  case "$(uname -m):$1" in
    x86_64:*__avx512vnni.c) echo "-mavx512f -mavx512bw -mavx512vnni -mavx2 -mfma -ffp-contract=off" ;;
    x86_64:*__avx512bw.c) echo "-mavx512f -mavx512bw -mavx2 -mfma -ffp-contract=off" ;;
    x86_64:*__avxvnni.c) echo "-mavxvnni -mavx2 -mfma -ffp-contract=off" ;;
    x86_64:*__avx2.c) echo "-mavx2 -mfma -ffp-contract=off" ;;
    aarch64:*__neonfma.c) echo "-ffp-contract=off" ;;
    aarch64:*__neondot.c) echo "-march=armv8.2-a+dotprod -ffp-contract=off" ;;
    *__avx512vnni.c | *__avx512bw.c | *__avxvnni.c | *__avx2.c | *__neonfma.c | *__neondot.c) ;;
    *) echo "-ffp-contract=off" ;;
  esac
}

# The engine once, instrumented for coverage but without libFuzzer's main.
objects=()
for src in "$root"/engine/src/*.c "$root"/engine/kernels/*.c; do
  flags=(-fsanitize=fuzzer-no-link)
  case "$src" in
    */kernels/*)
      isa=$(isa_flags "$src")
      [ -n "$isa" ] || continue
      case "$src" in
        */scalar.c | */dispatch.c | */u8_*) flags+=($isa) ;;
        *) flags=($isa -fno-sanitize=all -O2) ;;
      esac ;;
  esac
  obj="$out/obj/$(basename "$(dirname "$src")")_$(basename "$src" .c).o"
  "$cc" "${common[@]}" "${flags[@]}" -c "$src" -o "$obj" &
  objects+=("$obj")
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
