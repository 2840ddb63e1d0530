"""A small, safe wire format for the values that cross between a learner's code and a check.

Checks never receive the learner's Python objects: every argument passed to a learner's
function and every value it returns goes through :func:`encode` and :func:`decode`. In the
batch grader the two ends are different processes and the learner's end is untrusted, so the
format is plain data only (JSON plus raw array bytes, never pickle), with limits on size and
depth. In a notebook self-check the same round trip runs in one process, so a learner sees
exactly the verdict the grader will give.

Supported values: None, bool, int, float (NaN and infinities included), str, list, tuple,
dict, NumPy arrays and scalars, torch tensors (dtype, shape and "is a tensor" are kept) and,
from the grader to the learner only, :class:`Ref` (a named callable such as ``torch.relu``).
Anything else is replaced by :class:`Opaque`, which records its type name so a check can say
"expected a tensor, got Sequential".
"""

from __future__ import annotations

import importlib
import json
import math
import struct
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 1_000_000
_OPAQUE_REPR_CHARS = 200

# dtypes that may cross the boundary, by name; bfloat16 travels as float32.
_NUMPY_DTYPES = {
    "bool": np.bool_,
    "uint8": np.uint8,
    "int8": np.int8,
    "int16": np.int16,
    "int32": np.int32,
    "int64": np.int64,
    "float16": np.float16,
    "float32": np.float32,
    "float64": np.float64,
    "complex64": np.complex64,
    "complex128": np.complex128,
}

# Callables the grader may hand to learner code by name. Resolution happens on the
# learner's side by import, so only these module prefixes are accepted.
_REF_PREFIXES = ("torch.", "math.", "numpy.")


class CodecError(ValueError):
    """A value could not be encoded or a message could not be decoded."""


@dataclass(frozen=True)
class Ref:
    """A callable passed by name, e.g. ``Ref("torch.relu")``; resolved on the learner's side."""

    path: str

    def __post_init__(self) -> None:
        if not self.path.startswith(_REF_PREFIXES):
            raise CodecError(f"Ref {self.path!r} is outside the allowed modules {_REF_PREFIXES}")

    def resolve(self) -> Any:
        module_name, _, attr = self.path.rpartition(".")
        obj: Any = importlib.import_module(module_name)
        return getattr(obj, attr)


