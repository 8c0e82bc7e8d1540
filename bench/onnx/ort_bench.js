// Times one ONNX model in ONNX Runtime (onnxruntime-node, CPU) for
// bench/compare.py; prints one JSON line.
//
//   node ort_bench.js MODEL.onnx INPUT.f32 N,C,H,W EXPECTED.f32 THREADS WARMUP RUNS [TOLERANCE]
//                     [--output OUT.f32] [--optimized OPT.onnx]
//
// INPUT.f32 and EXPECTED.f32 are raw little-endian float32 (the input and
// PyTorch eager's output for it). The output is checked before timing: if it
// differs from EXPECTED by more than TOLERANCE (relative to EXPECTED's
// largest magnitude) the line reports the mismatch and no time, because a
// wrong graph's speed means nothing. EXPECTED '-' skips the check, for 8-bit
// models whose output only approximates the float one: --output writes the
// first run's output for the caller to judge. --optimized writes the graph
// that ONNX Runtime runs after its optimisations (e.g. QDQ groups fused into
// QLinearConv) and reports the count of each op type in it as op_types.
'use strict';

const fs = require('fs');
const path = require('path');

function die(message) {
  process.stderr.write(`ort_bench.js: ${message}\n`);
  process.exit(2);
}

function readF32(file) {
  const buf = fs.readFileSync(file);
  if (buf.length % 4)
    die(`${file}: size ${buf.length} is not a multiple of 4 (expected raw float32)`);
  // Copy into an aligned buffer: Node's Buffer may share an unaligned pool.
  const out = new Float32Array(buf.length / 4);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

// Walks the protobuf fields in buf[start, end): calls visit(field, a, b) for
// each length-delimited value, which lies in buf[a, b). Enough of the wire format to
// read op types out of a ModelProto without an ONNX library.
function protoFields(buf, start, end, visit) {
  let i = start;
  const varint = () => {
    let v = 0, scale = 1, byte;
    do {
      if (i >= end) die('optimized model: truncated protobuf');
      byte = buf[i++];
      v += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    return v;
  };
  while (i < end) {
    const key = varint(), field = Math.floor(key / 8), wire = key % 8;
    if (wire === 0) varint();
    else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else if (wire === 2) {
      const n = varint();
      visit(field, i, i + n);
      i += n;
    } else die(`optimized model: protobuf wire type ${wire} is not handled`);
  }
}

// {op type: count} of the top-level graph of an ONNX file (ModelProto.graph
// is field 7, GraphProto.node field 1, NodeProto.op_type field 4).
function opTypes(file) {
  const buf = fs.readFileSync(file), counts = {};
  protoFields(buf, 0, buf.length, (field, a, b) => {
    if (field !== 7) return;
    protoFields(buf, a, b, (field, a, b) => {
      if (field !== 1) return;
      protoFields(buf, a, b, (field, a, b) => {
        if (field !== 4) return;
        const op = buf.toString('utf8', a, b);
        counts[op] = (counts[op] || 0) + 1;
      });
    });
  });
  return counts;
}

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    die(`cannot load onnxruntime-node (${e.message}); install it with ` +
        `'npm install --ignore-scripts' in ${__dirname}`);
  }
}

async function main() {
  const args = [], options = {};
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--output' || argv[i] === '--optimized') {
      if (i + 1 >= argv.length) die(`${argv[i]} needs a file name`);
      options[argv[i].slice(2)] = argv[++i];
    } else {
      args.push(argv[i]);
    }
  }
  if (args.length < 7 || args.length > 8)
    die('usage: node ort_bench.js MODEL.onnx INPUT.f32 N,C,H,W EXPECTED.f32|- ' +
        'THREADS WARMUP RUNS [TOLERANCE] [--output OUT.f32] [--optimized OPT.onnx]');
  const [modelPath, inputPath, shapeText, expectedPath] = args;
  const threads = parseInt(args[4], 10);
  const warmup = parseInt(args[5], 10);
  const runs = parseInt(args[6], 10);
  const tolerance = args[7] ? parseFloat(args[7]) : 1e-4;
  const shape = shapeText.split(',').map((s) => parseInt(s, 10));
  if (shape.length !== 4 || shape.some((v) => !(v > 0)))
    die(`shape must be N,C,H,W with positive numbers, got '${shapeText}'`);
  if (!(threads >= 1) || !(warmup >= 0) || !(runs >= 1))
    die('THREADS and RUNS must be >= 1 and WARMUP >= 0');

  const ort = loadOrt();
  const input = readF32(inputPath);
  if (input.length !== shape.reduce((a, b) => a * b, 1))
    die(`${inputPath} holds ${input.length} floats, shape ${shapeText} needs ` +
        `${shape.reduce((a, b) => a * b, 1)}`);
  const expected = expectedPath === '-' ? null : readF32(expectedPath);

  const sessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  if (options.optimized)
    sessionOptions.optimizedModelFilePath = options.optimized;
  const session = await ort.InferenceSession.create(modelPath, sessionOptions);
  const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', input, shape)};
  const outName = session.outputNames[0];

  const result = {
    engine: 'onnxruntime-node',
    version: ort.env.versions ? ort.env.versions.node : 'unknown',
    model: path.basename(modelPath),
    threads,
    warmup,
    runs,
  };
  if (options.optimized)
    result.op_types = opTypes(options.optimized);

  const first = (await session.run(feeds))[outName].data;
  if (options.output)
    fs.writeFileSync(options.output, new Uint8Array(first.buffer, first.byteOffset,
                                                    first.byteLength));
  let maxDiff = 0, maxRef = 0;
  if (expected && first.length !== expected.length) {
    maxDiff = Infinity;
  } else if (expected) {
    for (let i = 0; i < first.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(first[i] - expected[i]));
      maxRef = Math.max(maxRef, Math.abs(expected[i]));
    }
  }
  result.max_rel_diff = expected ? maxDiff / Math.max(maxRef, 1e-30) : null;
  if (expected && !(result.max_rel_diff <= tolerance)) {
    result.mismatch = first.length !== expected.length
        ? `output has ${first.length} values, torch eager ${expected.length}`
        : `output differs from torch eager: max |diff| ${maxDiff} ` +
          `(${result.max_rel_diff} of max |ref| ${maxRef})`;
    console.log(JSON.stringify(result));
    return;
  }

  // The check above counts as the first warm-up run.
  for (let i = 1; i < warmup; i++)
    await session.run(feeds);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  result.median_ms = times[Math.floor(runs / 2)];
  result.min_ms = times[0];
  console.log(JSON.stringify(result));
}

main().catch((e) => die(e.stack || String(e)));
