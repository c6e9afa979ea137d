"""The file formats: our flatbuffer writer/reader, header and segment layout,
round trips with upstream ExecuTorch's files, and .ptd."""

from __future__ import annotations

import struct

import numpy as np
import pytest
import torch

from edgetorch.pte import (FlatbufferError, decode, encode, read_pte, read_ptd,
                           serialize_ptd, serialize_pte, schema as S)


def _upstream_pte(model, args) -> bytes:
    from executorch.exir import to_edge

    ep = torch.export.export(model, args, strict=False)
    return to_edge(ep).to_executorch().buffer


class _Lin(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.l = torch.nn.Linear(4, 3)

    def forward(self, x, y):
        return torch.relu(self.l(x)) + y


@pytest.fixture(scope="module")
def upstream_file():
    m = _Lin()
    args = (torch.randn(2, 4), torch.randn(2, 3))
    return m, args, _upstream_pte(m, args)


def test_encode_decode_roundtrip_all_kinds():
    plan = S.ExecutionPlan(
        name="forward",
        container_meta_type=S.ContainerMetadata("in", "out"),
        values=[S.EValue(S.Null()), S.EValue(S.Int(-5)), S.EValue(S.Int(1 << 40)),
                S.EValue(S.Bool(True)), S.EValue(S.Double(-2.5)), S.EValue(S.String("hé")),
                S.EValue(S.IntList([1, 2])), S.EValue(S.DoubleList([0.5, 1e300])),
                S.EValue(S.BoolList([True, False, True])), S.EValue(S.TensorList([9])),
                S.EValue(S.OptionalTensorList([-1, 9])),
                S.EValue(S.Tensor(scalar_type=6, sizes=[2, 3], dim_order=[0, 1],
                                  allocation_info=S.AllocationDetails.make(1, (3 << 32) + 16),
                                  shape_dynamism=1,
                                  extra_tensor_info=S.ExtraTensorInfo(
                                      fully_qualified_name="a.b", location=1)))],
        inputs=[11], outputs=[11],
        chains=[S.Chain(instructions=[
            S.Instruction(S.KernelCall(0, [11, 1, 11])),
            S.Instruction(S.JumpFalseCall(3, 2)), S.Instruction(S.MoveCall(1, 2)),
            S.Instruction(S.FreeCall(11)), S.Instruction(S.DelegateCall(0, [11]))])],
        operators=[S.Operator("aten::add", "out")],
        delegates=[S.BackendDelegate("X", S.BackendDelegateDataReference(1, 2),
                                     [S.CompileSpec("k", b"\x01\x02")])],
        non_const_buffer_sizes=[0, 64])
    prog = S.Program(execution_plan=[plan], segments=[S.DataSegment(0, 10)],
                     constant_segment=S.SubsegmentOffsets(0, [0, 0]))
    buf = encode(prog, b"ET12")
    assert buf[4:8] == b"ET12"
    back = decode(buf, S.Program, b"ET12")
    assert back == prog
    t = back.execution_plan[0].values[11].val
    assert t.allocation_info.offset == (3 << 32) + 16


def test_default_values_are_omitted_but_empty_vectors_kept():
    buf = encode(S.Tensor(scalar_type=0, sizes=[], dim_order=[]), b"ET12")
    # vtable of the root table: fields 2 and 3 (sizes, dim_order) present, 0 absent
    root = struct.unpack_from("<I", buf, 0)[0]
    vt = root - struct.unpack_from("<i", buf, root)[0]
    vt_size = struct.unpack_from("<H", buf, vt)[0]
    slots = struct.unpack_from("<%dH" % ((vt_size - 4) // 2), buf, vt + 4)
    assert slots[0] == 0 and slots[2] != 0 and slots[3] != 0


def test_decoder_rejects_bad_offsets():
    buf = bytearray(encode(S.Program(execution_plan=[S.ExecutionPlan(name="f")]), b"ET12"))
    struct.pack_into("<I", buf, 0, len(buf) + 100)
    with pytest.raises(FlatbufferError):
        decode(bytes(buf), S.Program, b"ET12")
    with pytest.raises(FlatbufferError):
        decode(b"\0" * 8 + b"XXXX", S.Program, b"ET12")


def test_reader_reads_upstream_file(upstream_file):
    _, _, buf = upstream_file
    f = read_pte(buf)
    assert f.has_extended_header
    assert f.segment_base_offset % 128 == 0
    plan = f.program.execution_plan[0]
    assert plan.name == "forward"
    assert plan.non_const_buffer_sizes[0] == 0
    ops = {o.full_name for o in plan.operators}
    assert "aten::addmm.out" in ops
    consts = [v.val for v in plan.values if isinstance(v.val, S.Tensor) and v.val.data_buffer_idx]
    arrays = [f.tensor_array(t) for t in consts]
    assert any(a.shape == (3, 4) for a in arrays)


def test_rewritten_upstream_file_runs_on_upstream(upstream_file):
    """Decode upstream's file with our reader, re-encode with our writer,
    and upstream's runtime still runs it with the same results."""
    from executorch.runtime import Runtime

    m, args, buf = upstream_file
    f = read_pte(buf)
    cs = f.program.constant_segment.offsets
    seg = f.segment(0)
    buffers = [b""] + [seg[cs[i]:(cs[i + 1] if i + 1 < len(cs) else len(seg))]
                       for i in range(1, len(cs))]
    ours = serialize_pte(f.program, buffers)
    assert read_pte(ours).program == f.program
    got = Runtime.get().load_program(ours).load_method("forward").execute(list(args))
    want = Runtime.get().load_program(buf).load_method("forward").execute(list(args))
    torch.testing.assert_close(got[0], want[0], rtol=0, atol=0)


def test_segment_layout_and_header():
    plan = S.ExecutionPlan(name="forward", values=[], inputs=[], outputs=[],
                           chains=[S.Chain()], operators=[], delegates=[],
                           non_const_buffer_sizes=[0, 0])
    bufs = [b"", b"\x01" * 5, b"\x02" * 20, b"\x03" * 3]
    data = serialize_pte(S.Program(execution_plan=[plan]), bufs,
                         constant_tensor_alignment=16, segment_alignment=128)
    assert data[8:12] == b"eh00"
    length, program_size, base, seg_size = struct.unpack_from("<IQQQ", data, 12)
    assert length == 32
    assert base % 128 == 0 and base >= program_size
    f = read_pte(data)
    assert f.program.constant_segment.offsets == [0, 0, 16, 48]
    assert seg_size == 48 + 3 == len(data) - base
    assert f.constant_bytes(2, 20) == b"\x02" * 20
    # no segment data: no header
    empty = serialize_pte(S.Program(execution_plan=[plan]), [b""])
    assert empty[8:12] != b"eh00"
    assert read_pte(empty).program.constant_segment.offsets == [0]


def test_ptd_roundtrip_and_header():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.arange(4, dtype=np.int64)
    data = serialize_ptd({
        "w": (a.tobytes(), S.TensorLayout(6, [2, 3], [0, 1])),
        "b": (b.tobytes(), S.TensorLayout(4, [4], [0])),
        "w_again": (a.tobytes(), S.TensorLayout(6, [2, 3], [0, 1])),
    })
    assert data[4:8] == b"FT01" and data[8:12] == b"FH01"
    length, fb_off, fb_size, base, seg_size = struct.unpack_from("<IQQQQ", data, 12)
    assert length == 40 and fb_off == 48 and base % 128 == 0
    f = read_ptd(data)
    assert sorted(f.keys()) == ["b", "w", "w_again"]
    np.testing.assert_array_equal(f.array("w"), a)
    np.testing.assert_array_equal(f.array("b"), b)
    assert len(f.flat_tensor.segments) == 2  # identical bytes share a segment


def test_ptd_loads_in_upstream_flat_tensor_reader():
    from executorch.extension.flat_tensor.serialize.serialize import FlatTensorSerializer

    a = np.arange(6, dtype=np.float32)
    data = serialize_ptd({"w": (a.tobytes(), S.TensorLayout(6, [6], [0]))})
    payload = FlatTensorSerializer().deserialize(_cord(data))
    assert "w" in payload.named_data
    entry = payload.named_data["w"]
    assert bytes(payload.buffers[entry.buffer_index])[:24] == a.tobytes()


def _cord(data: bytes):
    from executorch.exir._serialize._cord import Cord
    return Cord(data)
