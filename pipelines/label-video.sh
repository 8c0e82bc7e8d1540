#!/bin/bash
# Labels every frame of a video (or an image) with a MobileNetV3 classifier
# and writes the results as JSON lines, one per frame (see mnv3jsonsink).
#
#   pipelines/label-video.sh INPUT OUTPUT.jsonl [CONFIG] [PROPERTY=VALUE ...]
#
# INPUT is anything decodebin reads (recorded videos, JPEG/PNG images).
# CONFIG defaults to configs/mobilenet_v3_small_tfslim_uint8.yaml, the real
# MobileNetV3-Small (install its weights with models/fetch). Further
# PROPERTY=VALUE arguments go to mnv3classify, e.g. top-k=3 threads=2
# weights=/path/to/model.tflite.
#
# The plugin is taken, in this order, from $MNV3_BUILD_DIR/gst when
# MNV3_BUILD_DIR is set, from GST_PLUGIN_PATH when it is set, from the
# installed plugins, and else from <repo>/build/gst.
#
# Progress goes to stderr while it runs, then a summary: frames, mean time
# per frame and the labels that came first most often.
set -u

PROG=label-video
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
DEFAULT_CONFIG="$REPO/configs/mobilenet_v3_small_tfslim_uint8.yaml"

[ $# -ge 2 ] || usage
case "$1" in -h|--help) usage ;; esac
INPUT=$1
OUTPUT=$2
shift 2
CONFIG=$DEFAULT_CONFIG
if [ $# -gt 0 ] && [[ "$1" != *=* ]]; then
  CONFIG=$1
  shift
fi
PROPS=("$@")

for p in "${PROPS[@]}"; do
  [[ "$p" == *=* ]] || die "'$p' is not a PROPERTY=VALUE for mnv3classify"
done

# ---- inputs ---------------------------------------------------------------

[ -f "$INPUT" ] || die "$INPUT: no such file"
[ -r "$INPUT" ] || die "$INPUT: not readable"
[ -f "$CONFIG" ] || die "$CONFIG: no such model config (see the configs/ folder)"
out_dir=$(dirname "$OUTPUT")
[ -d "$out_dir" ] || die "$OUTPUT: the folder $out_dir does not exist"
[ -w "$out_dir" ] || die "$OUTPUT: the folder $out_dir is not writable"

# The weights the element will load: a weights= property wins over the
# config's model.weights, which is relative to the config's folder.
weights=
for p in "${PROPS[@]}"; do
  case "$p" in weights=*) weights=${p#weights=} ;; esac
done
if [ -z "$weights" ]; then
  weights=$(sed -n 's/^[[:space:]]*weights:[[:space:]]*//p' "$CONFIG" | head -n 1 |
    sed 's/[[:space:]]*#.*$//; s/^"\(.*\)"$/\1/; s/^'"'"'\(.*\)'"'"'$/\1/')
  if [ -n "$weights" ] && [[ "$weights" != /* ]]; then
    weights=$(realpath -m "$(dirname "$CONFIG")/$weights")
  fi
fi
if [ -n "$weights" ] && [ ! -f "$weights" ]; then
  if [[ "$weights" == *.tflite ]]; then
    die "the model $weights is not installed: run models/fetch" \
      "(or models/fetch --from DIR with a folder holding the .tflite files)"
  fi
  die "the model weights $weights (from $CONFIG) do not exist"
fi

# ---- plugin ---------------------------------------------------------------

find_plugin mnv3classify mnv3jsonsink

# ---- expected frame count (for progress only) ------------------------------

# Duration x framerate from GstPbutils, through whichever Python has the
# GObject bindings (Debian's python3-gi); empty when unknown.
count_frames() {
  local py
  for py in ${PYTHON:-} /usr/bin/python3 python3; do
    command -v "$py" >/dev/null 2>&1 || continue
    "$py" - "$INPUT" 2>/dev/null <<'EOF' && return 0
import os, sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstPbutils", "1.0")
from gi.repository import Gst, GstPbutils
Gst.init(None)
info = GstPbutils.Discoverer.new(10 * Gst.SECOND).discover_uri(
    Gst.filename_to_uri(os.path.abspath(sys.argv[1])))
streams = info.get_video_streams()
if not streams:
    sys.exit(1)
v = streams[0]
if v.is_image():
    print(1)
    sys.exit(0)
num, den, dur = v.get_framerate_num(), v.get_framerate_denom(), info.get_duration()
if num <= 0 or den <= 0 or dur == Gst.CLOCK_TIME_NONE or dur <= 0:
    sys.exit(1)
print(int(round(dur * num / (den * Gst.SECOND))))
EOF
  done
  if command -v gst-discoverer-1.0 >/dev/null; then
    gst-discoverer-1.0 -v "$INPUT" 2>/dev/null | awk '
      /Duration:/ { split($2, t, ":"); dur = t[1] * 3600 + t[2] * 60 + t[3] }
      /Frame rate:/ && !rate { split($3, f, "/"); if (f[2] > 0) rate = f[1] / f[2] }
      END { if (dur > 0 && rate > 0) printf "%d\n", dur * rate + 0.5; else exit 1 }'
    return
  fi
  return 1
}

total=$(count_frames) || total=

# ---- run ------------------------------------------------------------------

now_ns() { date +%s%N; }

make_log
trap 'echo >&2; die "interrupted; $OUTPUT is incomplete"' INT TERM

# videoconvert passes the frames through untouched when mnv3classify takes
# the decoder's format (I420, NV12, RGB...) and converts the others (4:2:2
# JPEG, 4:4:4 Theora, 16-bit PNG). mnv3jsonsink does not sync to the clock,
# so nothing is late and nothing is dropped.
start=$(now_ns)
gst-launch-1.0 -q filesrc location="$INPUT" ! decodebin ! videoconvert \
  ! mnv3classify config="$CONFIG" "${PROPS[@]}" \
  ! mnv3jsonsink location="$OUTPUT" >/dev/null 2>"$log" &
pid=$!

if [ -t 2 ]; then progress_every=1; eol='\r\033[K'; else progress_every=10; eol='\n'; fi
show_progress() {
  local done elapsed rate left
  done=$( (wc -l <"$OUTPUT") 2>/dev/null) || done=0
  elapsed=$(( ($(now_ns) - start) / 1000000 ))   # ms
  [ "$elapsed" -gt 0 ] || elapsed=1
  rate=$(awk -v n="$done" -v ms="$elapsed" 'BEGIN { printf "%.1f", n * 1000 / ms }')
  if [ -n "$total" ] && [ "$total" -gt 0 ]; then
    left=$(awk -v n="$done" -v t="$total" -v ms="$elapsed" 'BEGIN {
      if (n == 0) { print "?"; exit }
      s = (t > n ? t - n : 0) * ms / n / 1000; printf "%dm%02ds", s / 60, s % 60 }')
    printf "$eol%s: %d/%d frames (%d%%), %s frames/s, %s left" "$PROG" "$done" \
      "$total" $(( done * 100 / total > 100 ? 100 : done * 100 / total )) \
      "$rate" "$left" >&2
  else
    printf "$eol%s: %d frames, %s frames/s" "$PROG" "$done" "$rate" >&2
  fi
}

ticks=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  ticks=$((ticks + 1))
  if [ $((ticks % progress_every)) -eq 0 ]; then show_progress; fi
done
wait "$pid"
rc=$?
pid=
elapsed_ns=$(( $(now_ns) - start ))
[ "$ticks" -ge "$progress_every" ] && echo >&2

if [ "$rc" -ne 0 ]; then
  cat "$log" >&2
  die "labelling $INPUT failed (gst-launch-1.0 exited with $rc)"
fi
# Warnings do not fail the run but are worth seeing.
[ -s "$log" ] && cat "$log" >&2

# ---- summary --------------------------------------------------------------

frames=$(wc -l <"$OUTPUT")
[ "$frames" -gt 0 ] || die "no frame was decoded from $INPUT: is it a video or an image?"

echo "$PROG: $frames frames of $INPUT labelled in $OUTPUT" >&2
awk -v n="$frames" -v ns="$elapsed_ns" 'BEGIN {
  printf "  %.1f ms per frame on average (%.2f s in all, model loading included)\n",
    ns / n / 1e6, ns / 1e9 }' >&2
if [ -n "$total" ] && [ "$total" -ne "$frames" ]; then
  echo "  (the container announced about $total frames)" >&2
fi
echo "  top labels (best class of a frame, by number of frames):" >&2
# The records' layout is fixed by mnv3jsonsink, so sed can take the first
# (best) class of each without a JSON parser.
sed -n 's/.*"classification": \[{"label_id": \([0-9-]*\), "label": "\(\([^"\\]\|\\.\)*\)".*/\1 \2/p' \
  "$OUTPUT" | sort | uniq -c | sort -k1,1nr -k2,2n | head -n 10 |
  awk -v n="$frames" '{
    count = $1; id = $2; $1 = ""; $2 = ""; sub(/^ +/, "")
    printf "  %6d frames (%5.1f%%)  %4d %s\n", count, count * 100 / n, id, $0 }' >&2
unlabelled=$(grep -c '"classification": \[\]' "$OUTPUT")
[ "$unlabelled" -gt 0 ] && echo "  $unlabelled frames with no class over the threshold" >&2
exit 0
