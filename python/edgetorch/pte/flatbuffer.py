"""A small FlatBuffer encoder and decoder driven by the table descriptions in
``edgetorch.pte.schema``.

The encoder writes front to back: the root table first, every child after the
object that refers to it (FlatBuffer uoffsets are unsigned and point forward),
each vtable just before its table.  Scalars equal to their default and fields
set to ``None`` are omitted; empty lists are written as empty vectors (the
ExecuTorch runtime requires several vectors to be present even when empty).
All positions are aligned relative to the start of the buffer, so any later
insertion of a header whose length is a multiple of 16 keeps every alignment.

The decoder is the mirror image: it walks vtables and returns the same
dataclasses.  It checks every offset against the buffer bounds and raises
``FlatbufferError`` instead of reading past the end.
"""

from __future__ import annotations

import struct
from collections import deque
from typing import Any, Tuple

_SCALAR = {
    "bool": ("<?", 1), "u8": ("<B", 1), "i8": ("<b", 1), "u16": ("<H", 2),
    "i16": ("<h", 2), "u32": ("<I", 4), "i32": ("<i", 4), "u64": ("<Q", 8),
    "i64": ("<q", 8), "f32": ("<f", 4), "f64": ("<d", 8),
}
_NUMPY_CODE = {"bool": "?", "u8": "B", "i8": "b", "u16": "H", "i16": "h", "u32": "I",
               "i32": "i", "u64": "Q", "i64": "q", "f32": "f", "f64": "d"}


class FlatbufferError(ValueError):
    pass


def _is_scalar(kind: Any) -> bool:
    return isinstance(kind, str) and kind in _SCALAR


# ---------------------------------------------------------------------------
# Encoder


class _Encoder:
    def __init__(self) -> None:
        self.buf = bytearray()
        # (position of a uoffset to patch, kind, value)
        self.pending: deque = deque()

    def pad_to(self, align: int, extra: int = 0) -> None:
        """Pad so that (len(buf) + extra) is a multiple of align."""
        while (len(self.buf) + extra) % align:
            self.buf.append(0)

    def put(self, fmt: str, value: Any) -> int:
        pos = len(self.buf)
        self.buf += struct.pack(fmt, value)
        return pos

    def patch(self, at: int, target: int) -> None:
        if target <= at:
            raise FlatbufferError("internal: backwards uoffset")
        struct.pack_into("<I", self.buf, at, target - at)

    # objects referenced by offset --------------------------------------
    def write_child(self, kind: Any, value: Any) -> int:
        if kind == "str":
            data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
            self.pad_to(4)
            pos = self.put("<I", len(data))
            self.buf += data + b"\0"
            return pos
        if isinstance(kind, tuple) and kind[0] == "table":
            return self.write_table(value)
        if isinstance(kind, tuple) and kind[0] == "bytes":
            align = max(4, kind[1])
            data = bytes(value)
            self.pad_to(align, 4)
            pos = self.put("<I", len(data))
            self.buf += data
            return pos
        if isinstance(kind, tuple) and kind[0] == "vec":
            elem = kind[1]
            items = list(value)
            if _is_scalar(elem):
                fmt, size = _SCALAR[elem]
                self.pad_to(max(4, size), 4)
                pos = self.put("<I", len(items))
                if items:
                    self.buf += struct.pack("<%d%s" % (len(items), fmt[1]), *items)
                return pos
            # vector of offsets (tables or strings)
            self.pad_to(4)
            pos = self.put("<I", len(items))
            slots = []
            for _ in items:
                slots.append(self.put("<I", 0))
            for slot, item in zip(slots, items):
                self.pending.append((slot, elem, item))
            return pos
        raise FlatbufferError(f"cannot encode kind {kind!r}")

    def write_table(self, obj: Any) -> int:
        spec = type(obj)._fb
        # Collect (field id, size, alignment, payload) for inline slots.
        inline = []  # (fid, fmt or None, value, child kind or None)
        max_id = -1
        for name, fid, kind in spec:
            value = getattr(obj, name)
            if isinstance(kind, tuple) and kind[0] == "union":
                if value is None:
                    continue
                tag = kind[1].by_cls.get(type(value))
                if tag is None:
                    raise FlatbufferError(
                        f"{type(obj).__name__}.{name}: {type(value).__name__} is "
                        f"not a member of union {kind[1].name}")
                inline.append((fid, "<B", tag, None))
                inline.append((fid + 1, "<I", 0, ("table", type(value)), value))
                max_id = max(max_id, fid + 1)
                continue
            if _is_scalar(kind):
                if value is None:
                    continue
                if kind == "bool":
                    value = bool(value)
                    if not value:
                        continue
                elif kind in ("f32", "f64"):
                    value = float(value)
                    if value == 0.0:
                        continue
                else:
                    value = int(value)
                    if value == 0:
                        continue
                inline.append((fid, _SCALAR[kind][0], value, None))
                max_id = max(max_id, fid)
                continue
            if value is None:
                continue
            inline.append((fid, "<I", 0, kind, value))
            max_id = max(max_id, fid)

        # Layout: sort by size (largest first) after the 4-byte soffset.
        def size_of(entry):
            return struct.calcsize(entry[1])

        order = sorted(inline, key=lambda e: -size_of(e))
        offsets = {}
        cursor = 4
        max_align = 4
        for entry in order:
            sz = size_of(entry)
            max_align = max(max_align, sz)
            while cursor % sz:
                cursor += 1
            offsets[id(entry)] = cursor
            cursor += sz
        table_size = cursor
        # vtable
        nfields = max_id + 1
        vt = [0] * nfields
        for entry in inline:
            vt[entry[0]] = offsets[id(entry)]
        self.pad_to(2)
        vt_pos = len(self.buf)
        self.buf += struct.pack("<HH", 4 + 2 * nfields, table_size)
        if nfields:
            self.buf += struct.pack("<%dH" % nfields, *vt)
        # table
        self.pad_to(max_align)
        tpos = len(self.buf)
        self.buf += bytes(table_size)
        struct.pack_into("<i", self.buf, tpos, tpos - vt_pos)
        for entry in inline:
            at = tpos + offsets[id(entry)]
            struct.pack_into(entry[1], self.buf, at, entry[2])
            if len(entry) == 5:
                self.pending.append((at, entry[3], entry[4]))
        return tpos

    def drain(self) -> None:
        while self.pending:
            at, kind, value = self.pending.popleft()
            pos = self.write_child(kind, value)
            self.patch(at, pos)


