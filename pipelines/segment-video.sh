#!/bin/bash
# Writes a recorded video back with its segmentation painted on it.
#
#   pipelines/segment-video.sh [--encoder vp8|mjpeg] INPUT OUTPUT.mkv CONFIG [PROPERTY=VALUE ...]
#
# INPUT is anything decodebin reads; every decoded frame goes through
# mnv3segment overlay=true in batch mode (nothing skipped, whatever the
# speed) and is encoded into OUTPUT, a Matroska file with the same frames and
# timestamps (audio is not kept). CONFIG is an LR-ASPP model config. No
# pretrained LR-ASPP weights exist in this project; for a demo, make a seeded
# random one with
#     python3 tests/gst/make_lraspp.py /tmp/lraspp
# and pass /tmp/lraspp/lraspp.yaml: its masks are meaningless (random
# weights), it only shows the pipeline working.
#
# Further PROPERTY=VALUE arguments go to mnv3segment, e.g. alpha=0.4
# classes=person threads=2 (alpha=1 paints the colours opaquely).
#
# --encoder: vp8 (default; vp8enc, gstreamer1.0-plugins-good) or mjpeg
# (jpegenc, larger files, faster). The plugin is found as for label-video.sh
# (MNV3_BUILD_DIR, GST_PLUGIN_PATH, the installed plugins, <repo>/build/gst).
set -u

PROG=segment-video
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

ENCODER=vp8
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage ;;
    --encoder) [ $# -ge 2 ] || die "--encoder needs vp8 or mjpeg"; ENCODER=$2; shift 2 ;;
    --) shift; break ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) break ;;
  esac
done
[ $# -ge 3 ] || usage
INPUT=$1
OUTPUT=$2
CONFIG=$3
shift 3
PROPS=("$@")
for p in "${PROPS[@]}"; do
  [[ "$p" == *=* ]] || die "'$p' is not a PROPERTY=VALUE for mnv3segment"
done

case "$ENCODER" in
  vp8)
    # Realtime deadline: good enough quality at a fraction of the time; a
    # bitrate that keeps the painted edges sharp at SD sizes.
    encoder=(vp8enc deadline=1 cpu-used=4 target-bitrate=4000000 keyframe-max-dist=60)
    encoder_element=vp8enc ;;
  mjpeg)
    encoder=(jpegenc quality=90)
    encoder_element=jpegenc ;;
  *) die "unknown encoder '$ENCODER': use vp8 or mjpeg" ;;
esac

[ -f "$INPUT" ] || die "$INPUT: no such file"
[ -r "$INPUT" ] || die "$INPUT: not readable"
case "$OUTPUT" in *.mkv) ;; *) die "$OUTPUT: the output is a Matroska file, name it .mkv" ;; esac
out_dir=$(dirname "$OUTPUT")
[ -d "$out_dir" ] || die "$OUTPUT: the folder $out_dir does not exist"
[ -w "$out_dir" ] || die "$OUTPUT: the folder $out_dir is not writable"
check_config "$CONFIG"
find_plugin mnv3segment
require_elements decodebin videoconvert matroskamux "$encoder_element"

make_log
trap 'echo >&2; die "interrupted; $OUTPUT is incomplete"' INT TERM

# mode=batch: a file is not live, so auto would choose it too; said here
# because a skipped frame would show a stale mask. The first videoconvert
# converts only what mnv3segment does not read (4:2:2, 4:4:4); the second
# gives the encoder I420.
start=$(date +%s%N)
gst-launch-1.0 -m filesrc location="$INPUT" ! decodebin ! videoconvert \
  ! mnv3segment config="$CONFIG" overlay=true mode=batch stats-interval=3600 "${PROPS[@]}" \
  ! videoconvert ! video/x-raw,format=I420 ! "${encoder[@]}" \
  ! matroskamux ! filesink location="$OUTPUT" >"$log" 2>&1 &
pid=$!
wait "$pid"
rc=$?
pid=
elapsed_ns=$(( $(date +%s%N) - start ))

if [ "$rc" -ne 0 ] || grep -q '^ERROR:' "$log"; then
  grep -v '^Got message' "$log" >&2
  die "segmenting $INPUT failed (gst-launch-1.0 exited with $rc)"
fi
grep -q 'mnv3-stats' "$log" || die "no frame was decoded from $INPUT: is it a video?"
echo "$PROG: $INPUT segmented into $OUTPUT in $(awk -v ns="$elapsed_ns" \
  'BEGIN { printf "%.2f", ns / 1e9 }') s (model loading included)" >&2
print_stats "$log" >&2
exit 0
