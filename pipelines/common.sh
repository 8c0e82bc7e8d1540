# Shared by the pipelines/ scripts (sourced, not run). Expects PROG to be set.
#
# The plugin is taken, in this order, from $MNV3_BUILD_DIR/gst when
# MNV3_BUILD_DIR is set, from GST_PLUGIN_PATH when it is set, from the
# installed plugins, and else from <repo>/build/gst.

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

die() {
  echo "$PROG: $*" >&2
  exit 1
}

# The comment block at the top of the calling script, as help.
usage() {
  sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0" >&2
  exit 2
}

# Sets $log to a new temporary file for gst-launch-1.0's output and $pid
# (the pipeline's process, once started) empty; at exit the pipeline, if
# still running, is stopped and the log removed.
make_log() {
  log=$(mktemp "${TMPDIR:-/tmp}/$PROG.XXXXXX") || die "cannot create a temporary file"
  pid=
  trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -f "$log"' EXIT
}

have_element() {
  # Not --exists: it also compares the plugin's version with GStreamer's.
  gst-inspect-1.0 "$1" >/dev/null 2>&1
}

# find_plugin ELEMENT...: sets GST_PLUGIN_PATH so that the mnv3 elements are
# found, or dies saying how to build them.
find_plugin() {
  local e
  command -v gst-launch-1.0 >/dev/null ||
    die "gst-launch-1.0 not found: install gstreamer1.0-tools"
  if [ -n "${MNV3_BUILD_DIR:-}" ]; then
    export GST_PLUGIN_PATH="$MNV3_BUILD_DIR/gst"
  elif [ -z "${GST_PLUGIN_PATH:-}" ] && ! have_element "$1"; then
    export GST_PLUGIN_PATH="$REPO/build/gst"
  fi
  for e in "$@"; do
    have_element "$e" ||
      die "the mnv3 GStreamer plugin ($e) was not found in" \
        "${GST_PLUGIN_PATH:-the installed plugins}: build it" \
        "(meson setup build && ninja -C build) or set MNV3_BUILD_DIR to your" \
        "build folder"
  done
}

# require_elements ELEMENT...: dies naming the Debian package to install.
require_elements() {
  local e
  for e in "$@"; do
    have_element "$e" && continue
    case "$e" in
      vp8enc|matroskamux|matroskademux|jpegenc|v4l2src|autovideosink)
        die "GStreamer element $e not found: install gstreamer1.0-plugins-good" ;;
      *) die "GStreamer element $e not found: install gstreamer1.0-plugins-base" ;;
    esac
  done
}

# check_config CONFIG: the config exists and so do the weights it names
# (model.weights is relative to the config's folder).
check_config() {
  local config=$1 weights
  [ -f "$config" ] || die "$config: no such model config (see the configs/ folder)"
  weights=$(sed -n 's/^[[:space:]]*weights:[[:space:]]*//p' "$config" | head -n 1 |
    sed 's/[[:space:]]*#.*$//; s/^"\(.*\)"$/\1/; s/^'"'"'\(.*\)'"'"'$/\1/')
  if [ -n "$weights" ] && [[ "$weights" != /* ]]; then
    weights=$(realpath -m "$(dirname "$config")/$weights")
  fi
  if [ -n "$weights" ] && [ ! -f "$weights" ]; then
    if [[ "$weights" == *.tflite ]]; then
      die "the model $weights is not installed: run models/fetch" \
        "(or models/fetch --from DIR with a folder holding the .tflite files)"
    fi
    die "the model weights $weights (from $config) do not exist"
  fi
}

# Prints the totals of every "mnv3-stats" message with eos=true from a
# gst-launch-1.0 -m log, one line per element.
print_stats() {
  sed -n 's/^Got message #[0-9]* from element "\([^"]*\)" (element): mnv3-stats, \(.*eos=(boolean)true.*\);$/\1 \2/p' "$1" |
    sed 's/=([a-z0-9]*)/=/g' |
    awk '{
      name = $1; $1 = ""
      n = split($0, kv, ", *")
      for (i = 1; i <= n; i++) { split(kv[i], p, "="); gsub(/ /, "", p[1]); v[p[1]] = p[2] }
      printf "  %s: %d frames at %.1f fps, %d inferred, %d skipped (late), inference %.1f ms mean, %.1f ms max, %s mode\n",
        name, v["frames-in"], v["average-fps"], v["frames-inferred"], v["frames-skipped"],
        v["mean-inference-ms"], v["max-inference-ms"], v["live"] == "true" ? "live" : "batch"
    }'
}

# Sets $PYTHON_GI to a Python that has GStreamer's bindings: $PYTHON when
# set, else Debian's (a python3 earlier in PATH, from pyenv or a virtualenv,
# often lacks python3-gi), else python3; or dies naming the packages.
find_python_gi() {
  local py
  for py in ${PYTHON:-} /usr/bin/python3 python3; do
    if "$py" -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null; then
      PYTHON_GI=$py
      return
    fi
  done
  die "no python3 with GStreamer's bindings: install python3-gi and gir1.2-gstreamer-1.0"
}
