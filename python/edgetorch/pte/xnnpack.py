"""The XNNPACK delegate payload (backend id ``XnnpackBackend``).

A payload is ``[XNNHeader, padded to 16][XNNGraph flatbuffer, padded to 16]
[constant data]``.  The header (30 bytes) starts with four zero bytes (where
a bare flatbuffer has its root offset) and the magic ``XH00``, then u16
header length (30), u32 flatbuffer offset, u32 flatbuffer size, u32 constant
data offset and u64 constant data size, all little-endian.

The graph tables follow upstream's ``backends/xnnpack/serialization/
schema.fbs`` (namespace ``fb_xnnpack``, identifier ``XN01``): field ids are
declaration order (deprecated fields keep their ids), union tags are
declaration order from 1.  Several union members share one table shape
(``XNNAdd`` and ``XNNDiv`` are both ``_XNNNode2x1``); each member is its own
class here, so the class of a node says its tag.

Constants are named by ``ConstantDataOffset.named_key`` (the sha256 of their
bytes, hex) and stored in the program's named data, or inline in the
payload's constant data at ``offset`` (``UINT64_MAX`` when named).  Entry 0 of
``constant_data`` is reserved: ``constant_buffer_idx == 0`` means "not a
constant".
"""

from __future__ import annotations

import enum
import struct
from dataclasses import dataclass, field
from typing import ClassVar, Dict, List, Optional

from . import flatbuffer as fb
from .schema import UnionSpec

XNN_FILE_IDENTIFIER = b"XN01"
XNN_HEADER_MAGIC = b"XH00"
XNN_HEADER_LENGTH = 30
XNN_ALIGNMENT = 16
XNN_INVALID_VALUE_ID = 0xFFFFFFFF
UINT64_MAX = 0xFFFFFFFFFFFFFFFF

# XNNTensorValue.flags
VALUE_FLAG_EXTERNAL_INPUT = 0x1
VALUE_FLAG_EXTERNAL_OUTPUT = 0x2

# node flags (XNNPACK's xnnpack.h)
FLAG_TRANSPOSE_WEIGHTS = 0x1      # fully connected, batch matmul: filter is [K, N]
FLAG_TENSORFLOW_SAME_PADDING = 0x4
FLAG_ALIGN_CORNERS = 0x8
FLAG_KEEP_DIMS = 0x40             # global average pooling keeps H and W as 1


class XNNDatatype(enum.IntEnum):
    invalid = 0
    fp32 = 1
    fp16 = 2
    qint8 = 3
    quint8 = 4
    qint32 = 5
    qcint8 = 6
    qcint32 = 7
    qcint4 = 8
    qdint8 = 9
    qbint4 = 10
    qpint8 = 11
    int32 = 12
    pfp32 = 13
    bf16 = 14


# ---------------------------------------------------------------------------
# values


@dataclass
class PerChannelGroupQuant:
    scale: List[float] = field(default_factory=list)
    channel_dim: int = 0
    group_size: int = 0
    scale_buffer_idx: int = 0
    num_scales: int = 0
    _fb: ClassVar = [("scale", 0, ("vec", "f32")), ("channel_dim", 1, "i32"),
                     ("group_size", 2, "i32"),  # id 3: deprecated scale_bf16
                     ("scale_buffer_idx", 4, "u32"), ("num_scales", 5, "u32")]


@dataclass
class PerChannelQuant:
    scale: List[float] = field(default_factory=list)
    channel_dim: int = 0
    scale_buffer_idx: int = 0
    num_scales: int = 0
    _fb: ClassVar = [("scale", 0, ("vec", "f32")), ("channel_dim", 1, "i32"),
                     ("scale_buffer_idx", 2, "u32"), ("num_scales", 3, "u32")]


@dataclass
class PerTokenDynamicQuant:
    num_nonbatch_dims: int = 0
    _fb: ClassVar = [("num_nonbatch_dims", 0, "i32")]


@dataclass
class PerTensorQuant:
    scale: float = 0.0
    zero_point: int = 0
    _fb: ClassVar = [("scale", 0, "f32"), ("zero_point", 1, "i32")]


