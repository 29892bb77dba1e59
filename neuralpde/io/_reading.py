"""Checked reading of HDF5 files that may be damaged or crafted.

A neuralpde file is data: reading one never executes code, never follows a link (soft,
external or user-defined) and never reads a dataset whose values lie in other files (external
storage, virtual datasets). :func:`check_structure` refuses such a file before anything is read.
Every dataset's type, shape and number of elements, and every attribute's type and length, are
checked before its values are read, so that a file declaring more than the limits below (a
"decompression bomb" among them: a small compressed file declaring gigabytes) is refused
without allocating it. Every problem is a :class:`FormatError` naming the file and the entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import mmap
import os
import re
from collections.abc import Mapping
from typing import Any

import h5py
import numpy as np

from .. import limits

__all__ = [
    "FormatError",
    "MissingEntryError",
    "MAX_GRID_ELEMENTS",
    "MAX_PARAMETER_ELEMENTS",
    "MAX_PARAMETER_TENSORS",
    "MAX_HISTORY_LENGTH",
    "MAX_PHASE_BYTES",
    "MAX_LEVELS",
    "MAX_COORDINATES",
    "MAX_STRING_LENGTH",
    "MAX_JSON_DEPTH",
    "MAX_ENTRIES",
    "MAX_ATTRIBUTES",
    "MAX_CHUNK_BYTES",
    "DIGEST_ATTRIBUTE",
    "check_global_heaps",
]


class FormatError(ValueError):
    """The file is not a neuralpde file of the expected kind that this version can read."""


class MissingEntryError(KeyError):
    """A dataset, group or attribute the format requires is missing (its message as given)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


#: Elements of a grid dataset (``/u``, ``/exact``, a coordinate): 1 GiB in float64.
MAX_GRID_ELEMENTS = 2**27
#: Elements of a network's stored tensors, all together (512 MiB in float64): the numbers a
#: network may hold (:data:`neuralpde.limits.MAX_PARAMETERS`).
MAX_PARAMETER_ELEMENTS = limits.MAX_PARAMETERS
#: Tensors of a network's stored state.
MAX_PARAMETER_TENSORS = 4096
#: Entries of each training-history dataset.
MAX_HISTORY_LENGTH = 2**20
#: Bytes of one entry of ``/training/phase`` (a phase's name).
MAX_PHASE_BYTES = 64
#: Rows (grid levels) and columns of each dataset of a convergence table.
MAX_LEVELS = 1024
#: Coordinates (dimensions) of a grid: those of a domain
#: (:data:`neuralpde.limits.MAX_IN_FEATURES`).
MAX_COORDINATES = limits.MAX_IN_FEATURES
#: Characters of a string attribute, JSON included (16 Mi).
MAX_STRING_LENGTH = 2**24
#: Nesting of arrays and objects in a JSON attribute.
MAX_JSON_DEPTH = 64
#: Links (groups and datasets) in a file.
MAX_ENTRIES = 2**16
#: Attributes of a group read attribute by attribute (``/metrics``).
MAX_ATTRIBUTES = 1024
#: Bytes of one chunk of a chunked dataset, uncompressed.
MAX_CHUNK_BYTES = 2**26

#: The root attribute holding :func:`content_digest` of a file's weights and grids.
DIGEST_ATTRIBUTE = "content_sha256"

FLOATS = frozenset({"float32", "float64"})
INTEGERS = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})
NUMBERS = FLOATS | INTEGERS
_EXPECTED = {
    FLOATS: "float32 or float64",
    INTEGERS: "an integer type",
    NUMBERS: "float32, float64 or an integer type",
}
# filters built into HDF5 and h5py: a file asking for another one would have HDF5 look for a
# plugin (a shared library) to load
_FILTERS = {
    h5py.h5z.FILTER_DEFLATE: "gzip",
    h5py.h5z.FILTER_SHUFFLE: "shuffle",
    h5py.h5z.FILTER_FLETCHER32: "fletcher32",
    h5py.h5z.FILTER_SCALEOFFSET: "scale-offset",
    h5py.h5z.FILTER_NBIT: "n-bit",
    h5py.h5z.FILTER_LZF: "lzf",
}
_H5_ERRORS = (OSError, RuntimeError, KeyError, ValueError, TypeError)
_MISSING: Any = object()


def shown(name: bytes | str, limit: int = 200) -> str:
    """``name`` (a link or entry name, perhaps crafted) quoted and cut to ``limit`` characters."""
    text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
    return repr(text if len(text) <= limit else text[:limit] + "...")


