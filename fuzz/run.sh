#!/usr/bin/env bash
# Runs one fuzzer for a while, then folds what it found into the committed
# corpus, minimized:
#
#   fuzz/run.sh NAME SECONDS [libFuzzer options...]
#     NAME: safetensors | tflite | config | preprocess
#
# New inputs go to a scratch corpus (OUT/work/NAME), seeded from
# fuzz/corpus/NAME, fuzz/regressions/NAME and, for tflite, the released models
# in ../shared/models. Crashes land in OUT/crashes/NAME/; copy a minimized
# one (fuzzer -minimize_crash=1) into fuzz/regressions/NAME/ once the bug is
# understood. At the end the corpus is merged (-merge=1) into
# fuzz/corpus/NAME, keeping only inputs of at most 1 MB.
# OUT is $MNV3_FUZZ_OUT or build-fuzz/; the fuzzers are built there if missing.
# Runs at nice 19: other people's benchmarks share the machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
if [ $# -lt 2 ]; then
  echo "usage: $0 safetensors|tflite|config|preprocess SECONDS [libFuzzer options...]" >&2
  exit 2
fi
name=$1 seconds=$2
shift 2
case $name in safetensors|tflite|config|preprocess) ;; *)
  echo "run.sh: unknown fuzzer '$name'" >&2; exit 2;;
esac
out=${MNV3_FUZZ_OUT:-$root/build-fuzz}
fuzzer=$out/fuzz_$name
[ -x "$fuzzer" ] || "$here/build.sh" "$out"

work=$out/work/$name crashes=$out/crashes/$name
mkdir -p "$work" "$crashes" "$here/corpus/$name" "$here/regressions/$name"
seeds=("$here/corpus/$name" "$here/regressions/$name")
extra=()
if [ "$name" = tflite ]; then
  # Whole models are 2.5 MB: let mutations keep them whole.
  shopt -s nullglob
  models=("$root"/../shared/models/*.tflite)
  [ ${#models[@]} -gt 0 ] && seeds+=("$(dirname "${models[0]}")")
  extra+=(-max_len=4000000 -rss_limit_mb=4096)
fi
# Dictionaries of the formats' keywords help libFuzzer through the parsers.
[ -f "$here/$name.dict" ] && extra+=(-dict="$here/$name.dict")

echo "== fuzzing $name for $seconds s"
nice -n 19 "$fuzzer" "$work" "${seeds[@]}" -max_total_time="$seconds" \
  -print_final_stats=1 -artifact_prefix="$crashes/" -timeout=25 \
  "${extra[@]}" "$@" 2>&1 | tee "$out/fuzz-$name.log" |
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::|ERROR|SUMMARY|contract broken|^==[0-9]+==' || true

echo "== merging into fuzz/corpus/$name"
merged=$out/merged/$name
rm -rf "$merged" && mkdir -p "$merged"
nice -n 19 "$fuzzer" -merge=1 "$merged" "$here/corpus/$name" "$work" \
  "${extra[@]}" >"$out/merge-$name.log" 2>&1
# Keep the repository small: no file over 1 MB, and the smallest files first
# up to a budget (MNV3_FUZZ_CORPUS_KB, default 3072 KiB per fuzzer).
budget=$(( ${MNV3_FUZZ_CORPUS_KB:-3072} * 1024 )) total=0
rm -f "$here/corpus/$name"/*
while read -r size file; do
  [ "$size" -le 1048576 ] && [ $((total + size)) -le "$budget" ] || continue
  cp "$file" "$here/corpus/$name/"
  total=$((total + size))
done < <(find "$merged" -type f -printf '%s %p\n' | sort -n)
echo "corpus/$name: $(ls "$here/corpus/$name" | wc -l) files, $(du -sh "$here/corpus/$name" | cut -f1)"
echo "crashes: $(ls "$crashes" | wc -l) in $crashes"
