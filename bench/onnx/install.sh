#!/bin/sh
# Installs onnxruntime-node (CPU binaries included in the npm package) into
# bench/onnx/node_modules for bench/compare.py. --ignore-scripts: the
# package's install script would download GPU libraries, which we neither
# need nor can fetch.
set -eu
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
if ! find node_modules/onnxruntime-node -path '*linux/x64*' -name '*.node' | grep -q .; then
  echo "install.sh: onnxruntime-node has no linux/x64 binding in node_modules" >&2
  exit 1
fi
node -e "console.log('onnxruntime-node', require('onnxruntime-node').env.versions.node)"