XNNQuantParams = UnionSpec("XNNQuantParams", [PerChannelQuant, PerTensorQuant,
                                              PerTokenDynamicQuant, PerChannelGroupQuant])


@dataclass
class XNNTensorValue:
    datatype: int = XNNDatatype.fp32
    num_dims: int = 0
    dims: List[int] = field(default_factory=list)
    constant_buffer_idx: int = 0
    external_id: int = 0  # XNN_INVALID_VALUE_ID for internal values
    flags: int = 0
    id_out: int = 0
    _fb: ClassVar = [("datatype", 0, "i16"), ("num_dims", 1, "u32"),
                     ("dims", 2, ("vec", "u32")), ("constant_buffer_idx", 3, "u32"),
                     ("external_id", 4, "u32"), ("flags", 5, "u32"),
                     ("id_out", 6, "u32")]


@dataclass
class XNNQuantizedTensorValue:
    tensor_value: Optional[XNNTensorValue] = None
    quant_params: object = None
    _fb: ClassVar = [("tensor_value", 0, ("table", XNNTensorValue)),
                     ("quant_params", 1, ("union", XNNQuantParams))]


XValueUnion = UnionSpec("XValueUnion", [XNNTensorValue, XNNQuantizedTensorValue])


@dataclass
class XValue:
    xvalue_union: object = None
    _fb: ClassVar = [("xvalue_union", 0, ("union", XValueUnion))]


# ---------------------------------------------------------------------------
# node payload shapes (upstream's tables; the union members subclass them)


@dataclass
class _XNNNode2x1:
    input1_id: int = 0
    input2_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("input1_id", 0, "u32"), ("input2_id", 1, "u32"),
                     ("output_id", 2, "u32"), ("flags", 3, "u32")]


@dataclass
class _XNNNode1x1:
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("input_id", 0, "u32"), ("output_id", 1, "u32"),
                     ("flags", 2, "u32")]


@dataclass
class _XNNCat:
    axis: int = 0
    input1_id: int = 0
    input2_id: int = 0
    input3_id: int = 0
    input4_id: int = 0
    output_id: int = 0
    flags: int = 0
    input5_id: int = 0
    _fb: ClassVar = [("axis", 0, "u32"), ("input1_id", 1, "u32"), ("input2_id", 2, "u32"),
                     ("input3_id", 3, "u32"), ("input4_id", 4, "u32"),
                     ("output_id", 5, "u32"), ("flags", 6, "u32"), ("input5_id", 7, "u32")]


@dataclass
class _XNNNodeConv:
    padding_top: int = 0
    padding_right: int = 0
    padding_bottom: int = 0
    padding_left: int = 0
    kernel_height: int = 0
    kernel_width: int = 0
    subsampling_height: int = 0
    subsampling_width: int = 0
    dilation_height: int = 0
    dilation_width: int = 0
    group_input_channels: int = 0
    group_output_channels: int = 0
    groups: int = 0
    adjustment_height: int = 0
    adjustment_width: int = 0
    input1_id: int = 0
    filter_id: int = 0
    bias_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [(n, i, "u32") for i, n in enumerate([
        "padding_top", "padding_right", "padding_bottom", "padding_left", "kernel_height",
        "kernel_width", "subsampling_height", "subsampling_width", "dilation_height",
        "dilation_width", "group_input_channels", "group_output_channels", "groups",
        "adjustment_height", "adjustment_width", "input1_id", "filter_id", "bias_id",
        "output_id", "flags"])]


@dataclass
class _XNNPooling2D:
    padding_top: int = 0
    padding_right: int = 0
    padding_bottom: int = 0
    padding_left: int = 0
    pooling_height: int = 0
    pooling_width: int = 0
    stride_height: int = 0
    stride_width: int = 0
    dilation_height: int = 0
    dilation_width: int = 0
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [(n, i, "u32") for i, n in enumerate([
        "padding_top", "padding_right", "padding_bottom", "padding_left", "pooling_height",
        "pooling_width", "stride_height", "stride_width", "dilation_height", "dilation_width",
        "input_id", "output_id", "flags"])]


