"""The wire format between learner code and checks: faithful for data, inert for everything else."""

from __future__ import annotations

import math
import random
import struct

import numpy as np
import pytest
import torch

from actgrader.grading import codec
from actgrader.grading.codec import CodecError, Opaque, Ref


@pytest.mark.parametrize(
    "dtype",
    [torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.int8, torch.int64, torch.uint8, torch.bool],
)
def test_tensors_keep_dtype_shape_and_values(dtype):
    tensor = (torch.arange(24).reshape(2, 3, 4) - 7).to(dtype)
    back = codec.roundtrip(tensor)
    assert isinstance(back, torch.Tensor)
    assert back.dtype == dtype and back.shape == tensor.shape
    assert torch.equal(back, tensor)


def test_non_contiguous_and_requires_grad_tensors_arrive_as_plain_data():
    base = torch.randn(4, 5, requires_grad=True)
    view = (base * 2).T[1:, ::2]
    back = codec.roundtrip(view)
    assert not back.requires_grad
    assert torch.equal(back, view.detach())


def test_numpy_arrays_and_scalars_stay_numpy():
    arr = np.linspace(-1, 1, 7, dtype=np.float32)
    back = codec.roundtrip({"a": arr, "s": np.float64(2.5), "i": np.int32(-3)})
    assert isinstance(back["a"], np.ndarray) and back["a"].dtype == np.float32
    np.testing.assert_array_equal(back["a"], arr)
    assert isinstance(back["s"], np.float64) and back["s"] == 2.5
    assert isinstance(back["i"], np.int32) and back["i"] == -3


def test_python_values_round_trip_exactly():
    value = {
        "list": [1, 2.5, "x", None, True],
        "tuple": (1, (2, 3)),
        3: "int key",
        ("t", 1): "tuple key",
        "special": [math.inf, -math.inf],
        "big": 2**100,
    }
    back = codec.roundtrip(value)
    assert back == value
    assert isinstance(back["tuple"], tuple) and isinstance(back["tuple"][1], tuple)
    assert math.isnan(codec.roundtrip(float("nan")))


def test_unknown_objects_become_opaque_with_their_type_name():
    back = codec.roundtrip([torch.nn.Sequential(torch.nn.ReLU()), lambda: 1])
    assert isinstance(back[0], Opaque) and back[0].type_name == "Sequential"
    assert isinstance(back[1], Opaque) and back[1].type_name == "function" and "lambda" in back[1].text


def test_an_object_whose_repr_raises_is_still_encoded():
    class Hostile:
        def __repr__(self):
            raise RuntimeError("no")

    back = codec.roundtrip(Hostile())
    assert isinstance(back, Opaque) and back.type_name.endswith("Hostile")


def test_refs_resolve_only_on_the_learner_side():
    data = codec.encode([Ref("torch.relu")])
    assert codec.decode(data, allow_refs=True)[0] is torch.relu
    with pytest.raises(CodecError):
        codec.decode(data)


@pytest.mark.parametrize("path", ["os.system", "builtins.eval", "actgrader.reference.forward.forward_pass"])
def test_refs_outside_the_allowed_modules_are_refused(path):
    with pytest.raises(CodecError):
        Ref(path)


def test_a_forged_ref_in_a_message_is_refused_before_import():
    forged = codec.encode([Ref("torch.relu")]).replace(b"torch.relu", b"os.system\x20")
    with pytest.raises((CodecError, ValueError)):
        codec.decode(forged, allow_refs=True)


def test_depth_and_size_limits(monkeypatch):
    nested: list = []
    for _ in range(codec.MAX_DEPTH + 5):
        nested = [nested]
    with pytest.raises(CodecError):
        codec.encode(nested)
    monkeypatch.setattr(codec, "MAX_BYTES", 1000)
    with pytest.raises(CodecError):
        codec.encode(torch.zeros(1000))


def test_array_whose_bytes_do_not_match_its_shape_is_refused():
    data = bytearray(codec.encode(torch.zeros(4)))
    header_len, _ = struct.unpack_from("<II", data, 0)
    header = bytes(data[8 : 8 + header_len]).replace(b'"shape":[4]', b'"shape":[9]')
    forged = struct.pack("<II", len(header), 1) + header + bytes(data[8 + header_len :])
    with pytest.raises(CodecError):
        codec.decode(forged)


def test_random_garbage_never_decodes_to_anything_but_codec_errors():
    rng = random.Random(0)
    good = codec.encode({"x": torch.randn(3, 2), "y": [1, "a", (2.0,)]})
    for _ in range(500):
        data = bytearray(good)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data))]
        try:
            codec.decode(bytes(data))
        except CodecError:
            pass


def test_zero_dimensional_tensors_and_arrays_keep_their_shape():
    assert codec.roundtrip(torch.tensor(3.5)).shape == ()
    assert codec.roundtrip(np.array(2)).shape == ()
