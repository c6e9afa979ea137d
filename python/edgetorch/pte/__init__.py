"""The `.pte` and `.ptd` file formats: schema tables, writer and reader."""

from . import schema
from .flatbuffer import FlatbufferError, decode, encode
from .program import (PtdFile, PteFile, read_pte, read_ptd, serialize_ptd,
                      serialize_pte)

__all__ = ["schema", "encode", "decode", "FlatbufferError", "serialize_pte", "read_pte",
           "PteFile", "serialize_ptd", "read_ptd", "PtdFile"]