@dataclass
class XNNFullyConnected:
    input1_id: int = 0
    filter_id: int = 0
    bias_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("input1_id", 0, "u32"), ("filter_id", 1, "u32"), ("bias_id", 2, "u32"),
                     ("output_id", 3, "u32"), ("flags", 4, "u32")]


@dataclass
class XNNStaticTranspose:
    num_dims: int = 0
    perm: List[int] = field(default_factory=list)
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("num_dims", 0, "u32"), ("perm", 1, ("vec", "u32")),
                     ("input_id", 2, "u32"), ("output_id", 3, "u32"), ("flags", 4, "u32")]


@dataclass
class XNNStaticResizeBilinear2D:
    new_height: int = 0
    new_width: int = 0
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("new_height", 0, "u32"), ("new_width", 1, "u32"),
                     ("input_id", 2, "u32"), ("output_id", 3, "u32"), ("flags", 4, "u32")]


@dataclass
class XNNStaticConstantPad:
    pre_paddings: List[int] = field(default_factory=list)
    post_paddings: List[int] = field(default_factory=list)
    padding_value: float = 0.0
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("pre_paddings", 0, ("vec", "u32")), ("post_paddings", 1, ("vec", "u32")),
                     ("padding_value", 2, "f32"), ("input_id", 3, "u32"),
                     ("output_id", 4, "u32"), ("flags", 5, "u32")]


@dataclass
class XNNStaticReshape:
    num_dims: int = 0
    new_shape: List[int] = field(default_factory=list)
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("num_dims", 0, "u32"), ("new_shape", 1, ("vec", "u32")),
                     ("input_id", 2, "u32"), ("output_id", 3, "u32"), ("flags", 4, "u32")]


@dataclass
class XNNStaticSlice:
    num_dims: int = 0
    offsets: List[int] = field(default_factory=list)
    sizes: List[int] = field(default_factory=list)
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("num_dims", 0, "u32"), ("offsets", 1, ("vec", "u32")),
                     ("sizes", 2, ("vec", "u32")), ("input_id", 3, "u32"),
                     ("output_id", 4, "u32"), ("flags", 5, "u32")]


@dataclass
class XNNScaledDotProductAttention:
    query_id: int = 0
    key_id: int = 0
    value_id: int = 0
    scale_id: int = 0
    mask_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [(n, i, "u32") for i, n in enumerate([
        "query_id", "key_id", "value_id", "scale_id", "mask_id", "output_id", "flags"])]


@dataclass
class XNNArgMaxPooling2d:
    padding_top: int = 0
    padding_right: int = 0
    padding_bottom: int = 0
    padding_left: int = 0
    pooling_height: int = 0
    pooling_width: int = 0
    input_id: int = 0
    output_value_id: int = 0
    output_index_id: int = 0
    flags: int = 0
    _fb: ClassVar = [(n, i, "u32") for i, n in enumerate([
        "padding_top", "padding_right", "padding_bottom", "padding_left", "pooling_height",
        "pooling_width", "input_id", "output_value_id", "output_index_id", "flags"])]


@dataclass
class XNNLeakyReLU:
    negative_slope: float = 0.0
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("negative_slope", 0, "f32"), ("input_id", 1, "u32"),
                     ("output_id", 2, "u32"), ("flags", 3, "u32")]


@dataclass
class XNNELU:
    alpha: float = 0.0
    input_id: int = 0
    output_id: int = 0
    flags: int = 0
    _fb: ClassVar = [("alpha", 0, "f32"), ("input_id", 1, "u32"),
                     ("output_id", 2, "u32"), ("flags", 3, "u32")]


def _member(name: str, base: type) -> type:
    """A union member that shares ``base``'s table (its own class = its tag)."""
    return dataclass(type(name, (base,), {"__doc__": f"{name}: a {base.__name__} table."}))


