#!/bin/bash
# Live dashboard: a camera (or a test pattern, or a file played in real time)
# with the best ImageNet class drawn on it and, given a segmentation model,
# its segmentation blended over the picture.
#
#   pipelines/camera-dashboard.sh [OPTIONS] [CONFIG_CLASSIFY] [CONFIG_SEGMENT]
#   pipelines/camera-dashboard.sh --web PORT [--listen ADDR] [--input FILE]... [--device DEV]... [CONFIG_CLASSIFY] [CONFIG_SEGMENT]
#
# With --web, a page at http://127.0.0.1:PORT/ shows each source's video
# with the overlays (MJPEG), its top classes as they are inferred, the
# best class (and the segmentation's class fractions) over the
# last five minutes, and the elements' statistics; files loop there, and
# every --input and --device is one more camera on the page. The server is
# pipelines/dashboard/server.py (Python, GStreamer in-process); Ctrl-C or
# SIGTERM stops it and its pipelines.
#
# Source: /dev/video0 (v4l2src) when it exists, else a live 1280x720 30 fps
# videotestsrc; --input FILE plays a recorded video instead (in real time).
# Both elements run in live mode: when the network cannot keep up with the
# frame rate, frames that would be late skip inference and show the last
# result (marked stale in the metadata); no frame is dropped.
#
# CONFIG_CLASSIFY defaults to configs/mobilenet_v3_small_tfslim_uint8.yaml
# (install its weights with models/fetch). Without CONFIG_SEGMENT only
# classification runs. No pretrained LR-ASPP weights exist in this project;
# for a demo, make a seeded random one with
#     python3 tests/gst/make_lraspp.py /tmp/lraspp
# and pass /tmp/lraspp/lraspp.yaml: its masks are meaningless (random
# weights), it only shows the pipeline working and what it costs.
#
# Options:
#   --input FILE      play FILE (anything decodebin reads) instead of a camera
#   --device DEV      the V4L2 camera (default /dev/video0)
#   --web PORT        serve the dashboard page on PORT instead of a window
#   --listen ADDR     the address it listens on (default 127.0.0.1, this
#                     machine only; 0.0.0.0 opens it to the network)
#   --quality Q       the web video's JPEG quality (default 80)
#   --test-pattern    use the videotestsrc even when a camera exists
#   --headless        fakesink instead of a window (CI, benchmarks)
#   --num-buffers N   stop after N frames (default: run until Ctrl-C)
#   --threads N       threads per inference (default 0: automatic, see
#                     gst-inspect-1.0 mnv3classify)
#   --stats SECONDS   print the elements' statistics this often (default 5)
#
# The plugin is found as for label-video.sh (MNV3_BUILD_DIR, GST_PLUGIN_PATH,
# the installed plugins, <repo>/build/gst). At the end the statistics of each
# element are printed: frames, how many were inferred and skipped, and the
# inference time.
set -u

PROG=camera-dashboard
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

INPUTS=()
DEVICES=()
WEB=
LISTEN=127.0.0.1
QUALITY=80
TEST_PATTERN=0
HEADLESS=0
NUM_BUFFERS=-1
THREADS=0
STATS=5
CONFIGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage ;;
    --input) [ $# -ge 2 ] || die "--input needs a file"; INPUTS+=("$2"); shift ;;
    --device) [ $# -ge 2 ] || die "--device needs a device"; DEVICES+=("$2"); shift ;;
    --web)
      [[ "${2:-}" =~ ^[0-9]+$ ]] && [ "$2" -ge 1 ] && [ "$2" -le 65535 ] ||
        die "--web needs a TCP port (1-65535)"
      WEB=$2; shift ;;
    --listen) [ $# -ge 2 ] || die "--listen needs an address"; LISTEN=$2; shift ;;
    --quality)
      [[ "${2:-}" =~ ^[0-9]+$ ]] && [ "$2" -le 100 ] || die "--quality needs a JPEG quality (0-100)"
      QUALITY=$2; shift ;;
    --test-pattern) TEST_PATTERN=1 ;;
    --headless) HEADLESS=1 ;;
    --num-buffers)
      [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || die "--num-buffers needs a number of frames > 0"
      NUM_BUFFERS=$2; shift ;;
    --threads)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--threads needs a number (0 = automatic)"
      THREADS=$2; shift ;;
    --stats)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || die "--stats needs a number of seconds (0 = only at the end)"
      STATS=$2; shift ;;
    --) shift; CONFIGS+=("$@"); break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) CONFIGS+=("$1") ;;
  esac
  shift