def brief(value: object, limit: int = 200) -> str:
    """The ``repr`` of ``value`` (read from a file, perhaps huge) cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def check_structure(f: h5py.File, path: str) -> None:
    """Refuse (:class:`FormatError`) a file holding a link other than a hard link, a dataset
    whose values lie in other files or need a filter outside the built-in ones, a chunk larger
    than :data:`MAX_CHUNK_BYTES`, or more than :data:`MAX_ENTRIES` entries. Reads no values and
    never leaves the file: links are inspected, not followed."""
    root = f.id
    stack: list[tuple[str, h5py.h5g.GroupID]] = [("", root)]
    count = 0
    try:
        seen = {_address(root)}
        while stack:
            prefix, gid = stack.pop()
            for raw in gid:
                count += 1
                if count > MAX_ENTRIES:
                    raise FormatError(
                        f"{path!r} holds more than {MAX_ENTRIES} entries (a neuralpde file holds "
                        "a few dozen): it is not read"
                    )
                entry = f"{prefix}/{raw.decode('utf-8', 'replace')}"
                check_link(gid, raw, entry, path)
                oid = h5py.h5o.open(gid, raw)
                if isinstance(oid, h5py.h5g.GroupID):
                    address = _address(oid)
                    if address not in seen:  # a group linked twice (or into itself): once
                        seen.add(address)
                        stack.append((entry, oid))
                elif isinstance(oid, h5py.h5d.DatasetID):
                    check_storage(oid, entry, path)
    except FormatError:
        raise
    except _H5_ERRORS as exc:
        raise FormatError(f"{path!r}: its structure cannot be read ({exc})") from None


_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_HEAP_MIN = 4096  # HDF5's smallest global heap collection (H5HG_MINSIZE)


def check_global_heaps(path: str | os.PathLike) -> None:
    """Refuse (:class:`FormatError`) a file whose global heap collections, where HDF5 keeps
    variable-length strings (every string attribute of a neuralpde file), are damaged so that
    HDF5 would loop forever reading one (an object of size 0: HDF5 up to 2.0 steps by the
    object's size) or run past its end. The file's bytes are scanned for the collections'
    signature, not read through HDF5; a file without a superblock is left to HDF5 to refuse."""
    with open(path, "rb") as fh:
        if os.fstat(fh.fileno()).st_size == 0:
            return
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            lengths = _size_of_lengths(data)
            if lengths is None:
                return
            at = data.find(b"GCOL")
            while at >= 0:
                _check_heap(data, at, lengths, str(path))
                at = data.find(b"GCOL", at + 1)


def _size_of_lengths(data: mmap.mmap) -> int | None:
    """The superblock's size of lengths (bytes), or ``None`` without a superblock at 0, 512,
    1024, ... (where HDF5 looks for one)."""
    at = 0
    while at + 16 <= len(data):
        if data[at : at + 8] == _HDF5_SIGNATURE:
            version = data[at + 8]
            size = data[at + 14] if version < 2 else data[at + 10]
            return size if size in (2, 4, 8) else None
        at = 512 if at == 0 else 2 * at
    return None


def _check_heap(data: mmap.mmap, at: int, lengths: int, path: str) -> None:
    """Walk the global heap collection at ``at`` as HDF5 does, refusing one it cannot end."""
    header = 8 + lengths  # signature, version, 3 reserved bytes, collection size
    if at + header > len(data) or data[at + 4 : at + 8] != b"\x01\0\0\0":
        return  # no collection header (the bytes "GCOL" elsewhere): HDF5 never walks it
    size = int.from_bytes(data[at + 8 : at + header], "little")
    end = at + size
    if size < _HEAP_MIN or end > len(data):
        raise FormatError(
            f"{path!r}: a global heap collection (at byte {at}) declares {size} bytes, "
            f"{'fewer than the smallest' if size < _HEAP_MIN else 'past the end of the file'}"
            ": the file is damaged and is not read"
        )
    p = at + header
    while p + header <= end:  # each object: index (2), references (2), reserved (4), size
        index = int.from_bytes(data[p : p + 2], "little")
        length = int.from_bytes(data[p + 8 : p + header], "little")
        need = header + -(-length // 8) * 8 if index else length  # object 0: the free space
        if need == 0 or need > end - p:
            raise FormatError(
                f"{path!r}: the global heap collection at byte {at} holds an object (at byte "
                f"{p}) of {length} bytes that {'never ends' if need == 0 else 'runs past it'}: "
                "the file is damaged (HDF5 would loop forever or read past it) and is not read"
            )
        p += need


def _address(oid: h5py.h5o.ObjectID) -> tuple[int, int]:
    info = h5py.h5o.get_info(oid)
    return info.fileno, info.addr


def check_link(gid: h5py.h5g.GroupID, raw: bytes, entry: str, path: str) -> None:
    """Refuse every link but a hard one (which stays in the file), without following it."""
    kind = gid.links.get_info(raw).type
    if kind == h5py.h5l.TYPE_HARD:
        return
    if kind == h5py.h5l.TYPE_SOFT:
        target = shown(gid.links.get_val(raw))
        raise FormatError(
            f"{path!r}: {shown(entry)} is a soft link (to {target}); neuralpde files hold no "
            "links, and links are never followed: the file is not read"
        )
    if kind == h5py.h5l.TYPE_EXTERNAL:
        other, target = gid.links.get_val(raw)
        raise FormatError(
            f"{path!r}: {shown(entry)} is an external link (to {shown(target)} in the file "
            f"{shown(other)}); a neuralpde file is read without opening other files: it is "
            "not read"
        )
    raise FormatError(
        f"{path!r}: {shown(entry)} is a user-defined link (class {kind}); links are never "
        "followed: the file is not read"
    )


def check_storage(oid: h5py.h5d.DatasetID, entry: str, path: str, plugins: bool = False) -> None:
    """Refuse a dataset stored outside the file, filtered by a plugin (unless ``plugins``: for
    data files of other origins, which may use one) or in huge chunks."""
    dcpl = oid.get_create_plist()
    layout = dcpl.get_layout()
    if layout == h5py.h5d.VIRTUAL:
        raise FormatError(
            f"{path!r}: {shown(entry)} is a virtual dataset (its values lie in other files); "
            "a neuralpde file is read without opening other files: it is not read"
        )
    if dcpl.get_external_count():
        raise FormatError(
            f"{path!r}: {shown(entry)} keeps its values in external files "
            f"({shown(dcpl.get_external(0)[0])}, ...); a neuralpde file is read without "
            "opening other files: it is not read"
        )
    for i in range(0 if plugins else dcpl.get_nfilters()):
        code = dcpl.get_filter(i)[0]
        if code not in _FILTERS:
            raise FormatError(
                f"{path!r}: {shown(entry)} is filtered by filter {code}, not one built into "
                f"HDF5 ({', '.join(_FILTERS.values())}); no plugin is loaded to read it"
            )
    if layout == h5py.h5d.CHUNKED:
        size = math.prod(dcpl.get_chunk()) * oid.get_type().get_size()
        if size > MAX_CHUNK_BYTES:
            raise FormatError(
                f"{path!r}: {shown(entry)} comes in chunks of {size} bytes, more than the "
                f"{MAX_CHUNK_BYTES} a chunk may have: it is not read"
            )


def _dtype_text(dtype: np.dtype) -> str:
    if h5py.check_string_dtype(dtype) is not None:
        return "string"
    if dtype.fields is not None:
        return "compound"
    return dtype.name


def checked_shape(
    ds: h5py.Dataset,
    path: str,
    dtypes: frozenset[str],
    limit: int,
    what: str,
    ndim: int | None = None,
) -> tuple[int, ...]:
    """The shape ``ds`` declares, after checking, without reading it, that its type is one of
    ``dtypes``, that it has ``ndim`` dimensions and at most ``limit`` elements (``what`` names
    the kind of data in the message)."""
    entry = shown(ds.name)
    try:
        dtype = ds.dtype
    except _H5_ERRORS as exc:
        raise FormatError(f"{path!r}: {entry} has a type NumPy cannot hold ({exc})") from None
    if dtype.name not in dtypes or dtype.fields is not None:
        raise FormatError(
            f"{path!r}: {entry} has dtype {_dtype_text(dtype)}; expected {_EXPECTED[dtypes]}"
        )
    shape = ds.shape
    if shape is None:
        raise FormatError(f"{path!r}: {entry} holds no values (an empty dataspace)")
    if ndim is not None and len(shape) != ndim:
        raise FormatError(
            f"{path!r}: {entry} has {len(shape)} dimensions (shape {shape}); expected {ndim}"
        )
    n = math.prod(shape)
    if n > limit:
        raise FormatError(
            f"{path!r}: {entry} declares {n} elements (shape {shape}), more than the {limit} "
            f"{what} may have: it is not read"
        )
    return shape


def read_dataset(
    ds: h5py.Dataset,
    path: str,
    dtypes: frozenset[str],
    limit: int,
    what: str,
    ndim: int | None = None,
) -> np.ndarray:
    """The values of ``ds`` in native byte order, read after :func:`checked_shape`."""
    checked_shape(ds, path, dtypes, limit, what, ndim)
    try:
        arr = np.asarray(ds[()])
    except _H5_ERRORS as exc:
        raise FormatError(f"{path!r}: {shown(ds.name)} cannot be read ({exc})") from None
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def read_strings(ds: h5py.Dataset, path: str, limit: int, width: int) -> list[str]:
    """The 1-D string dataset ``ds`` (at most ``limit`` strings of at most ``width`` bytes).

    Strings are read into fixed-length buffers, so that variable-length strings (which may all
    point at one huge string of the file) never take more than ``limit * (width + 2)`` bytes.
    """
    entry = shown(ds.name)
    try:
        dtype, shape = ds.dtype, ds.shape
    except _H5_ERRORS as exc:
        raise FormatError(f"{path!r}: {entry} has a type NumPy cannot hold ({exc})") from None
    if h5py.check_string_dtype(dtype) is None:
        raise FormatError(f"{path!r}: {entry} has dtype {_dtype_text(dtype)}; expected strings")
    if shape is None or len(shape) != 1:
        raise FormatError(f"{path!r}: {entry} has shape {shape}; expected a list of strings")
    if shape[0] > limit:
        raise FormatError(
            f"{path!r}: {entry} declares {shape[0]} strings, more than the {limit} it may "
            "have: it is not read"
        )
    if shape[0] == 0:
        return []
    # room for one byte more than allowed, after the terminator a fixed-length source keeps
    buf = np.zeros(shape[0], dtype=f"S{width + 2}")
    mtype = h5py.h5t.C_S1.copy()
    mtype.set_size(width + 2)
    try:
        ds.id.read(h5py.h5s.ALL, h5py.h5s.ALL, buf, mtype=mtype)
    except _H5_ERRORS as exc:
        raise FormatError(f"{path!r}: {entry} cannot be read ({exc})") from None
    if np.char.str_len(buf).max() > width:
        raise FormatError(f"{path!r}: {entry} holds a string longer than {width} bytes")
    try:
        return [s.decode("utf-8") for s in buf.tolist()]
    except UnicodeDecodeError as exc:
        raise FormatError(f"{path!r}: {entry} holds a string that is not UTF-8 ({exc})") from None


def _where(obj: h5py.HLObject, name: str) -> str:
    return f"attribute {shown(name)} of {shown(obj.name)}"


def read_attribute(obj: h5py.HLObject, name: str, path: str, default: Any = _MISSING) -> Any:
    """The scalar attribute ``name`` of ``obj``: a ``str`` (at most :data:`MAX_STRING_LENGTH`
    characters) or a NumPy number; ``default`` when it is absent (``KeyError`` without one).

    Its type and shape are checked before it is read; a fixed-length string longer than the
    limit is not read at all, a variable-length one (one string of the file) is refused after.
    """
    where = _where(obj, name)
    try:
        present = name in obj.attrs
        if present:
            aid = obj.attrs.get_id(name)
            shape, dtype = aid.shape, aid.dtype
    except _H5_ERRORS as exc:
        raise FormatError(f"{path!r}: {where} cannot be read ({exc})") from None
    if not present:
        if default is _MISSING:
            raise MissingEntryError(f"{where} is missing")
        return default
    if shape != ():
        raise FormatError(f"{path!r}: {where} has shape {shape}; a single value was expected")
    info = h5py.check_string_dtype(dtype)
    if info is None and (dtype.kind not in "biuf" or dtype.itemsize > 8):
        raise FormatError(f"{path!r}: {where} has dtype {_dtype_text(dtype)}; expected a number")
    if info is not None and info.length is not None and info.length > MAX_STRING_LENGTH:
        raise FormatError(
            f"{path!r}: {where} is a string of {info.length} bytes, more than the "
            f"{MAX_STRING_LENGTH} an attribute may have: it is not read"
        )
    try:
        value = obj.attrs[name]
        if isinstance(value, bytes):
            value = value.decode("utf-8")
    except (*_H5_ERRORS, UnicodeDecodeError) as exc:
        raise FormatError(f"{path!r}: {where} cannot be read ({exc})") from None
    if info is None:
        return value
    if len(value) > MAX_STRING_LENGTH:
        raise FormatError(
            f"{path!r}: {where} is a string of {len(value)} characters, more than the "
            f"{MAX_STRING_LENGTH} an attribute may have"
        )
    return str(value)


def read_text(obj: h5py.HLObject, name: str, path: str, default: Any = _MISSING) -> Any:
    """:func:`read_attribute` as text (a number as its ``str``), or ``default``."""
    value = read_attribute(obj, name, path, default)
    if value is default:
        return value
    return str(value.item() if isinstance(value, np.generic) else value)


def read_number(
    obj: h5py.HLObject, name: str, path: str, integral: bool = False, default: Any = _MISSING
) -> Any:
    """The number attribute ``name`` as a Python ``float`` or ``bool`` (as stored), or ``int``
    (``integral``: an integer, or a float of integral value); a string is refused."""
    value = read_attribute(obj, name, path, default)
    if value is default:
        return value
    if isinstance(value, str):
        raise FormatError(f"{path!r}: {_where(obj, name)} is {shown(value)}; expected a number")
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, bool):
        return int(value) if integral else value
    if integral:
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            raise FormatError(f"{path!r}: {_where(obj, name)} is {value}; expected an integer")
        return int(value)
    return float(value)


_JSON_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[][{}]', re.S)


def check_json_depth(text: str, where: str, path: str) -> None:
    """Refuse JSON nesting arrays and objects deeper than :data:`MAX_JSON_DEPTH`, counted
    without parsing (nor recursion): brackets outside strings."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        c = text[match.start()]
        if c in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                raise FormatError(
                    f"{path!r}: {where} nests arrays and objects more than {MAX_JSON_DEPTH} "
                    "deep: it is not parsed"
                )
        elif c in "]}":
            depth -= 1


def read_json(obj: h5py.HLObject, name: str, path: str) -> Any:
    """The JSON attribute ``name`` of ``obj``, parsed after the checks on its length and depth.

    Text that is not JSON raises ``json.JSONDecodeError`` naming the attribute (for the
    caller's "damaged file" message); any other failure of the parser a :class:`FormatError`.
    """
    text = read_text(obj, name, path)
    where = _where(obj, name)
    check_json_depth(text, where, path)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise json.JSONDecodeError(f"{where} is not JSON: {exc.msg}", exc.doc, exc.pos) from None
    except (ValueError, RecursionError) as exc:  # an integer of too many digits, say
        raise FormatError(f"{path!r}: {where} cannot be parsed ({exc})") from None


def content_digest(
    arrays: Mapping[str, np.ndarray], metadata: Mapping[str, Any] | None = None
) -> str:
    """The SHA-256 (hex) of named numeric arrays (their paths in the file), in the order of
    their names: after the line ``neuralpde content digest V``, for each the compact JSON
    ``[name, dtype name, shape]`` and its values (little-endian, C order), each preceded by its
    length in bytes (8 bytes, little-endian); equal contents give equal digests on any machine.

    Version 1 covers the arrays alone; version 2 (given ``metadata``: attributes by
    ``path@name``, as JSON values) then the compact, key-sorted JSON of ``metadata``, preceded
    by its length in bytes.
    """
    version = 1 if metadata is None else 2
    h = hashlib.sha256(f"neuralpde content digest {version}\n".encode())
    for name in sorted(arrays):
        a = np.asarray(arrays[name])
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{name!r} is not numeric (dtype {a.dtype}): it cannot be digested")
        data = np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("<")).reshape(-1)
        head = json.dumps([name, a.dtype.name, list(a.shape)], separators=(",", ":")).encode()
        h.update(len(head).to_bytes(8, "little") + head + data.nbytes.to_bytes(8, "little"))
        h.update(data.view(np.uint8))
    if metadata is not None:
        text = json.dumps(dict(metadata), sort_keys=True, separators=(",", ":")).encode()
        h.update(len(text).to_bytes(8, "little") + text)
    return h.hexdigest()


_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def read_digest(f: h5py.File, path: str) -> str | None:
    """The stored content digest, ``None`` for a file written before digests were stored."""
    stored = read_text(f, DIGEST_ATTRIBUTE, path, default=None)
    if stored is not None and not _HEX_DIGEST.fullmatch(stored):
        raise FormatError(
            f"{path!r}: attribute {DIGEST_ATTRIBUTE!r} of '/' is {shown(stored, 80)}, not a "
            "SHA-256 digest (64 hexadecimal digits): the file was altered or damaged"
        )
    return stored