XNNAdd = _member("XNNAdd", _XNNNode2x1)
XNNSoftmax = _member("XNNSoftmax", _XNNNode1x1)
XNNSigmoid = _member("XNNSigmoid", _XNNNode1x1)
XNNClamp = _member("XNNClamp", _XNNNode1x1)
XNNConv2d = _member("XNNConv2d", _XNNNodeConv)
XNNDiv = _member("XNNDiv", _XNNNode2x1)
XNNAvgPooling2d = _member("XNNAvgPooling2d", _XNNPooling2D)
XNNMinimum = _member("XNNMinimum", _XNNNode2x1)
XNNDepthwiseConv2d = _member("XNNDepthwiseConv2d", _XNNNodeConv)
XNNMaxPooling2d = _member("XNNMaxPooling2d", _XNNPooling2D)
XNNMultiply = _member("XNNMultiply", _XNNNode2x1)
XNNSubtract = _member("XNNSubtract", _XNNNode2x1)
XNNFloor = _member("XNNFloor", _XNNNode1x1)
XNNConvert = _member("XNNConvert", _XNNNode1x1)
XNNGlobalAvgPooling2d = _member("XNNGlobalAvgPooling2d", _XNNNode1x1)
XNNSquareRoot = _member("XNNSquareRoot", _XNNNode1x1)
XNNCeiling = _member("XNNCeiling", _XNNNode1x1)
XNNHardswish = _member("XNNHardswish", _XNNNode1x1)
XNNMaximum = _member("XNNMaximum", _XNNNode2x1)
XNNNegate = _member("XNNNegate", _XNNNode1x1)
XNNSquare = _member("XNNSquare", _XNNNode1x1)
XNNAbs = _member("XNNAbs", _XNNNode1x1)
XNNPReLU = _member("XNNPReLU", _XNNNode2x1)
XNNConcatenate2 = _member("XNNConcatenate2", _XNNCat)
XNNConcatenate3 = _member("XNNConcatenate3", _XNNCat)
XNNConcatenate4 = _member("XNNConcatenate4", _XNNCat)
XNNBatchMatrixMultiply = _member("XNNBatchMatrixMultiply", _XNNNode2x1)
XNNConcatenate5 = _member("XNNConcatenate5", _XNNCat)
XNNConvTranspose2d = _member("XNNConvTranspose2d", _XNNNodeConv)
XNNReciprocalSquareRoot = _member("XNNReciprocalSquareRoot", _XNNNode1x1)
XNNLog = _member("XNNLog", _XNNNode1x1)
XNNGelu = _member("XNNGelu", _XNNNode1x1)
XNNTanh = _member("XNNTanh", _XNNNode1x1)
XNNExp = _member("XNNExp", _XNNNode1x1)
XNNSin = _member("XNNSin", _XNNNode1x1)
XNNCopy = _member("XNNCopy", _XNNNode1x1)
XNNCos = _member("XNNCos", _XNNNode1x1)

# Tag order of schema.fbs's XNodeUnion (tag = position + 1).
XNODE_MEMBERS: List[type] = [
    XNNAdd, XNNFullyConnected, XNNSoftmax, XNNSigmoid, XNNStaticTranspose, XNNClamp,
    XNNConv2d, XNNDiv, XNNStaticResizeBilinear2D, XNNStaticConstantPad, XNNAvgPooling2d,
    XNNMinimum, XNNDepthwiseConv2d, XNNMaxPooling2d, XNNMultiply, XNNSubtract, XNNFloor,
    XNNConvert, XNNGlobalAvgPooling2d, XNNStaticReshape, XNNArgMaxPooling2d, XNNSquareRoot,
    XNNCeiling, XNNHardswish, XNNLeakyReLU, XNNMaximum, XNNNegate, XNNSquare, XNNELU, XNNAbs,
    XNNPReLU, XNNConcatenate2, XNNConcatenate3, XNNConcatenate4, XNNStaticSlice,
    XNNScaledDotProductAttention, XNNBatchMatrixMultiply, XNNConcatenate5, XNNConvTranspose2d,
    XNNReciprocalSquareRoot, XNNLog, XNNGelu, XNNTanh, XNNExp, XNNSin, XNNCopy, XNNCos,
]
XNodeUnion = UnionSpec("XNodeUnion", XNODE_MEMBERS)
CONCATENATE = {2: XNNConcatenate2, 3: XNNConcatenate3, 4: XNNConcatenate4, 5: XNNConcatenate5}


