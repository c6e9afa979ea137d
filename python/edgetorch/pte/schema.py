"""The tables of the `.pte` (ExecuTorch "ET12") and `.ptd` ("FT01") formats.

Each table is a dataclass whose ``_fb`` attribute lists its flatbuffer fields
as ``(name, field_id, kind)``; ``edgetorch.pte.flatbuffer`` encodes and decodes
any of them from that description.  Field ids, union tags and enum values
follow upstream's ``schema/program.fbs`` and ``flat_tensor.fbs`` so that files
move both ways between the two projects.

Kinds: a scalar name (``"bool" "u8" "i8" "u32" "i32" "u64" "i64" "f64"``),
``"str"``, ``("table", Cls)``, ``("vec", kind)``, ``("union", UnionSpec)``
(which occupies two ids: the type byte and the value), or
``("bytes", align)`` for a ``[ubyte]`` vector with a forced alignment.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import ClassVar, List, Optional, Union

import numpy as np

PTE_FILE_IDENTIFIER = b"ET12"
PTD_FILE_IDENTIFIER = b"FT01"
PTE_HEADER_MAGIC = b"eh00"
PTD_HEADER_MAGIC = b"FH01"


class ScalarType(enum.IntEnum):
    BYTE = 0
    CHAR = 1
    SHORT = 2
    INT = 3
    LONG = 4
    HALF = 5
    FLOAT = 6
    DOUBLE = 7
    COMPLEX32 = 8
    COMPLEX64 = 9
    COMPLEX128 = 10
    BOOL = 11
    QINT8 = 12
    QUINT8 = 13
    QINT32 = 14
    BFLOAT16 = 15
    QUINT4X2 = 16
    QUINT2X4 = 17
    BITS16 = 22
    FLOAT8E5M2 = 23
    FLOAT8E4M3FN = 24
    FLOAT8E5M2FNUZ = 25
    FLOAT8E4M3FNUZ = 26
    UINT16 = 27
    UINT32 = 28
    UINT64 = 29


ELEMENT_SIZE = {
    ScalarType.BYTE: 1, ScalarType.CHAR: 1, ScalarType.SHORT: 2,
    ScalarType.INT: 4, ScalarType.LONG: 8, ScalarType.HALF: 2,
    ScalarType.FLOAT: 4, ScalarType.DOUBLE: 8, ScalarType.COMPLEX32: 4,
    ScalarType.COMPLEX64: 8, ScalarType.COMPLEX128: 16, ScalarType.BOOL: 1,
    ScalarType.QINT8: 1, ScalarType.QUINT8: 1, ScalarType.QINT32: 4,
    ScalarType.BFLOAT16: 2, ScalarType.QUINT4X2: 1, ScalarType.QUINT2X4: 1,
    ScalarType.BITS16: 2, ScalarType.FLOAT8E5M2: 1, ScalarType.FLOAT8E4M3FN: 1,
    ScalarType.FLOAT8E5M2FNUZ: 1, ScalarType.FLOAT8E4M3FNUZ: 1,
    ScalarType.UINT16: 2, ScalarType.UINT32: 4, ScalarType.UINT64: 8,
}

# numpy dtypes for the scalar types numpy can hold (used by the reader).
NUMPY_DTYPE = {
    ScalarType.BYTE: np.uint8, ScalarType.CHAR: np.int8,
    ScalarType.SHORT: np.int16, ScalarType.INT: np.int32,
    ScalarType.LONG: np.int64, ScalarType.HALF: np.float16,
    ScalarType.FLOAT: np.float32, ScalarType.DOUBLE: np.float64,
    ScalarType.BOOL: np.bool_, ScalarType.UINT16: np.uint16,
    ScalarType.UINT32: np.uint32, ScalarType.UINT64: np.uint64,
}


class TensorShapeDynamism(enum.IntEnum):
    STATIC = 0
    DYNAMIC_BOUND = 1
    DYNAMIC_UNBOUND = 2


class TensorDataLocation(enum.IntEnum):
    SEGMENT = 0
    EXTERNAL = 1


class DataLocation(enum.IntEnum):
    INLINE = 0
    SEGMENT = 1


class UnionSpec:
    """A flatbuffer union: tag number <-> table class (tag 0 is NONE)."""

    def __init__(self, name: str, members: list) -> None:
        self.name = name
        self.by_tag = {i + 1: cls for i, cls in enumerate(members)}
        self.by_cls = {cls: i + 1 for i, cls in enumerate(members)}


# --------------------------------------------------------------------------
# Program (.pte)


@dataclass
class ContainerMetadata:
    encoded_inp_str: str = ""
    encoded_out_str: str = ""
    _fb: ClassVar = [("encoded_inp_str", 0, "str"), ("encoded_out_str", 1, "str")]


@dataclass
class Null:
    _fb: ClassVar = []


@dataclass
class AllocationDetails:
    memory_id: int = 0
    memory_offset_low: int = 0
    memory_offset_high: int = 0
    _fb: ClassVar = [("memory_id", 0, "u32"), ("memory_offset_low", 1, "u32"),
                     ("memory_offset_high", 2, "u32")]

    @property
    def offset(self) -> int:
        return self.memory_offset_low | (self.memory_offset_high << 32)

    @staticmethod
    def make(memory_id: int, offset: int) -> "AllocationDetails":
        return AllocationDetails(memory_id, offset & 0xFFFFFFFF, offset >> 32)


@dataclass
class ExtraTensorInfo:
    mutable_data_segments_idx: int = 0
    fully_qualified_name: Optional[str] = None
    location: int = TensorDataLocation.SEGMENT
    device_type: int = 0
    device_index: int = 0
    _fb: ClassVar = [("mutable_data_segments_idx", 0, "u64"),
                     ("fully_qualified_name", 1, "str"), ("location", 2, "i8"),
                     ("device_type", 3, "i8"), ("device_index", 4, "i8")]


@dataclass
class Tensor:
    scalar_type: int = ScalarType.FLOAT
    storage_offset: int = 0
    sizes: List[int] = field(default_factory=list)
    dim_order: List[int] = field(default_factory=list)
    requires_grad: bool = False
    data_buffer_idx: int = 0
    allocation_info: Optional[AllocationDetails] = None
    layout: int = 0
    shape_dynamism: int = TensorShapeDynamism.STATIC
    extra_tensor_info: Optional[ExtraTensorInfo] = None
    _fb: ClassVar = None  # filled below (refers to later classes)

    @property
    def nbytes(self) -> int:
        n = 1
        for s in self.sizes:
            n *= s
        return n * ELEMENT_SIZE[ScalarType(self.scalar_type)]


Tensor._fb = [("scalar_type", 0, "i8"), ("storage_offset", 1, "i32"),
              ("sizes", 2, ("vec", "i32")), ("dim_order", 3, ("vec", "u8")),
              ("requires_grad", 4, "bool"), ("data_buffer_idx", 5, "u32"),
              ("allocation_info", 6, ("table", AllocationDetails)),
              ("layout", 7, "i8"), ("shape_dynamism", 8, "i8"),
              ("extra_tensor_info", 9, ("table", ExtraTensorInfo))]


@dataclass
class Int:
    int_val: int = 0
    _fb: ClassVar = [("int_val", 0, "i64")]


@dataclass
class Bool:
    bool_val: bool = False
    _fb: ClassVar = [("bool_val", 0, "bool")]


@dataclass
class Double:
    double_val: float = 0.0
    _fb: ClassVar = [("double_val", 0, "f64")]


@dataclass
class String:
    string_val: str = ""
    _fb: ClassVar = [("string_val", 0, "str")]


@dataclass
class IntList:
    items: List[int] = field(default_factory=list)  # value indices of Int EValues
    _fb: ClassVar = [("items", 0, ("vec", "i64"))]


@dataclass
class DoubleList:
    items: List[float] = field(default_factory=list)
    _fb: ClassVar = [("items", 0, ("vec", "f64"))]


@dataclass
class BoolList:
    items: List[bool] = field(default_factory=list)
    _fb: ClassVar = [("items", 0, ("vec", "bool"))]


@dataclass
class TensorList:
    items: List[int] = field(default_factory=list)
    _fb: ClassVar = [("items", 0, ("vec", "i32"))]


@dataclass
class OptionalTensorList:
    items: List[int] = field(default_factory=list)
    _fb: ClassVar = [("items", 0, ("vec", "i32"))]


KernelTypes = UnionSpec("KernelTypes", [Null, Int, Bool, Double, Tensor, String,
                                        IntList, DoubleList, BoolList, TensorList,
                                        OptionalTensorList])

EValueVal = Union[Null, Int, Bool, Double, Tensor, String, IntList, DoubleList,
                  BoolList, TensorList, OptionalTensorList]


@dataclass
class EValue:
    val: EValueVal = field(default_factory=Null)
    _fb: ClassVar = [("val", 0, ("union", KernelTypes))]


@dataclass
class Operator:
    name: str = ""
    overload: str = ""
    _fb: ClassVar = [("name", 0, "str"), ("overload", 1, "str")]

    @property
    def full_name(self) -> str:
        return f"{self.name}.{self.overload}" if self.overload else self.name


@dataclass
class KernelCall:
    op_index: int = 0
    args: List[int] = field(default_factory=list)
    _fb: ClassVar = [("op_index", 0, "i32"), ("args", 1, ("vec", "i32"))]


@dataclass
class DelegateCall:
    delegate_index: int = 0
    args: List[int] = field(default_factory=list)
    _fb: ClassVar = [("delegate_index", 0, "i32"), ("args", 1, ("vec", "i32"))]


@dataclass
class MoveCall:
    move_from: int = 0
    move_to: int = 0
    _fb: ClassVar = [("move_from", 0, "i32"), ("move_to", 1, "i32")]


@dataclass
class JumpFalseCall:
    cond_value_index: int = 0
    destination_instruction: int = 0
    _fb: ClassVar = [("cond_value_index", 0, "i32"),
                     ("destination_instruction", 1, "i32")]


@dataclass
class FreeCall:
    value_index: int = 0
    _fb: ClassVar = [("value_index", 0, "i32")]


InstructionArguments = UnionSpec("InstructionArguments", [
    KernelCall, DelegateCall, MoveCall, JumpFalseCall, FreeCall])


@dataclass
class Instruction:
    instr_args: Union[KernelCall, DelegateCall, MoveCall, JumpFalseCall, FreeCall] = None
    _fb: ClassVar = [("instr_args", 0, ("union", InstructionArguments))]


@dataclass
class Frame:
    filename: str = ""
    lineno: int = 0
    name: str = ""
    context: str = ""
    _fb: ClassVar = [("filename", 0, "str"), ("lineno", 1, "i32"),
                     ("name", 2, "str"), ("context", 3, "str")]


@dataclass
class FrameList:
    items: List[Frame] = field(default_factory=list)
    _fb: ClassVar = [("items", 0, ("vec", ("table", Frame)))]


@dataclass
class BackendDelegateDataReference:
    location: int = DataLocation.INLINE
    index: int = 0
    _fb: ClassVar = [("location", 0, "i8"), ("index", 1, "u32")]


@dataclass
class CompileSpec:
    key: str = ""
    value: bytes = b""
    _fb: ClassVar = [("key", 0, "str"), ("value", 1, ("bytes", 1))]


@dataclass
class BackendDelegate:
    id: str = ""
    processed: Optional[BackendDelegateDataReference] = None
    compile_specs: List[CompileSpec] = field(default_factory=list)
    _fb: ClassVar = [("id", 0, "str"),
                     ("processed", 1, ("table", BackendDelegateDataReference)),
                     ("compile_specs", 2, ("vec", ("table", CompileSpec)))]


@dataclass
class Chain:
    inputs: List[int] = field(default_factory=list)
    outputs: List[int] = field(default_factory=list)
    instructions: List[Instruction] = field(default_factory=list)
    stacktrace: Optional[List[FrameList]] = None
    _fb: ClassVar = [("inputs", 0, ("vec", "i32")), ("outputs", 1, ("vec", "i32")),
                     ("instructions", 2, ("vec", ("table", Instruction))),
                     ("stacktrace", 3, ("vec", ("table", FrameList)))]


@dataclass
class NonConstBufferDevice:
    buffer_idx: int = 0
    device_type: int = 0
    device_index: int = 0
    _fb: ClassVar = [("buffer_idx", 0, "i32"), ("device_type", 1, "i8"),
                     ("device_index", 2, "i8")]


@dataclass
class ExecutionPlan:
    name: str = ""
    container_meta_type: Optional[ContainerMetadata] = None
    values: List[EValue] = field(default_factory=list)
    inputs: List[int] = field(default_factory=list)
    outputs: List[int] = field(default_factory=list)
    chains: List[Chain] = field(default_factory=list)
    operators: List[Operator] = field(default_factory=list)
    delegates: List[BackendDelegate] = field(default_factory=list)
    non_const_buffer_sizes: List[int] = field(default_factory=list)
    non_const_buffer_device: Optional[List[NonConstBufferDevice]] = None
    _fb: ClassVar = [("name", 0, "str"),
                     ("container_meta_type", 1, ("table", ContainerMetadata)),
                     ("values", 2, ("vec", ("table", EValue))),
                     ("inputs", 3, ("vec", "i32")), ("outputs", 4, ("vec", "i32")),
                     ("chains", 5, ("vec", ("table", Chain))),
                     ("operators", 6, ("vec", ("table", Operator))),
                     ("delegates", 7, ("vec", ("table", BackendDelegate))),
                     ("non_const_buffer_sizes", 8, ("vec", "i64")),
                     ("non_const_buffer_device", 9,
                      ("vec", ("table", NonConstBufferDevice)))]


@dataclass
class Buffer:
    storage: bytes = b""
    _fb: ClassVar = [("storage", 0, ("bytes", 16))]


@dataclass
class BackendDelegateInlineData:
    data: bytes = b""
    _fb: ClassVar = [("data", 0, ("bytes", 16))]


@dataclass
class DataSegment:
    offset: int = 0
    size: int = 0
    _fb: ClassVar = [("offset", 0, "u64"), ("size", 1, "u64")]


@dataclass
class SubsegmentOffsets:
    segment_index: int = 0
    offsets: List[int] = field(default_factory=list)
    _fb: ClassVar = [("segment_index", 0, "u32"), ("offsets", 1, ("vec", "u64"))]


@dataclass
class NamedData:
    key: str = ""
    segment_index: int = 0
    _fb: ClassVar = [("key", 0, "str"), ("segment_index", 1, "u32")]


@dataclass
class Program:
    version: int = 0
    execution_plan: List[ExecutionPlan] = field(default_factory=list)
    constant_buffer: List[Buffer] = field(default_factory=list)
    backend_delegate_data: List[BackendDelegateInlineData] = field(default_factory=list)
    segments: List[DataSegment] = field(default_factory=list)
    constant_segment: Optional[SubsegmentOffsets] = None
    mutable_data_segments: Optional[List[SubsegmentOffsets]] = None
    named_data: Optional[List[NamedData]] = None
    _fb: ClassVar = [("version", 0, "u32"),
                     ("execution_plan", 1, ("vec", ("table", ExecutionPlan))),
                     ("constant_buffer", 2, ("vec", ("table", Buffer))),
                     ("backend_delegate_data", 3,
                      ("vec", ("table", BackendDelegateInlineData))),
                     ("segments", 4, ("vec", ("table", DataSegment))),
                     ("constant_segment", 5, ("table", SubsegmentOffsets)),
                     ("mutable_data_segments", 6, ("vec", ("table", SubsegmentOffsets))),
                     ("named_data", 7, ("vec", ("table", NamedData)))]


# --------------------------------------------------------------------------
# FlatTensor (.ptd)


@dataclass
class TensorLayout:
    scalar_type: int = ScalarType.FLOAT
    sizes: List[int] = field(default_factory=list)
    dim_order: List[int] = field(default_factory=list)
    _fb: ClassVar = [("scalar_type", 0, "i8"), ("sizes", 1, ("vec", "i32")),
                     ("dim_order", 2, ("vec", "u8"))]


@dataclass
class PtdNamedData:
    key: str = ""
    segment_index: int = 0
    tensor_layout: Optional[TensorLayout] = None
    _fb: ClassVar = [("key", 0, "str"), ("segment_index", 1, "u32"),
                     ("tensor_layout", 2, ("table", TensorLayout))]


@dataclass
class FlatTensor:
    version: int = 0
    segments: List[DataSegment] = field(default_factory=list)
    named_data: List[PtdNamedData] = field(default_factory=list)
    _fb: ClassVar = [("version", 0, "u32"),
                     ("segments", 1, ("vec", ("table", DataSegment))),
                     ("named_data", 2, ("vec", ("table", PtdNamedData)))]
