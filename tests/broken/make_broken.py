#!/usr/bin/env python3
"""Writes tests/broken/files/: deliberately broken weight files and configs,
and MANIFEST, which says what each must produce. Run it after changing a
case; the outputs are committed (small: the biggest is the 67 KB valid
model). Needs torch and torchvision for the valid tiny model.

MANIFEST rows, tab-separated:  CONFIG  WEIGHTS  EXPECTED
  CONFIG   a config in files/;
  WEIGHTS  a file in files/, "@shared/<path>" for a file of ../shared, or
           "-" for none (the config's own model.weights, if any);
  EXPECTED a substring the error message must contain, or "OK" when the
           model must load (the controls, which prove the harness can pass).
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FILES = os.path.join(HERE, "files")
SHARED_MODELS = os.path.join(ROOT, "..", "shared", "models")
sys.path.insert(0, os.path.join(ROOT, "models"))
import safetensors_io  # noqa: E402

TINY = "tiny.yaml"          # mobilenet_v3_small, width 0.1, 2 classes
RELEASED = "released.yaml"  # the network of the released .tflite models
UINT8 = "v3-small_224_1.0_uint8.tflite"

rows = []


def write(name, data):
    mode = "w" if isinstance(data, str) else "wb"
    with open(os.path.join(FILES, name), mode) as f:
        f.write(data)


def case(config, weights, expected):
    rows.append((config, weights, expected))


def safetensors(header, data=b"", length=None):
    """Raw safetensors bytes: header may be a dict or already-encoded bytes."""
    text = header if isinstance(header, bytes) else json.dumps(header).encode()
    n = len(text) if length is None else length
    return struct.pack("<Q", n) + text + data


def f32(*values):
    return struct.pack("<%df" % len(values), *values)


# ---- configs ----------------------------------------------------------------

def configs():
    write(TINY, "model:\n  architecture: mobilenet_v3_small\n"
                "  width-multiplier: 0.1\n  num-classes: 2\n"
                "input:\n  size: [64, 64]\n")
    write(RELEASED, "model:\n  architecture: mobilenet_v3_small\n"
                    "  num-classes: 1001\n  background-class: true\n"
                    "input:\n  size: [224, 224]\n"
                    "  mean: [0.5, 0.5, 0.5]\n  std: [0.5, 0.5, 0.5]\n")
    write("ten-classes.yaml", "model:\n  architecture: mobilenet_v3_small\n"
                              "  num-classes: 10\n")


# ---- safetensors --------------------------------------------------------------

def tiny_state():
    import torch
    import torchvision
    torch.manual_seed(0)
    model = torchvision.models.mobilenet_v3_small(width_mult=0.1, num_classes=2)
    state = model.state_dict()
    for key, value in state.items():
        if key.endswith("running_var"):
            value.copy_(torch.rand_like(value) + 0.5)
    return state


def first_conv(var=1.0, weight=0.1, gamma=1.0, dtype="F32"):
    """Only the first conv + BN of the tiny network (features.0): enough for
    every check the loader makes before it moves to the next op."""
    names = ["features.0.0.weight", "features.0.1.weight", "features.0.1.bias",
             "features.0.1.running_mean", "features.0.1.running_var"]
    shapes = [[8, 3, 3, 3], [8], [8], [8], [8]]
    fill = [weight, gamma, 0.0, 0.0, var]
    header, data = {}, b""
    for name, shape, value in zip(names, shapes, fill):
        count = 1
        for d in shape:
            count *= d
        raw = f32(*[value] * count)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return header, data


def safetensors_cases():
    state = tiny_state()
    valid = "valid-tiny-f16.safetensors"
    safetensors_io.save(state, os.path.join(FILES, valid), dtype="F16")
    case(TINY, valid, "OK")
    whole = open(os.path.join(FILES, valid), "rb").read()
    header_len = struct.unpack("<Q", whole[:8])[0]

    # Truncated in every section.
    write("st-empty.safetensors", b"")
    case(TINY, "st-empty.safetensors", "too short for the 8-byte header length")
    write("st-cut-in-length.safetensors", whole[:5])
    case(TINY, "st-cut-in-length.safetensors", "file is 5 bytes, too short")
    write("st-cut-in-header.safetensors", whole[:8 + header_len // 2])
    case(TINY, "st-cut-in-header.safetensors",
         "header length %d is larger than the %d bytes after it"
         % (header_len, header_len // 2))
    write("st-cut-after-header.safetensors", whole[:8 + header_len])
    case(TINY, "st-cut-after-header.safetensors",
         "go past the end of the data section (0 bytes)")
    write("st-cut-in-data.safetensors", whole[:8 + header_len + 100])
    case(TINY, "st-cut-in-data.safetensors",
         "go past the end of the data section (100 bytes): the file is truncated")
    # A header length beyond the file, and beyond any sane header.
    write("st-length-huge.safetensors", safetensors(b"{}", length=1 << 63))
    case(TINY, "st-length-huge.safetensors",
         "header length 9223372036854775808 is larger than the 2 bytes after it")

    # Header contents.
    write("st-not-json.safetensors", safetensors(b'{"a": [1, 2'))
    case(TINY, "st-not-json.safetensors", "header is not valid JSON")
    write("st-json-array.safetensors", safetensors(b"[1, 2]"))
    case(TINY, "st-json-array.safetensors", "header JSON must be an object")
    write("st-trailing-garbage.safetensors", safetensors(b"{}  x"))
    case(TINY, "st-trailing-garbage.safetensors",
         "unexpected bytes after the header JSON (at byte 4")
    write("st-metadata-list.safetensors", safetensors({"__metadata__": [1]}))
    case(TINY, "st-metadata-list.safetensors", '"__metadata__" must be an object')
    write("st-entry-number.safetensors", safetensors({"w": 3}))
    case(TINY, "st-entry-number.safetensors", "header entry 'w' is not an object")
    write("st-entry-no-dtype.safetensors",
          safetensors({"w": {"shape": [1], "data_offsets": [0, 4]}}, f32(1)))
    case(TINY, "st-entry-no-dtype.safetensors", "tensor 'w' needs \"dtype\" (string)")
    dup = (b'{"features.0.0.weight": {"dtype": "F32", "shape": [1], '
           b'"data_offsets": [0, 4]}, "features.0.0.weight": {"dtype": "F32", '
           b'"shape": [1], "data_offsets": [4, 8]}}')
    write("st-duplicate-key.safetensors", safetensors(dup, f32(1, 2)))
    case(TINY, "st-duplicate-key.safetensors",
         "tensor 'features.0.0.weight' appears twice in the header")

    # Offsets.
    def two(offsets_a, offsets_b, size):
        return safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": offsets_a},
                            "b": {"dtype": "F32", "shape": [2], "data_offsets": offsets_b}},
                           bytes(size))
    write("st-overlap.safetensors", two([0, 8], [4, 12], 12))
    case(TINY, "st-overlap.safetensors",
         "tensors 'a' and 'b' overlap in the data section (offsets 4 < 8)")
    write("st-hole.safetensors", two([0, 8], [12, 20], 20))
    case(TINY, "st-hole.safetensors",
         "4 unused bytes in the data section before tensor 'b'")
    write("st-stray-bytes.safetensors", two([0, 8], [8, 16], 24))
    case(TINY, "st-stray-bytes.safetensors", "8 stray bytes after the last tensor")
    write("st-end-before-begin.safetensors", two([8, 0], [8, 16], 16))
    case(TINY, "st-end-before-begin.safetensors",
         "tensor 'a': data_offsets [8, 0] end before begin")
    write("st-offset-out-of-range.safetensors",
          safetensors({"a": {"dtype": "F32", "shape": [1],
                             "data_offsets": [2 ** 52, 2 ** 52 + 4]}}, f32(1)))
    case(TINY, "st-offset-out-of-range.safetensors",
         "tensor 'a': data_offsets [4503599627370496, 4503599627370500] go past "
         "the end of the data section (4 bytes)")
    write("st-offset-negative.safetensors",
          safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 0]}},
                      f32(1)))
    case(TINY, "st-offset-negative.safetensors",
         "data_offsets must be [begin, end], two non-negative integers")
    write("st-offset-fraction.safetensors",
          safetensors({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.5]}},
                      f32(1)))
    case(TINY, "st-offset-fraction.safetensors",
         "data_offsets must be [begin, end], two non-negative integers")
    write("st-span-mismatch.safetensors",
          safetensors({"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}},
                      bytes(8)))
    case(TINY, "st-span-mismatch.safetensors",
         "data_offsets [0, 8] span 8 bytes but shape [3] of F32 needs 12")

    # Dtypes.
    write("st-dtype-int.safetensors",
          safetensors({"features.0.0.weight": {"dtype": "I64", "shape": [1],
                                               "data_offsets": [0, 8]}}, bytes(8)))
    case(TINY, "st-dtype-int.safetensors",
         "tensor 'features.0.0.weight' has dtype I64; weights must be F32, F16 or BF16")
    write("st-dtype-unknown.safetensors",
          safetensors({"w": {"dtype": "F7", "shape": [1], "data_offsets": [0, 4]}},
                      bytes(4)))
    case(TINY, "st-dtype-unknown.safetensors", "tensor 'w' has unknown dtype 'F7'")

    # Shapes: empty, overflowing, huge, too many dimensions, wrong.
    write("st-shape-zero.safetensors",
          safetensors({"features.0.0.weight": {"dtype": "F32", "shape": [0, 3, 3, 3],
                                               "data_offsets": [0, 0]}}))
    case(TINY, "st-shape-zero.safetensors",
         "tensor 'features.0.0.weight' has an empty shape [0, 3, 3, 3]")
    write("st-shape-overflow.safetensors",
          safetensors({"w": {"dtype": "F32", "shape": [2 ** 40, 2 ** 40, 2 ** 40],
                             "data_offsets": [0, 4]}}, bytes(4)))
    case(TINY, "st-shape-overflow.safetensors",
         "shape [1099511627776, 1099511627776, 1099511627776] is too large (overflow)")
    write("st-shape-huge.safetensors",
          safetensors({"w": {"dtype": "F32", "shape": [2 ** 31, 2 ** 20],
                             "data_offsets": [0, 4]}}, bytes(4)))
    case(TINY, "st-shape-huge.safetensors",
         "span 4 bytes but shape [2147483648, 1048576] of F32 needs 9007199254740992")
    write("st-shape-negative.safetensors",
          safetensors({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}},
                      bytes(4)))
    case(TINY, "st-shape-negative.safetensors",
         "shape entries must be non-negative integers")
    write("st-shape-rank9.safetensors",
          safetensors({"w": {"dtype": "F32", "shape": [1] * 9, "data_offsets": [0, 4]}},
                      bytes(4)))
    case(TINY, "st-shape-rank9.safetensors", "has 9 dimensions (at most 8)")
    header, data = first_conv()
    header["features.0.0.weight"]["shape"] = [8, 3, 1, 9]
    write("st-shape-wrong.safetensors", safetensors(header, data))
    case(TINY, "st-shape-wrong.safetensors",
         "tensor 'features.0.0.weight': expected shape [8, 3, 3, 3], got [8, 3, 1, 9]")

    # Values.
    header, data = first_conv()
    nan = data[:20] + struct.pack("<I", 0x7FC00000) + data[24:]
    write("st-nan.safetensors", safetensors(header, nan))
    case(TINY, "st-nan.safetensors",
         "tensor 'features.0.0.weight' holds a non-finite value (NaN) at index 5")
    inf = data[:4] + f32(float("-inf")) + data[8:]
    write("st-inf.safetensors", safetensors(header, inf))
    case(TINY, "st-inf.safetensors", "holds a non-finite value (Inf) at index 1")
    h16 = {k: dict(v, dtype="F16", data_offsets=[v["data_offsets"][0] // 2,
                                                  v["data_offsets"][1] // 2])
           for k, v in header.items()}
    half = bytearray(struct.pack("<%de" % (len(data) // 4),
                                 *struct.unpack("<%df" % (len(data) // 4), data)))
    mean7 = 2 * (216 + 8 + 8 + 7)  # weight, gamma, beta, then running_mean[7]
    half[mean7:mean7 + 2] = struct.pack("<H", 0x7C00)
    write("st-inf-f16.safetensors", safetensors(h16, bytes(half)))
    case(TINY, "st-inf-f16.safetensors",
         "tensor 'features.0.1.running_mean' holds a non-finite value (Inf) at index 7")
    header, data = first_conv(var=-1.0)
    write("st-negative-variance.safetensors", safetensors(header, data))
    case(TINY, "st-negative-variance.safetensors",
         "tensor 'features.0.1.running_var' is negative (-1) at index 0")
    header, data = first_conv(var=1e-30, weight=1e30, gamma=1e30)
    write("st-fold-overflow.safetensors", safetensors(header, data))
    case(TINY, "st-fold-overflow.safetensors",
         "'features.0' overflows float once BatchNorm is folded")

    # Keys.
    header, data = first_conv()
    write("st-missing-tensor.safetensors", safetensors(header, data))
    case(TINY, "st-missing-tensor.safetensors",
         "missing tensor 'features.1.block.0.0.weight'")
    header = json.loads(whole[8:8 + header_len])
    data = whole[8 + header_len:]
    header["zz.extra.weight"] = {"dtype": "F16", "shape": [1],
                                 "data_offsets": [len(data), len(data) + 2]}
    write("st-unexpected-key.safetensors", safetensors(header, data + bytes(2)))
    case(TINY, "st-unexpected-key.safetensors",
         "unexpected key 'zz.extra.weight': the network has no such tensor")
    # The right file for another network.
    case("ten-classes.yaml", valid, "expected shape")


# ---- tflite -----------------------------------------------------------------

def vtable_field(data, table, index):
    """Absolute position of field `index` of the flatbuffer table at `table`."""
    vt = table - struct.unpack_from("<i", data, table)[0]
    vt_len = struct.unpack_from("<H", data, vt)[0]
    slot = 4 + 2 * index
    assert slot + 2 <= vt_len
    return table + struct.unpack_from("<H", data, vt + slot)[0]


def tflite_cases():
    case(RELEASED, "@shared/models/" + UINT8, "OK")
    case("ten-classes.yaml", "@shared/models/" + UINT8,
         "the .tflite classifies into 1001 outputs but the config says num-classes 10")
    path = os.path.join(SHARED_MODELS, UINT8)
    model = open(path, "rb").read()
    head = bytearray(model[:4096])  # the root table lies at the start
    root = struct.unpack_from("<I", head, 0)[0]
    version = vtable_field(head, root, 0)
    codes = vtable_field(head, root, 1)
    subgraphs = vtable_field(head, root, 2)

    write("tfl-empty.tflite", b"")
    case(RELEASED, "tfl-empty.tflite", "lacks the 'TFL3' flatbuffer identifier")
    bad_id = bytearray(head[:64])
    bad_id[4:8] = b"TFL2"
    write("tfl-wrong-identifier.tflite", bytes(bad_id))
    case(RELEASED, "tfl-wrong-identifier.tflite", "lacks the 'TFL3' flatbuffer identifier")
    # Truncated: the operator codes are 2.6 MB into the model.
    write("tfl-truncated.tflite", bytes(head))
    case(RELEASED, "tfl-truncated.tflite",
         "Model.operator_codes: offset at byte %d leads to byte" % codes)
    p = bytearray(head)
    struct.pack_into("<I", p, 0, 0xFFFFFF00)
    write("tfl-root-out-of-range.tflite", bytes(p))
    case(RELEASED, "tfl-root-out-of-range.tflite",
         "Model: offset at byte 0 leads to byte 4294967040, past the end of the "
         "4096-byte file")
    p = bytearray(head)
    struct.pack_into("<I", p, 0, 0)
    write("tfl-root-cyclic.tflite", bytes(p))
    case(RELEASED, "tfl-root-cyclic.tflite", "Model: offset at byte 0 points to itself (cyclic)")
    p = bytearray(head)
    struct.pack_into("<I", p, subgraphs, 0)
    write("tfl-subgraphs-cyclic.tflite", bytes(p))
    case(RELEASED, "tfl-subgraphs-cyclic.tflite",
         "Model.subgraphs: offset at byte %d points to itself (cyclic)" % subgraphs)
    p = bytearray(head)
    struct.pack_into("<i", p, root, -0x10000)
    write("tfl-vtable-out-of-range.tflite", bytes(p))
    case(RELEASED, "tfl-vtable-out-of-range.tflite",
         "Model: vtable of the table at byte %d is outside the file" % root)
    p = bytearray(head)
    struct.pack_into("<i", p, version, 2)
    write("tfl-version-2.tflite", bytes(p))
    case(RELEASED, "tfl-version-2.tflite", "TFLite schema version 2; only version 3")
    # The subgraphs offset pointing at a length that claims 2^31 elements.
    p = bytearray(head)
    struct.pack_into("<I", p, subgraphs, 4096 - 4 - subgraphs)
    struct.pack_into("<I", p, 4092, 0x80000000)
    write("tfl-vector-too-long.tflite", bytes(p))
    case(RELEASED, "tfl-vector-too-long.tflite",
         "Model.subgraphs: vector at byte 4092 claims 2147483648 elements, more "
         "than the file holds")


# ---- YAML -------------------------------------------------------------------

def yaml_case(name, text, expected):
    write(name, text)
    case(name, "-", expected)


def yaml_cases():
    yaml_case("y-empty.yaml", "", "missing required key (the config is empty)")
    yaml_case("y-deep.yaml", "model: " + "[" * 100 + "]" * 100 + "\n",
              "the config nests deeper than 64 levels")
    many = "model: {architecture: mobilenet_v3_small}\npalette: [" + \
           ",".join(["0"] * 100001) + "]\n"
    yaml_case("y-many-nodes.yaml", many, "more than 100000")
    yaml_case("y-alias.yaml", "a: &x [1, 2]\nmodel: *x\n",
              "YAML aliases (*x) are not supported")
    yaml_case("y-two-documents.yaml",
              "model: {architecture: mobilenet_v3_small}\n---\nmodel: {}\n",
              "y-two-documents.yaml:2:1: expected a single YAML document")
    yaml_case("y-syntax.yaml", "model:\n  architecture: [mobilenet_v3_small\n",
              "y-syntax.yaml:3:")
    yaml_case("y-bad-utf8.yaml", b"model:\n  architecture: \xff\xfe\n",
              "y-bad-utf8.yaml:2:")
    yaml_case("y-unknown-key.yaml",
              "model: {architecture: mobilenet_v3_small}\nmodle: 1\n", "modle")
    yaml_case("y-arch-list.yaml", "model:\n  architecture: [a, b]\n",
              "y-arch-list.yaml:2:17: model.architecture")
    yaml_case("y-arch-unknown.yaml", "model:\n  architecture: mobilenet_v4\n",
              "expected one of mobilenet_v3_large, mobilenet_v3_small, "
              "lraspp_mobilenet_v3_large; got 'mobilenet_v4'")
    yaml_case("y-classes-text.yaml",
              "model:\n  architecture: mobilenet_v3_small\n  num-classes: ten\n",
              "y-classes-text.yaml:3:16: model.num-classes")
    yaml_case("y-classes-huge.yaml",
              "model:\n  architecture: mobilenet_v3_small\n  num-classes: 99999999999999999999\n",
              "model.num-classes")
    yaml_case("y-width-negative.yaml",
              "model:\n  architecture: mobilenet_v3_small\n  width-multiplier: -1\n",
              "model.width-multiplier: expected a number > 0 and <= 4")
    yaml_case("y-width-nan.yaml",
              "model:\n  architecture: mobilenet_v3_small\n  width-multiplier: .nan\n",
              "model.width-multiplier: expected a number > 0 and <= 4")
    yaml_case("y-size-scalar.yaml",
              "model: {architecture: mobilenet_v3_small}\ninput:\n  size: 224\n",
              "input.size: expected a list of 2 integers [height, width]")
    yaml_case("y-size-small.yaml",
              "model: {architecture: mobilenet_v3_small}\ninput:\n  size: [8, 224]\n",
              "input.size[0] (height)")
    yaml_case("y-std-zero.yaml",
              "model: {architecture: mobilenet_v3_small}\ninput:\n  std: [0, 1, 1]\n",
              "input.std[0]: expected a number > 0")
    yaml_case("y-crop-two.yaml",
              "model: {architecture: mobilenet_v3_small}\ninput:\n  crop: 2\n",
              "input.crop: expected a number > 0 and <= 1")
    yaml_case("y-palette-number.yaml",
              "model: {architecture: lraspp_mobilenet_v3_large}\npalette: 7\n",
              "palette: expected voc, cityscapes or a list of at most 256 colours")
    yaml_case("y-palette-value.yaml",
              "model: {architecture: lraspp_mobilenet_v3_large}\n"
              "palette: [[0, 0, 0], [0, 300, 0]]\n", "palette[1][1]")
    yaml_case("y-segment-classes.yaml",
              "model: {architecture: lraspp_mobilenet_v3_large, num-classes: 300}\n",
              "(the mask is 8-bit)")
    yaml_case("y-background-one.yaml",
              "model:\n  architecture: mobilenet_v3_small\n  num-classes: 1\n"
              "  background-class: true\n", "true needs model.num-classes >= 2")
    yaml_case("y-labels-missing.yaml",
              "model: {architecture: mobilenet_v3_small}\nlabels: no-such-labels.txt\n",
              "labels: file not found")
    yaml_case("y-labels-folder.yaml",
              "model: {architecture: mobilenet_v3_small}\nlabels: .\n",
              "labels: expected a regular file")
    yaml_case("y-weights-missing.yaml",
              "model: {architecture: mobilenet_v3_small, weights: none.safetensors}\n",
              "model.weights: file not found")
    yaml_case("y-no-weights.yaml", "model: {architecture: mobilenet_v3_small}\n",
              "no weights: set model.weights in the config or pass a weights file")


def main():
    os.makedirs(FILES, exist_ok=True)
    for name in os.listdir(FILES):
        os.remove(os.path.join(FILES, name))
    configs()
    safetensors_cases()
    tflite_cases()
    yaml_cases()
    with open(os.path.join(FILES, "MANIFEST"), "w", encoding="utf-8") as f:
        f.write("# config\tweights\texpected (generated by make_broken.py)\n")
        for row in rows:
            assert "\t" not in "".join(row) and "\n" not in "".join(row)
            f.write("\t".join(row) + "\n")
    print("%d cases in %s" % (len(rows), FILES))


if __name__ == "__main__":
    main()