done
[ ${#CONFIGS[@]} -le 2 ] || die "too many arguments: [CONFIG_CLASSIFY] [CONFIG_SEGMENT] (see --help)"
CONFIG_CLASSIFY=${CONFIGS[0]:-$REPO/configs/mobilenet_v3_small_tfslim_uint8.yaml}
CONFIG_SEGMENT=${CONFIGS[1]:-}

check_config "$CONFIG_CLASSIFY"
[ -z "$CONFIG_SEGMENT" ] || check_config "$CONFIG_SEGMENT"
for f in "${INPUTS[@]}"; do
  [ -f "$f" ] || die "$f: no such file"
  [ -r "$f" ] || die "$f: not readable"
done
find_plugin mnv3classify mnv3segment mnv3jsonsink
require_elements videoconvert queue

# ---- the web dashboard ---------------------------------------------------------

if [ -n "$WEB" ]; then
  [ "$HEADLESS" = 0 ] && [ "$NUM_BUFFERS" = -1 ] ||
    die "--headless and --num-buffers are for the window, not --web"
  require_elements jpegenc appsink tee
  find_python_gi
  web_sources=()
  for f in "${INPUTS[@]}"; do web_sources+=(--input "$f"); done
  for d in "${DEVICES[@]}"; do
    [ -e "$d" ] || die "$d: no such camera device"
    web_sources+=(--device "$d")
  done
  # No source given: the camera if there is one, else the test pattern.
  if [ ${#web_sources[@]} = 0 ]; then
    if [ "$TEST_PATTERN" = 0 ] && [ -e /dev/video0 ]; then
      web_sources=(--device /dev/video0)
    else
      web_sources=(--test-pattern)
    fi
  fi
  [ ${#INPUTS[@]} = 0 ] || require_elements decodebin
  [[ " ${web_sources[*]} " != *" --device "* ]] || require_elements v4l2src
  [[ " ${web_sources[*]} " != *" --test-pattern "* ]] || require_elements videotestsrc
  # exec: the server is this process, so stopping the script stops it.
  exec "$PYTHON_GI" "$REPO/pipelines/dashboard/server.py" --port "$WEB" --listen "$LISTEN" \
    --threads "$THREADS" --quality "$QUALITY" "${web_sources[@]}" \
    "$CONFIG_CLASSIFY" ${CONFIG_SEGMENT:+"$CONFIG_SEGMENT"}
fi
[ ${#INPUTS[@]} -le 1 ] && [ ${#DEVICES[@]} -le 1 ] ||
  die "several sources need --web: the window shows one"
INPUT=${INPUTS[0]:-}
DEVICE=${DEVICES[0]:-/dev/video0}

# ---- the pipeline ------------------------------------------------------------

if [ -n "$INPUT" ]; then
  source_desc=(filesrc location="$INPUT" ! decodebin ! videoconvert)
  what="$INPUT"
elif [ "$TEST_PATTERN" = 0 ] && [ -e "$DEVICE" ]; then
  require_elements v4l2src
  # The camera's own format (often YUY2) goes through videoconvert.
  source_desc=(v4l2src device="$DEVICE" ! videoconvert)
  what="camera $DEVICE"
else
  require_elements videotestsrc
  source_desc=(videotestsrc is-live=true pattern=ball
    ! video/x-raw,width=1280,height=720,framerate=30/1)
  what="live test pattern 1280x720 30 fps"
fi
# --num-buffers: a file stops through the decoded frames' count (filesrc's
# num-buffers counts blocks), the others at the source.
limit=()
if [ "$NUM_BUFFERS" -gt 0 ]; then
  if [ -n "$INPUT" ]; then
    limit=(! identity eos-after="$NUM_BUFFERS")
  else
    source_desc=("${source_desc[0]}" num-buffers="$NUM_BUFFERS" "${source_desc[@]:1}")
  fi
fi

stats_every=$STATS
[ "$stats_every" -gt 0 ] || stats_every=3600   # still posted at the end
common=(mode=live threads="$THREADS" stats-interval="$stats_every")
elements=(! mnv3classify config="$CONFIG_CLASSIFY" overlay=true "${common[@]}")
[ -z "$CONFIG_SEGMENT" ] ||
  elements+=(! mnv3segment config="$CONFIG_SEGMENT" overlay=true "${common[@]}")

if [ "$HEADLESS" = 1 ]; then
  sink=(fakesink sync=true)
else
  require_elements autovideosink
  sink=(autovideosink)
fi

# The queue gives the sink its own thread: while it waits for a frame's
# moment, the networks already work on the next frames. Unbounded in frames
# and bytes: its fill is bounded by the latency the elements report.
launch=(gst-launch-1.0 -e -m "${source_desc[@]}" "${limit[@]}" "${elements[@]}"
  ! queue max-size-buffers=0 max-size-bytes=0 max-size-time=5000000000
  ! videoconvert ! "${sink[@]}")

make_log
# Ctrl-C: gst-launch-1.0 -e turns it into an end of stream, so the final
# statistics are still posted.
trap '[ -n "$pid" ] && kill -INT "$pid" 2>/dev/null' INT TERM

echo "$PROG: $what, classification with $CONFIG_CLASSIFY${CONFIG_SEGMENT:+,
  segmentation with $CONFIG_SEGMENT}" >&2
start=$(date +%s%N)
"${launch[@]}" >"$log" 2>&1 &
pid=$!

# Periodic statistics, as the elements post them.
shown=0
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  if [ "$STATS" -gt 0 ]; then
    lines=$(grep -c 'mnv3-stats' "$log")
    if [ "$lines" -gt "$shown" ]; then
      grep 'mnv3-stats' "$log" | tail -n +"$((shown + 1))" |
        sed 's/^Got message #[0-9]* from element "\([^"]*\)" (element): mnv3-stats, /  \1: /; s/=([a-z0-9]*)/=/g; s/;$//' >&2
      shown=$lines
    fi
  fi
done
wait "$pid"
rc=$?
pid=
elapsed_ns=$(( $(date +%s%N) - start ))

if [ "$rc" -ne 0 ] || grep -q '^ERROR:' "$log"; then
  grep -v '^Got message' "$log" >&2
  die "the pipeline failed (gst-launch-1.0 exited with $rc)"
fi
echo "$PROG: done in $(awk -v ns="$elapsed_ns" 'BEGIN { printf "%.2f", ns / 1e9 }') s (model loading included)" >&2
print_stats "$log" >&2
exit 0
