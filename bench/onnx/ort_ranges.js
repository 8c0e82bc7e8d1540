// The value distribution of every output of an ONNX model over calibration
// inputs, for bench/onnx/make_qdq.py; prints one JSON object.
//
//   node ort_ranges.js MODEL.onnx N,C,H,W BINS INPUT.f32...
//
// MODEL is the float model with every tensor to be measured made a graph
// output. For each output: its min and max over all inputs, and a histogram
// of BINS equal bins over [min, max], computed as engine/src/calibrate.c does
// (float32 arithmetic, a value's bin truncated and clamped), so that the
// ranges chosen from it are chosen the same way. Two passes over the inputs,
// as there: the bins need the extremes first.
'use strict';

const fs = require('fs');

function die(message) {
  process.stderr.write(`ort_ranges.js: ${message}\n`);
  process.exit(2);
}

function readF32(file) {
  const buf = fs.readFileSync(file);
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf.subarray(0, out.length * 4));
  return out;
}

async function main() {
  const [modelPath, shapeText, binsText, ...inputPaths] = process.argv.slice(2);
  const shape = (shapeText || '').split(',').map((s) => parseInt(s, 10));
  const bins = parseInt(binsText, 10);
  if (!inputPaths.length || shape.length !== 4 || !(bins > 0))
    die('usage: node ort_ranges.js MODEL.onnx N,C,H,W BINS INPUT.f32...');
  const ort = require('onnxruntime-node');
  // Unoptimised: the measured tensors are the float graph's own.
  const session = await ort.InferenceSession.create(modelPath, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'disabled',
  });
  const size = shape.reduce((a, b) => a * b, 1);
  const inputs = inputPaths.map((p) => {
    const x = readF32(p);
    if (x.length !== size) die(`${p} holds ${x.length} floats, shape ${shapeText} needs ${size}`);
    return x;
  });
  const run = async (x) =>
    session.run({[session.inputNames[0]]: new ort.Tensor('float32', x, shape)});

  const stats = {};
  for (const name of session.outputNames)
    stats[name] = {min: Infinity, max: -Infinity, histogram: new Float64Array(bins)};
  for (const x of inputs) {
    const out = await run(x);
    for (const name of session.outputNames) {
      const s = stats[name], v = out[name].data;
      for (let i = 0; i < v.length; i++) {
        if (v[i] < s.min) s.min = v[i];
        if (v[i] > s.max) s.max = v[i];
      }
    }
  }
  const f = Math.fround;
  for (const x of inputs) {
    const out = await run(x);
    for (const name of session.outputNames) {
      const s = stats[name], v = out[name].data, h = s.histogram;
      const lo = s.min, width = f(f(s.max - lo) / bins);
      for (let i = 0; i < v.length; i++) {
        const b = width > 0 ? Math.trunc(f(f(v[i] - lo) / width)) : 0;
        h[b < 0 ? 0 : b >= bins ? bins - 1 : b]++;
      }
    }
  }
  const result = {};
  for (const [name, s] of Object.entries(stats))
    result[name] = {min: s.min, max: s.max, histogram: Array.from(s.histogram)};
  console.log(JSON.stringify(result));
}

main().catch((e) => die(e.stack || String(e)));