def encode(root: Any, file_identifier: bytes) -> bytes:
    """Serialize a schema dataclass as a FlatBuffer with the given identifier."""
    if len(file_identifier) != 4:
        raise ValueError("file identifier must be 4 bytes")
    enc = _Encoder()
    enc.buf += bytes(4) + file_identifier
    enc.pad_to(8)
    root_pos = enc.write_table(root)
    struct.pack_into("<I", enc.buf, 0, root_pos)
    enc.drain()
    enc.pad_to(16)
    return bytes(enc.buf)


# ---------------------------------------------------------------------------
# Decoder


class _Decoder:
    def __init__(self, buf: bytes) -> None:
        self.buf = memoryview(buf)
        self.n = len(buf)

    def check(self, pos: int, size: int) -> None:
        if pos < 0 or size < 0 or pos + size > self.n:
            raise FlatbufferError(f"offset {pos}+{size} outside buffer of {self.n} bytes")

    def scalar(self, fmt: str, pos: int) -> Any:
        self.check(pos, struct.calcsize(fmt))
        return struct.unpack_from(fmt, self.buf, pos)[0]

    def deref(self, pos: int) -> int:
        return pos + self.scalar("<I", pos)

    def vtable(self, tpos: int) -> Tuple[int, int, int]:
        vt = tpos - self.scalar("<i", tpos)
        vt_size = self.scalar("<H", vt)
        if vt_size < 4 or vt_size % 2:
            raise FlatbufferError(f"bad vtable size {vt_size} at {vt}")
        self.check(vt, vt_size)
        return vt, vt_size, self.scalar("<H", vt + 2)

    def field_pos(self, tpos: int, vt: int, vt_size: int, fid: int) -> int:
        slot = 4 + 2 * fid
        if slot + 2 > vt_size:
            return 0
        off = self.scalar("<H", vt + slot)
        return tpos + off if off else 0

    def read_child(self, kind: Any, pos: int) -> Any:
        if kind == "str":
            n = self.scalar("<I", pos)
            self.check(pos + 4, n)
            return bytes(self.buf[pos + 4: pos + 4 + n]).decode("utf-8", "replace")
        if isinstance(kind, tuple) and kind[0] == "table":
            return self.read_table(kind[1], pos)
        if isinstance(kind, tuple) and kind[0] == "bytes":
            n = self.scalar("<I", pos)
            self.check(pos + 4, n)
            return bytes(self.buf[pos + 4: pos + 4 + n])
        if isinstance(kind, tuple) and kind[0] == "vec":
            elem = kind[1]
            n = self.scalar("<I", pos)
            if _is_scalar(elem):
                fmt, size = _SCALAR[elem]
                self.check(pos + 4, n * size)
                return list(struct.unpack_from("<%d%s" % (n, fmt[1]), self.buf, pos + 4))
            self.check(pos + 4, 4 * n)
            return [self.read_child(elem, self.deref(pos + 4 + 4 * i)) for i in range(n)]
        raise FlatbufferError(f"cannot decode kind {kind!r}")

    def read_table(self, cls: Any, tpos: int) -> Any:
        vt, vt_size, _ = self.vtable(tpos)
        kwargs = {}
        for name, fid, kind in cls._fb:
            if isinstance(kind, tuple) and kind[0] == "union":
                tp = self.field_pos(tpos, vt, vt_size, fid)
                vp = self.field_pos(tpos, vt, vt_size, fid + 1)
                if not tp or not vp:
                    continue
                tag = self.scalar("<B", tp)
                member = kind[1].by_tag.get(tag)
                if member is None:
                    raise FlatbufferError(f"unknown {kind[1].name} tag {tag}")
                kwargs[name] = self.read_table(member, self.deref(vp))
                continue
            fp = self.field_pos(tpos, vt, vt_size, fid)
            if _is_scalar(kind):
                if fp:
                    kwargs[name] = self.scalar(_SCALAR[kind][0], fp)
                else:  # absent: the schema's default, 0 (what the encoder omits)
                    kwargs[name] = False if kind == "bool" else (
                        0.0 if kind in ("f32", "f64") else 0)
                continue
            if not fp:
                continue  # absent: the dataclass default
            kwargs[name] = self.read_child(kind, self.deref(fp))
        return cls(**kwargs)


def decode(buf: bytes, root_cls: Any, file_identifier: bytes = None) -> Any:
    """Parse a FlatBuffer whose root table is ``root_cls``."""
    if len(buf) < 8:
        raise FlatbufferError("buffer too small for a flatbuffer")
    if file_identifier is not None and bytes(buf[4:8]) != file_identifier:
        raise FlatbufferError(
            f"file identifier {bytes(buf[4:8])!r} is not {file_identifier!r}")
    dec = _Decoder(buf)
    return dec.read_table(root_cls, dec.deref(0))
