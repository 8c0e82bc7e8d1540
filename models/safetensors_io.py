"""Minimal safetensors reader and writer (numpy only; torch tensors accepted).

The format (https://github.com/huggingface/safetensors): an 8-byte
little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name
to {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the
data section), then the data section. Debian ships no `safetensors` package,
hence this module.

    save({"conv.weight": tensor}, "m.safetensors", dtype="F16")
    tensors = load("m.safetensors")   # dict of numpy arrays
"""

import json
import struct

import numpy as np

# Float dtypes a caller may choose for floating-point tensors.
FLOAT_DTYPES = ("F32", "F16", "BF16")

_NUMPY_TO_ST = {
    np.dtype("float64"): "F64", np.dtype("float32"): "F32",
    np.dtype("float16"): "F16", np.dtype("int64"): "I64",
    np.dtype("int32"): "I32", np.dtype("int16"): "I16", np.dtype("int8"): "I8",
    np.dtype("uint64"): "U64", np.dtype("uint32"): "U32",
    np.dtype("uint16"): "U16", np.dtype("uint8"): "U8", np.dtype("bool"): "BOOL",
}
_ST_TO_NUMPY = {v: k.newbyteorder("<") for k, v in _NUMPY_TO_ST.items()}
_ST_TO_NUMPY["BF16"] = np.dtype("<u2")  # raw bits, widened on load

_MAX_HEADER = 100 * 1024 * 1024


def _to_numpy(value, name):
    if isinstance(value, np.ndarray):
        return value
    if hasattr(value, "detach"):  # a torch tensor, without importing torch
        t = value.detach().cpu()
        if str(t.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            t = t.float()
        return t.contiguous().numpy()
    if np.isscalar(value):
        return np.asarray(value)
    raise TypeError(f"tensor '{name}' is a {type(value).__name__}, "
                    "not a torch tensor or numpy array")


def _float32_to_bf16_bits(a):
    """Round-to-nearest-even, as torch's .to(torch.bfloat16) does."""
    bits = np.ascontiguousarray(a, dtype="<f4").view("<u4").astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    rounded = np.where(np.isnan(a), 0x7FC0, rounded)
    return rounded.astype("<u2")


def _encode(array, dtype):
    """Returns (safetensors dtype, little-endian bytes) for one array."""
    if array.dtype.kind == "f":
        if dtype == "BF16":
            return "BF16", _float32_to_bf16_bits(array.astype(np.float32)).tobytes()
        np_dtype = {"F32": "<f4", "F16": "<f2"}[dtype]
        return dtype, np.ascontiguousarray(array, dtype=np_dtype).tobytes()
    st = _NUMPY_TO_ST.get(array.dtype.newbyteorder("="))
    if st is None:
        raise TypeError(f"unsupported numpy dtype {array.dtype}")
    le = array.dtype.newbyteorder("<")
    return st, np.ascontiguousarray(array, dtype=le).tobytes()


def save(tensors, path, dtype="F32", metadata=None):
    """Writes tensors (name -> torch tensor or numpy array) to path.

    Floating-point tensors are stored as `dtype` (F32, F16 or BF16); integer
    and bool tensors (e.g. num_batches_tracked) keep their own type. Keys are
    sorted, data is contiguous, and the header is padded with spaces so that
    the data section starts on an 8-byte boundary."""
    if dtype not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(FLOAT_DTYPES)}, "
                         f"not {dtype!r}")
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        if not isinstance(name, str) or name == "__metadata__":
            raise ValueError(f"invalid tensor name {name!r}")
        array = _to_numpy(tensors[name], name)
        st_dtype, data = _encode(array, dtype)
        header[name] = {"dtype": st_dtype, "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for chunk in chunks:
            f.write(chunk)


def load(path):
    """Reads a safetensors file into a dict of numpy arrays (BF16 widened to
    float32). Raises ValueError on a malformed file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8 or n > _MAX_HEADER:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    try:
        header = json.loads(blob[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: header is not valid JSON: {e}") from None
    if not isinstance(header, dict):
        raise ValueError(f"{path}: header is not a JSON object")
    data = memoryview(blob)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        st_dtype = info.get("dtype")
        if st_dtype not in _ST_TO_NUMPY:
            raise ValueError(f"{path}: tensor '{name}': unsupported dtype {st_dtype!r}")
        shape = tuple(info["shape"])
        begin, end = info["data_offsets"]
        np_dtype = _ST_TO_NUMPY[st_dtype]
        if not 0 <= begin <= end <= len(data) or \
                end - begin != int(np.prod(shape, dtype=np.int64)) * np_dtype.itemsize:
            raise ValueError(f"{path}: tensor '{name}': bad data_offsets "
                             f"[{begin}, {end}] for shape {list(shape)}")
        array = np.frombuffer(data[begin:end], dtype=np_dtype).reshape(shape)
        if st_dtype == "BF16":
            array = (array.astype(np.uint32) << 16).view(np.float32)
        out[name] = array.copy()
    return out
