"""Whole-file layout of `.pte` and `.ptd`: header, flatbuffer, segments.

`.pte`::

    [0..3]  root offset   [4..7] "ET12"
    [8..39] optional extended header "eh00" (only when segment data is non-empty):
            u32 length=32, u64 program_size, u64 segment_base_offset,
            u64 segment_data_size
    flatbuffer body, zero padding to segment_base_offset, segments

`.ptd` always carries its "FH01" header (40 bytes, padded to 48).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import flatbuffer as fb
from .schema import (
    ELEMENT_SIZE, NUMPY_DTYPE, PTD_FILE_IDENTIFIER, PTD_HEADER_MAGIC,
    PTE_FILE_IDENTIFIER, PTE_HEADER_MAGIC, BackendDelegateInlineData, DataLocation,
    DataSegment, FlatTensor, NamedData,
    Program, PtdNamedData, ScalarType, SubsegmentOffsets, Tensor, TensorDataLocation,
    TensorLayout,
)

PTE_HEADER_LENGTH = 32
PTD_HEADER_LENGTH = 40


def aligned(n: int, alignment: int) -> int:
    return (n + alignment - 1) // alignment * alignment


Chunk = Union[bytes, bytearray, memoryview]


def _pack_chunks(buffers: Sequence[Chunk], alignment: Optional[int]
                 ) -> Tuple[List[Chunk], List[int], int]:
    """Buffers laid end to end, each but the last padded to ``alignment``:
    (the pieces in order, with padding between them; each buffer's offset;
    total size). The buffers are not copied."""
    chunks: List[Chunk] = []
    offsets = []
    size = 0
    for i, b in enumerate(buffers):
        offsets.append(size)
        n = memoryview(b).nbytes
        if n:
            chunks.append(b)
        size += n
        if alignment and i != len(buffers) - 1:
            pad = aligned(size, alignment) - size
            if pad:
                chunks.append(bytes(pad))
            size += pad
    return chunks, offsets, size


def _pack_subsegments(buffers: Sequence[bytes], alignment: Optional[int]) -> Tuple[bytes, List[int]]:
    """Concatenate buffers; each but the last is padded to ``alignment``."""
    chunks, offsets, _ = _pack_chunks(buffers, alignment)
    return b"".join(chunks), offsets


def _layout_segment_chunks(datas: Sequence[Tuple[List[Chunk], int, int]], segment_alignment: int
                           ) -> Tuple[List[DataSegment], List[Chunk], int]:
    """Segments (pieces, size, alignment) placed one after another: their
    table, the pieces with padding, the total size."""
    segs: List[DataSegment] = []
    chunks: List[Chunk] = []
    size = 0
    for pieces, n, align in datas:
        a = math.lcm(segment_alignment, align)
        start = aligned(size, a)
        if start > size:
            chunks.append(bytes(start - size))
        segs.append(DataSegment(offset=start, size=n))
        chunks.extend(pieces)
        size = start + n
    return segs, chunks, size


def _layout_segments(datas: Sequence[Tuple[bytes, int]], segment_alignment: int
                     ) -> Tuple[List[DataSegment], bytes]:
    segs, chunks, _ = _layout_segment_chunks([([d], len(d), a) for d, a in datas],
                                             segment_alignment)
    return segs, b"".join(chunks)


def _place_delegates(program: Program, delegate_data: Sequence[bytes],
                     seg_datas: List[Tuple[bytes, int]], first: int = 0) -> None:
    """Move delegate payloads to segments (see serialize_pte); the segments
    appended to ``seg_datas`` get indices from ``first + len(seg_datas)``."""
    segment_of: Dict[int, int] = {}
    by_bytes: Dict[bytes, int] = {}
    inline: List[BackendDelegateInlineData] = []
    inline_of: Dict[int, int] = {}
    for plan in program.execution_plan:
        for d in plan.delegates or []:
            ref = d.processed
            if ref is None or ref.location != DataLocation.INLINE:
                raise ValueError(f"delegate {d.id}: processed data must be given inline")
            if not 0 <= ref.index < len(delegate_data):
                raise ValueError(f"delegate {d.id}: no payload {ref.index}")
            data = bytes(delegate_data[ref.index])
            if not data:
                if ref.index not in inline_of:
                    inline_of[ref.index] = len(inline)
                    inline.append(BackendDelegateInlineData(data=b""))
                ref.index = inline_of[ref.index]
                continue
            if ref.index not in segment_of:
                if data not in by_bytes:
                    by_bytes[data] = first + len(seg_datas)
                    seg_datas.append((data, 1))
                segment_of[ref.index] = by_bytes[data]
            ref.location = DataLocation.SEGMENT
            ref.index = segment_of[ref.index]
    program.backend_delegate_data = inline


def _insert_header(flatbuffer: bytes, header: bytes) -> bytes:
    root = struct.unpack_from("<I", flatbuffer, 0)[0] + len(header)
    return struct.pack("<I", root) + flatbuffer[4:8] + header + flatbuffer[8:]


def serialize_pte(program: Program, constant_buffers: Sequence[Chunk], *,
                  mutable_buffers: Optional[Sequence[Chunk]] = None,
                  named_data: Optional[Dict[str, Tuple[bytes, int]]] = None,
                  delegate_data: Optional[Sequence[bytes]] = None,
                  constant_tensor_alignment: int = 16,
                  segment_alignment: int = 128) -> bytes:
    """The `.pte` bytes (``serialize_pte_chunks`` joined)."""
    return b"".join(serialize_pte_chunks(
        program, constant_buffers, mutable_buffers=mutable_buffers, named_data=named_data,
        delegate_data=delegate_data, constant_tensor_alignment=constant_tensor_alignment,
        segment_alignment=segment_alignment))


def serialize_pte_chunks(program: Program, constant_buffers: Sequence[Chunk], *,
                         mutable_buffers: Optional[Sequence[Chunk]] = None,
                         named_data: Optional[Dict[str, Tuple[bytes, int]]] = None,
                         delegate_data: Optional[Sequence[bytes]] = None,
                         constant_tensor_alignment: int = 16,
                         segment_alignment: int = 128) -> List[Chunk]:
    """Lay out segments, fill the program's segment tables, and return the
    file as pieces to write in order (the constant and mutable buffers are
    among them as given, not copied: a large model is written without a
    second copy of its weights).

    ``constant_buffers[0]`` must be the empty placeholder; tensors refer to
    the rest by ``data_buffer_idx``.  ``mutable_buffers`` (initial state of
    planned buffers, index 0 reserved too) becomes the mutable-data segment
    when it holds more than the placeholder.  ``named_data`` maps a key to
    ``(bytes, alignment)``.  ``delegate_data`` holds the backends' processed
    payloads; every ``BackendDelegate.processed`` of the program must say
    INLINE with an index into it.  As upstream does (``extract_delegate_segments``),
    each non-empty payload moves to a segment (identical payloads share one)
    and its reference becomes SEGMENT with the segment's index; empty ones stay
    inline in ``Program.backend_delegate_data``.  Segment order is upstream's:
    constants, mutable data, delegate payloads, named data.
    """
    if constant_tensor_alignment <= 0 or constant_tensor_alignment & (constant_tensor_alignment - 1):
        raise ValueError("constant_tensor_alignment must be a power of two")
    if segment_alignment <= 0 or segment_alignment & (segment_alignment - 1):
        raise ValueError("segment_alignment must be a power of two")
    if not constant_buffers or memoryview(constant_buffers[0]).nbytes != 0:
        raise ValueError("constant buffer 0 must be the empty placeholder")
    seg_datas: List[Tuple[List[Chunk], int, int]] = []
    pieces, offsets, size = _pack_chunks(constant_buffers, constant_tensor_alignment)
    seg_datas.append((pieces, size, constant_tensor_alignment))
    program.constant_segment = SubsegmentOffsets(segment_index=0, offsets=offsets)
    program.constant_buffer = []
    program.mutable_data_segments = None
    if mutable_buffers is not None and len(mutable_buffers) > 1:
        mpieces, moffs, msize = _pack_chunks(mutable_buffers, constant_tensor_alignment)
        program.mutable_data_segments = [
            SubsegmentOffsets(segment_index=len(seg_datas), offsets=moffs)]
        seg_datas.append((mpieces, msize, constant_tensor_alignment))
    flat: List[Tuple[bytes, int]] = []
    _place_delegates(program, delegate_data or [], flat, first=len(seg_datas))
    program.named_data = None
    if named_data:
        program.named_data = []
        seen: Dict[bytes, int] = {}
        for key, (data, align) in named_data.items():
            if data not in seen:
                seen[data] = len(seg_datas) + len(flat)
                flat.append((data, align))
            program.named_data.append(NamedData(key=key, segment_index=seen[data]))
    seg_datas.extend(([d], len(d), a) for d, a in flat)
    segs, seg_chunks, seg_size = _layout_segment_chunks(seg_datas, segment_alignment)
    program.segments = segs
    body = fb.encode(program, PTE_FILE_IDENTIFIER)
    if not seg_size:
        return [body]
    program_size = len(body) + PTE_HEADER_LENGTH
    base = aligned(program_size, segment_alignment)
    header = (PTE_HEADER_MAGIC + struct.pack("<IQQQ", PTE_HEADER_LENGTH, program_size,
                                             base, seg_size))
    head = _insert_header(body, header)
    return [head, bytes(base - len(head))] + seg_chunks


# ---------------------------------------------------------------------------
# Reading


@dataclass
class PteFile:
    """A parsed `.pte`: the program tables plus access to segment bytes."""

    program: Program
    data: bytes
    program_size: int
    segment_base_offset: int
    segment_data_size: int
    has_extended_header: bool

    def segment(self, index: int) -> bytes:
        seg = self.program.segments[index]
        start = self.segment_base_offset + seg.offset
        if start + seg.size > len(self.data):
            raise fb.FlatbufferError(f"segment {index} runs past the end of the file")
        return self.data[start:start + seg.size]

    def constant_bytes(self, data_buffer_idx: int, nbytes: int) -> bytes:
        cs = self.program.constant_segment
        if cs is not None and cs.offsets and len(cs.offsets) > 1:
            seg = self.segment(cs.segment_index)
            off = cs.offsets[data_buffer_idx]
            if off + nbytes > len(seg):
                raise fb.FlatbufferError(f"constant {data_buffer_idx} runs past its segment")
            return seg[off:off + nbytes]
        buf = self.program.constant_buffer[data_buffer_idx].storage
        return buf[:nbytes]

    def mutable_bytes(self, data_buffer_idx: int, nbytes: int) -> bytes:
        ms = self.program.mutable_data_segments[0]
        seg = self.segment(ms.segment_index)
        off = ms.offsets[data_buffer_idx]
        return seg[off:off + nbytes]

    def tensor_array(self, t: Tensor) -> Optional[np.ndarray]:
        """The constant data of a tensor as a numpy array, or None."""
        if t.data_buffer_idx == 0 or t.allocation_info is not None:
            return None
        st = ScalarType(t.scalar_type)
        raw = self.constant_bytes(t.data_buffer_idx, t.nbytes)
        if st not in NUMPY_DTYPE:
            return np.frombuffer(raw, np.uint8)
        return np.frombuffer(raw, NUMPY_DTYPE[st]).reshape(t.sizes)

    @property
    def constant_segment_size(self) -> int:
        cs = self.program.constant_segment
        if cs is None or len(cs.offsets) <= 1:
            return sum(len(b.storage) for b in self.program.constant_buffer)
        return self.program.segments[cs.segment_index].size


def read_pte(data: bytes) -> PteFile:
    data = bytes(data)
    if len(data) < 8 or data[4:8] != PTE_FILE_IDENTIFIER:
        raise fb.FlatbufferError(
            f"not a .pte file: identifier {data[4:8]!r} (expected {PTE_FILE_IDENTIFIER!r})")
    has_header = data[8:12] == PTE_HEADER_MAGIC
    program_size, base, seg_size = len(data), 0, 0
    if has_header:
        length = struct.unpack_from("<I", data, 12)[0]
        if length < 24:
            raise fb.FlatbufferError("extended header too short")
        program_size, base = struct.unpack_from("<QQ", data, 16)
        if length >= 32:
            seg_size = struct.unpack_from("<Q", data, 32)[0]
        if program_size > len(data):
            raise fb.FlatbufferError("program_size exceeds file size")
    program = fb.decode(data[:program_size], Program, PTE_FILE_IDENTIFIER)
    return PteFile(program, data, program_size, base, seg_size, has_header)


# ---------------------------------------------------------------------------
# .ptd


def serialize_ptd(tensors: Dict[str, Tuple[bytes, TensorLayout]], *,
                  tensor_alignment: int = 16, segment_alignment: int = 128) -> bytes:
    """Write a FlatTensor file: one segment per distinct byte string."""
    seg_datas: List[Tuple[bytes, int]] = []
    seen: Dict[bytes, int] = {}
    named: List[PtdNamedData] = []
    for key, (data, layout) in tensors.items():
        if data not in seen:
            seen[data] = len(seg_datas)
            seg_datas.append((data, tensor_alignment))
        named.append(PtdNamedData(key=key, segment_index=seen[data], tensor_layout=layout))
    segs, blob = _layout_segments(seg_datas, segment_alignment)
    return serialize_flat_tensor(FlatTensor(version=0, segments=segs, named_data=named), blob,
                                 segment_alignment=segment_alignment)


def serialize_flat_tensor(flat_tensor: FlatTensor, blob: bytes, *,
                          segment_alignment: int = 128) -> bytes:
    """A .ptd file from its FlatTensor table and segment data, as given
    (serialize_ptd lays both out; tests use this to write damaged files)."""
    body = fb.encode(flat_tensor, PTD_FILE_IDENTIFIER)
    padded = aligned(PTD_HEADER_LENGTH, 16)
    base = aligned(len(body) + padded, segment_alignment)
    header = PTD_HEADER_MAGIC + struct.pack("<IQQQQ", PTD_HEADER_LENGTH, padded, len(body),
                                            base, len(blob))
    header += bytes(padded - len(header))
    out = bytearray(_insert_header(body, header))
    out += bytes(base - len(out))
    out += blob
    return bytes(out)


@dataclass
class PtdFile:
    flat_tensor: FlatTensor
    data: bytes
    segment_base_offset: int

    def keys(self) -> List[str]:
        return [n.key for n in self.flat_tensor.named_data]

    def get(self, key: str) -> Tuple[bytes, TensorLayout]:
        for n in self.flat_tensor.named_data:
            if n.key == key:
                seg = self.flat_tensor.segments[n.segment_index]
                start = self.segment_base_offset + seg.offset
                return self.data[start:start + seg.size], n.tensor_layout
        raise KeyError(key)

    def array(self, key: str) -> np.ndarray:
        raw, layout = self.get(key)
        return np.frombuffer(raw, NUMPY_DTYPE[ScalarType(layout.scalar_type)]).reshape(
            layout.sizes)


def read_ptd(data: bytes) -> PtdFile:
    data = bytes(data)
    if len(data) < 56 or data[4:8] != PTD_FILE_IDENTIFIER or data[8:12] != PTD_HEADER_MAGIC:
        raise fb.FlatbufferError("not a .ptd file")
    length, fb_off, fb_size, base, seg_size = struct.unpack_from("<IQQQQ", data, 12)
    ft = fb.decode(data[:fb_off + fb_size], FlatTensor, PTD_FILE_IDENTIFIER)
    return PtdFile(ft, data, base)


__all__ = ["serialize_pte", "read_pte", "PteFile", "serialize_ptd", "serialize_flat_tensor",
           "read_ptd", "PtdFile",
           "aligned", "ELEMENT_SIZE", "TensorDataLocation"]