@dataclass(frozen=True)
class Opaque:
    """Stands in for a value of a type the format does not carry (a model, a generator...)."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def _torch() -> Any:
    import torch

    return torch


def _dtype_name(dtype: Any) -> str:
    return str(dtype).removeprefix("torch.")


class _Encoder:
    def __init__(self) -> None:
        self.buffers: list[bytes] = []
        self.items = 0
        self.size = 0

    def _add_buffer(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > MAX_BYTES:
            raise CodecError(f"value too large to transfer (over {MAX_BYTES // 2**20} MB)")
        self.buffers.append(data)
        return len(self.buffers) - 1

    def array(self, arr: np.ndarray, kind: str, dtype_name: str | None = None) -> dict:
        if not arr.flags.c_contiguous:  # (np.ascontiguousarray would turn 0-d into 1-d)
            arr = arr.copy(order="C")
        name = dtype_name or arr.dtype.name
        if arr.dtype.name not in _NUMPY_DTYPES:
            raise CodecError(f"arrays of dtype {arr.dtype} are not supported")
        return {
            "$array": self._add_buffer(arr.tobytes()),
            "dtype": name,
            "wire": arr.dtype.name,
            "shape": list(arr.shape),
            "kind": kind,
        }

    def encode(self, value: Any, depth: int = 0) -> Any:
        self.items += 1
        if self.items > MAX_ITEMS:
            raise CodecError(f"value has more than {MAX_ITEMS} items")
        if depth > MAX_DEPTH:
            raise CodecError(f"value nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, np.generic):  # before float: np.float64 subclasses float
            return {"$scalar": self.array(np.asarray(value), "numpy")}
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int):
            return value if abs(value) < 2**63 else {"$bigint": str(value)}
        if isinstance(value, float):
            return value if math.isfinite(value) else {"$float": repr(value)}
        if isinstance(value, list):
            return [self.encode(v, depth + 1) for v in value]
        if isinstance(value, tuple):
            return {"$tuple": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            return {"$dict": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]}
        if isinstance(value, Ref):
            return {"$ref": value.path}
        if isinstance(value, np.ndarray):
            return self.array(value, "numpy")
        torch = _torch()
        if isinstance(value, torch.Tensor):
            tensor = value.detach().cpu()
            if tensor.is_sparse or tensor.layout != torch.strided:
                tensor = tensor.to_dense()
            dtype_name = _dtype_name(tensor.dtype)
            if tensor.dtype == torch.bfloat16:
                tensor = tensor.float()
            return self.array(tensor.resolve_conj().resolve_neg().numpy(), "torch", dtype_name)
        return {"$opaque": type(value).__qualname__, "text": _safe_repr(value)}


def _safe_repr(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a learner's object may fail even to describe itself
        text = f"<{type(value).__qualname__}>"
    return text[:_OPAQUE_REPR_CHARS]


class _Decoder:
    def __init__(self, buffers: list[memoryview], allow_refs: bool) -> None:
        self.buffers = buffers
        self.allow_refs = allow_refs

    def array(self, spec: dict) -> Any:
        wire = spec.get("wire")
        if wire not in _NUMPY_DTYPES:
            raise CodecError(f"unknown array dtype {wire!r}")
        shape = spec.get("shape")
        if not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise CodecError("malformed array shape")
        index = spec.get("$array")
        if not isinstance(index, int) or not 0 <= index < len(self.buffers):
            raise CodecError("malformed array reference")
        dtype = np.dtype(_NUMPY_DTYPES[wire])
        buffer = self.buffers[index]
        if math.prod(shape) * dtype.itemsize != len(buffer):
            raise CodecError("array size does not match its shape")
        arr = np.frombuffer(buffer, dtype=dtype).reshape(shape).copy()
        if spec.get("kind") == "torch":
            torch = _torch()
            tensor = torch.from_numpy(arr)
            if spec.get("dtype") == "bfloat16":
                tensor = tensor.to(torch.bfloat16)
            return tensor
        return arr

    def decode(self, node: Any, depth: int = 0) -> Any:
        if depth > MAX_DEPTH + 2:
            raise CodecError("message nested too deeply")
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v, depth + 1) for v in node]
        if not isinstance(node, dict) or len(node) == 0:
            raise CodecError("malformed message")
        if "$array" in node:
            return self.array(node)
        if "$tuple" in node:
            return tuple(self.decode(v, depth + 1) for v in _as_list(node["$tuple"]))
        if "$dict" in node:
            out = {}
            for pair in _as_list(node["$dict"]):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise CodecError("malformed dict entry")
                key = self.decode(pair[0], depth + 1)
                try:
                    out[key] = self.decode(pair[1], depth + 1)
                except TypeError as exc:  # unhashable key
                    raise CodecError("dict key is not hashable") from exc
            return out
        if "$float" in node:
            text = node["$float"]
            if text not in ("nan", "inf", "-inf"):
                raise CodecError("malformed float")
            return float(text)
        if "$bigint" in node:
            return int(str(node["$bigint"])[:10_000])
        if "$scalar" in node:
            arr = self.array(node["$scalar"])
            return arr[()] if isinstance(arr, np.ndarray) else arr
        if "$ref" in node:
            if not self.allow_refs:
                raise CodecError("references are only accepted by the learner's side")
            return Ref(str(node["$ref"])).resolve()
        if "$opaque" in node:
            return Opaque(str(node["$opaque"])[:200], str(node.get("text", ""))[:_OPAQUE_REPR_CHARS])
        raise CodecError("malformed message")


def _as_list(node: Any) -> list:
    if not isinstance(node, list):
        raise CodecError("malformed message")
    return node


def encode(value: Any) -> bytes:
    """Serialise ``value`` to bytes (see the module docstring for what is supported)."""
    encoder = _Encoder()
    header = json.dumps(encoder.encode(value), allow_nan=False, separators=(",", ":")).encode()
    parts = [struct.pack("<II", len(header), len(encoder.buffers)), header]
    for buf in encoder.buffers:
        parts.append(struct.pack("<Q", len(buf)))
        parts.append(buf)
    return b"".join(parts)


def decode(data: bytes, *, allow_refs: bool = False) -> Any:
    """Rebuild a value from :func:`encode`'s bytes; never executes code from the message.

    ``allow_refs`` is for the learner's side only: it turns :class:`Ref` names back into the
    callables they name.
    """
    view = memoryview(data)
    if len(view) > MAX_BYTES + 1024 * 1024:
        raise CodecError("message too large")
    try:
        header_len, n_buffers = struct.unpack_from("<II", view, 0)
        offset = 8
        header = json.loads(bytes(view[offset : offset + header_len]))
        offset += header_len
        buffers = []
        for _ in range(n_buffers):
            (size,) = struct.unpack_from("<Q", view, offset)
            offset += 8
            if offset + size > len(view):
                raise CodecError("truncated message")
            buffers.append(view[offset : offset + size])
            offset += size
    except (struct.error, json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise CodecError(f"malformed message: {exc}") from exc
    if offset != len(view):
        raise CodecError("trailing bytes after message")
    try:
        return _Decoder(buffers, allow_refs).decode(header)
    except RecursionError as exc:
        raise CodecError("message nested too deeply") from exc


def roundtrip(value: Any, *, allow_refs: bool = False) -> Any:
    """``decode(encode(value))``: what the other side of the boundary would receive."""
    return decode(encode(value), allow_refs=allow_refs)