@dataclass
class OutputMinMax:
    output_min: float = 0.0
    output_max: float = 0.0
    _fb: ClassVar = [("output_min", 0, "f32"), ("output_max", 1, "f32")]


@dataclass
class XNode:
    xnode_union: object = None
    debug_handle: int = 0
    output_min_max: Optional[OutputMinMax] = None
    _fb: ClassVar = [("xnode_union", 0, ("union", XNodeUnion)), ("debug_handle", 2, "u32"),
                     ("output_min_max", 3, ("table", OutputMinMax))]


@dataclass
class ConstantDataOffset:
    offset: int = 0
    size: int = 0
    named_key: Optional[str] = None
    _fb: ClassVar = [("offset", 0, "u64"), ("size", 1, "u64"), ("named_key", 2, "str")]


@dataclass
class XNNGraph:
    version: str = "0"
    xnodes: List[XNode] = field(default_factory=list)
    xvalues: List[XValue] = field(default_factory=list)
    num_externs: int = 0
    input_ids: List[int] = field(default_factory=list)
    output_ids: List[int] = field(default_factory=list)
    constant_data: List[ConstantDataOffset] = field(default_factory=list)
    # ids 6 (constant_buffer) and 7 (mem_buffer_sizes) are deprecated
    _fb: ClassVar = [("version", 0, "str"), ("xnodes", 1, ("vec", ("table", XNode))),
                     ("xvalues", 2, ("vec", ("table", XValue))), ("num_externs", 3, "u32"),
                     ("input_ids", 4, ("vec", "u32")), ("output_ids", 5, ("vec", "u32")),
                     ("constant_data", 8, ("vec", ("table", ConstantDataOffset)))]


# ---------------------------------------------------------------------------
# the payload


def _aligned(n: int, a: int) -> int:
    return (n + a - 1) // a * a


def serialize_payload(graph: XNNGraph, constant_data: bytes = b"") -> bytes:
    """Header + graph + inline constant data, each part 16-byte aligned."""
    body = fb.encode(graph, XNN_FILE_IDENTIFIER)
    header_len = _aligned(XNN_HEADER_LENGTH, XNN_ALIGNMENT)
    fb_len = _aligned(len(body), XNN_ALIGNMENT)
    header = (bytes(4) + XNN_HEADER_MAGIC
              + struct.pack("<HIIIQ", XNN_HEADER_LENGTH, header_len, len(body),
                            header_len + fb_len, len(constant_data)))
    assert len(header) == XNN_HEADER_LENGTH
    return (header + bytes(header_len - len(header)) + body + bytes(fb_len - len(body))
            + bytes(constant_data))


@dataclass
class Payload:
    graph: XNNGraph
    constant_data: bytes

    def constant(self, idx: int, named: Optional[Dict[str, bytes]] = None) -> bytes:
        """The bytes of constant_data entry ``idx`` (inline or from ``named``)."""
        e = self.graph.constant_data[idx]
        if e.named_key:
            if named is None or e.named_key not in named:
                raise KeyError(e.named_key)
            return named[e.named_key][:e.size]
        return self.constant_data[e.offset:e.offset + e.size]


def read_payload(data: bytes) -> Payload:
    """Parse a payload (with the XH00 header, or a bare XN00/XN01 flatbuffer)."""
    data = bytes(data)
    if len(data) >= XNN_HEADER_LENGTH and data[4:8] == XNN_HEADER_MAGIC:
        length, fb_off, fb_size, cd_off, cd_size = struct.unpack_from("<HIIIQ", data, 8)
        if length < XNN_HEADER_LENGTH or fb_off + fb_size > len(data) \
                or cd_off + cd_size > len(data):
            raise fb.FlatbufferError("XNNPACK payload header points outside the payload")
        body, consts = data[fb_off:fb_off + fb_size], data[cd_off:cd_off + cd_size]
    else:
        body, consts = data, b""
    if body[4:8] not in (b"XN00", b"XN01"):
        raise fb.FlatbufferError(f"XNNPACK graph identifier {body[4:8]!r} is not XN00/XN01")
    return Payload(fb.decode(body, XNNGraph), consts)


def node_name(node: object) -> str:
    return type(node).__name__

