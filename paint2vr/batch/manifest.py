"""Batch manifests: CSV, JSONL or Parquet rows naming the paintings to convert.

Rows are read in chunks (never the whole file as Python objects) so a manifest with
millions of rows keeps memory flat. :func:`check_manifest` reads it once and reports every
problem at once, with line numbers, before any work starts.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import posixpath
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal
import os
import stat
from urllib.parse import unquote, urlsplit

import numpy as np

from ..errors import InputError, ManifestError
from ..io.reading import json_depth
from .layout import NAME_MAX_BYTES, longest_derived_name
from .remote import REMOTE_TIMEOUT_S, remote_file_problem

log = logging.getLogger(__name__)

ALLOWED_SCHEMES = ("s3", "gs", "az", "file", "memory")
"""URL schemes a manifest may point at (plus plain local paths)."""
MAX_ID_CHARS = 200
MAX_OPTIONS_DEPTH = 16
"""Deepest nesting of objects/arrays in a row (JSONL line or 'options' JSON), checked on the
text before it is parsed (the parser recurses, and would overflow on deep input)."""
PER_ITEM_FIELDS = ("effects", "seed", "effect_options", "lift")
"""ConvertOptions fields a row's 'options' JSON may override."""
REQUIRED_COLUMNS = ("id", "path", "license", "attribution")


@dataclass(frozen=True)
class ManifestOptions:
    """Options of :func:`iter_manifest` and :func:`check_manifest`."""

    manifest_format: Literal["auto", "csv", "jsonl", "parquet"] = "auto"
    """Manifest format; 'auto' goes by the file extension (.csv, .jsonl/.ndjson, .parquet)."""
    chunk_rows: int = 1000
    """Rows read and checked at a time (memory stays flat however long the manifest)."""
    check_locations: bool = True
    """Check before starting that every row's path exists (one stat per row)."""
    max_problems: int = 1000
    """Report at most this many problems in detail (the total is always counted)."""
    remote_timeout: float = REMOTE_TIMEOUT_S
    """Connect and read timeout (seconds) of each request to a remote store (s3, gs, az)."""


DEFAULT_MANIFEST_OPTIONS = ManifestOptions()


@dataclass(frozen=True)
class ManifestItem:
    """One row of a manifest, its location resolved."""

    line: int
    """Line number in the file (CSV/JSONL, header = line 1) or 1-based row number (Parquet)."""
    id: str
    """The painting's id: also the output file name, so it must be a safe file name."""
    location: str
    """Local path or allowed fsspec URL of the image, resolved against the manifest's folder."""
    license: str
    attribution: str
    title: str = ""
    artist: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    """Per-item overrides of ConvertOptions fields (see PER_ITEM_FIELDS)."""
    edits: str = ""
    """A designer's edits file (column 'edits', a local path resolved like 'path'); '' for none."""


@dataclass(frozen=True)
class ManifestSummary:
    """What :func:`check_manifest` found in a valid manifest."""

    rows: int
    """Number of items."""
    path: str
    """The manifest's location."""


def id_problem(item_id: Any) -> str | None:
    """Why ``item_id`` cannot be used as a file name, or None if it can."""
    if not isinstance(item_id, str) or not item_id.strip():
        return "the id is empty"
    if len(item_id) > MAX_ID_CHARS:
        return f"the id is {len(item_id)} characters long, over the limit of {MAX_ID_CHARS}"
    if longest_derived_name(item_id) > NAME_MAX_BYTES:
        most = NAME_MAX_BYTES - (longest_derived_name(item_id) - len(item_id.encode("utf-8", "surrogatepass")))
        return (f"the id is {len(item_id.encode('utf-8', 'surrogatepass'))} bytes in UTF-8, over the limit of "
                f"{most} (its file names must fit the file system's {NAME_MAX_BYTES} bytes)")
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in item_id):
        return f"the id {item_id!r} holds control characters"
    if "/" in item_id or "\\" in item_id:
        return f"the id {item_id!r} holds a path separator"
    if item_id.startswith("."):
        return f"the id {item_id!r} starts with a dot ('..', hidden files)"
    if item_id != item_id.strip():
        return f"the id {item_id!r} has leading or trailing spaces"
    if len(item_id) > 1 and item_id[1] == ":":
        return f"the id {item_id!r} looks like a drive path"
    return None


def _parse_json(text: str, what: str) -> tuple[Any, str | None]:
    """(value, None) or (None, why it cannot be used): depth bounded before parsing."""
    depth = json_depth(text, MAX_OPTIONS_DEPTH)
    if depth > MAX_OPTIONS_DEPTH:
        return None, f"{what} nests {depth} levels deep, over the limit of {MAX_OPTIONS_DEPTH}"
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"{what} is not valid JSON ({exc.msg})"
    except RecursionError:  # pragma: no cover - the depth check comes first
        return None, f"{what} nests too deep"


def detect_format(path: str, fmt: str = "auto") -> str:
    if fmt != "auto":
        return fmt
    name = path.lower().split("?")[0]
    for ext, kind in ((".csv", "csv"), (".jsonl", "jsonl"), (".ndjson", "jsonl"),
                      (".parquet", "parquet"), (".pq", "parquet")):
        if name.endswith(ext):
            return kind
    raise InputError(f"{path}: cannot tell the manifest format from the extension",
                     hint="name it .csv, .jsonl or .parquet, or pass --manifest-format")


def scheme_of(location: str) -> str:
    """'' for local paths (including Windows drive letters), else the URL scheme."""
    scheme = urlsplit(location).scheme.lower()
    return "" if len(scheme) <= 1 else scheme


def resolve_location(location: str, manifest: str) -> str:
    """An item's path resolved against the manifest's folder; raises InputError if refused."""
    if not isinstance(location, str) or not location.strip():
        raise InputError("the path is empty")
    if "\x00" in location:
        raise InputError("the path holds a NUL character")
    scheme = scheme_of(location)
    if scheme:
        if scheme not in ALLOWED_SCHEMES:
            raise InputError(f"unsupported location scheme {scheme!r} in {location!r}",
                             hint=f"allowed: {', '.join(ALLOWED_SCHEMES)} or a local path")
        return location
    mscheme = scheme_of(manifest)
    if mscheme and mscheme != "file":
        if location.startswith("/"):
            return location  # an absolute path is a local path whatever the manifest's scheme
        base = manifest.rsplit("/", 1)[0]
        return posixpath.join(base, location)
    base = Path(urlsplit(manifest).path if mscheme == "file" else manifest).parent
    return str(base / location)


def _open_text(path: str) -> io.TextIOBase:
    import fsspec
    return fsspec.open(path, "rt", encoding="utf-8-sig", newline="").open()


def _rows_csv(path: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}",
                                problems=[(1, f"missing column {c!r}") for c in missing],
                                hint=f"the header must name {', '.join(REQUIRED_COLUMNS)}")
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a field over csv's size limit: the rest cannot be read
                line = reader.line_num + 1  # the record being read (csv counts only finished lines)
                raise ManifestError(f"{path}: broken CSV at line {line} ({exc})",
                                    problems=[(line, f"broken CSV ({exc})")]) from None
            yield reader.line_num, row


def _rows_jsonl(path: str) -> Iterator[tuple[int, dict[str, Any] | str]]:
    with _open_text(path) as fh:
        for n, text in enumerate(fh, 1):
            if not text.strip():
                continue
            row, why = _parse_json(text, "the line")
            if why:
                yield n, why.replace("the line is not valid JSON", "not valid JSON")
                continue
            yield n, row if isinstance(row, dict) else "a line must be a JSON object"


def _rows_parquet(path: str, chunk: int) -> Iterator[tuple[int, dict[str, Any] | str]]:
    try:
        import fsspec
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is a test/ray dependency
        raise InputError("reading Parquet manifests needs pyarrow",
                         hint="pip install pyarrow (or paint2vr[ray])") from exc
    with fsspec.open(path, "rb") as raw:
        pf = pq.ParquetFile(raw)
        missing = [c for c in REQUIRED_COLUMNS if c not in pf.schema_arrow.names]
        if missing:
            raise ManifestError(f"{path}: missing column(s) {', '.join(missing)}",
                                problems=[(0, f"missing column {c!r}") for c in missing])
        n = 0
        for batch in pf.iter_batches(batch_size=chunk):
            for row in batch.to_pylist():
                n += 1
                yield n, row


def _item(line: int, row: dict[str, Any] | str, manifest: str) -> tuple[ManifestItem | None, list[str]]:
    """A row -> item, or the list of what is wrong with it."""
    if isinstance(row, str):
        return None, [row]
    problems: list[str] = []

    def text(name: str) -> str:
        v = row.get(name)
        return "" if v is None else str(v)

    item_id = row.get("id")
    item_id = str(item_id) if isinstance(item_id, (int, str)) else item_id
    why = id_problem(item_id)
    if why:
        problems.append(why)
    if not text("license").strip():
        problems.append("missing licence (column 'license')")
    if not text("attribution").strip():
        problems.append("missing attribution (column 'attribution')")
    location = ""
    try:
        location = resolve_location(text("path"), manifest)
    except InputError as exc:
        problems.append(str(exc))
    edits = ""
    if text("edits").strip():
        try:
            edits = resolve_location(text("edits"), manifest)
        except InputError as exc:
            problems.append(f"edits: {exc}")
        if scheme_of(edits) not in ("", "file"):
            problems.append(f"edits: must be a local file, got {text('edits')!r}")
    opts = row.get("options")
    if opts is None or opts == "":
        opts = {}
    elif isinstance(opts, str):
        opts, why = _parse_json(opts, "'options'")
        if why:
            problems.append(why)
            opts = {}
    if not isinstance(opts, dict):
        problems.append(f"'options' must be a JSON object, got {type(opts).__name__}")
        opts = {}
    unknown = sorted(set(opts) - set(PER_ITEM_FIELDS))
    if unknown:
        problems.append(f"'options' may only set {', '.join(PER_ITEM_FIELDS)}; got {', '.join(unknown)}")
    if problems:
        return None, problems
    return ManifestItem(line=line, id=item_id, location=location, license=text("license"),
                        attribution=text("attribution"), title=text("title"), artist=text("artist"),
                        options=opts, edits=edits), []


def _raw_rows(path: str, options: ManifestOptions) -> Iterator[tuple[int, dict[str, Any] | str]]:
    fmt = detect_format(path, options.manifest_format)
    if fmt == "csv":
        return _rows_csv(path)
    if fmt == "jsonl":
        return _rows_jsonl(path)
    if fmt == "parquet":
        return _rows_parquet(path, options.chunk_rows)
    raise InputError(f"unknown manifest format {fmt!r}", hint="csv, jsonl or parquet")


def iter_chunks(path: str | Path, options: ManifestOptions = DEFAULT_MANIFEST_OPTIONS
                ) -> Iterator[list[tuple[ManifestItem | None, int, list[str]]]]:
    """Chunks of (item or None, line, problems), ``options.chunk_rows`` rows at a time."""
    if options.chunk_rows < 1:
        raise InputError(f"chunk_rows must be >= 1, got {options.chunk_rows}")
    manifest = str(path)
    chunk: list[tuple[ManifestItem | None, int, list[str]]] = []
    try:
        for line, row in _raw_rows(manifest, options):
            item, problems = _item(line, row, manifest)
            chunk.append((item, line, problems))
            if len(chunk) >= options.chunk_rows:
                yield chunk
                chunk = []
    except (FileNotFoundError, IsADirectoryError) as exc:
        raise InputError(f"{manifest}: cannot read the manifest ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise InputError(f"{manifest}: the manifest is not UTF-8 text") from None
    except csv.Error as exc:
        raise ManifestError(f"{manifest}: broken CSV ({exc})") from None
    if chunk:
        yield chunk


def iter_manifest(path: str | Path, options: ManifestOptions = DEFAULT_MANIFEST_OPTIONS
                  ) -> Iterator[list[ManifestItem]]:
    """Chunks of valid items (rows with problems are dropped: run :func:`check_manifest` first)."""
    for chunk in iter_chunks(path, options):
        yield [item for item, _, _ in chunk if item is not None]


def _id_key(item_id: str) -> int:
    return int.from_bytes(hashlib.blake2b(item_id.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "little", signed=True)


def location_problem(location: str, timeout: float = REMOTE_TIMEOUT_S) -> str | None:
    """None if ``location`` names an existing regular file, else why not (one line).

    Remote locations are asked with bounded connect/read timeouts (batch/remote.py).
    """
    scheme = scheme_of(location)
    if not scheme or scheme == "file":
        path = unquote(urlsplit(location).path) if scheme else location
        try:
            if stat.S_ISREG(os.stat(path).st_mode):
                return None
        except (OSError, ValueError):
            pass
        return f"cannot read {location!r} (missing or not a file)"
    return remote_file_problem(location, timeout)


def check_manifest(path: str | Path, options: ManifestOptions = DEFAULT_MANIFEST_OPTIONS,
                   validate_item: Callable[[ManifestItem], str | None] | None = None) -> ManifestSummary:
    """Read the whole manifest (streaming) and raise one ManifestError listing every problem.

    Checks: required columns, safe ids, duplicate ids, licence and attribution present,
    allowed location schemes, per-item options (``validate_item`` returns what is wrong with an
    item, or None), and (``check_locations``) that each file exists.
    Duplicates are found from 8-byte id hashes (flat memory), confirmed on a second pass.
    """
    problems: list[tuple[int, str]] = []
    total_problems = 0
    keys: list[np.ndarray] = []
    rows = 0

    def add(line: int, msg: str) -> None:
        nonlocal total_problems
        total_problems += 1
        if len(problems) < options.max_problems:
            problems.append((line, msg))

    with ThreadPoolExecutor(max_workers=16) as pool:
        for chunk in iter_chunks(path, options):
            rows += len(chunk)
            ids = [item.id for item, _, _ in chunk if item is not None]
            keys.append(np.fromiter((_id_key(i) for i in ids), np.int64, len(ids)))
            for item, line, why in chunk:
                for msg in why:
                    add(line, msg)
                if item is not None and validate_item is not None:
                    bad = validate_item(item)
                    if bad:
                        add(line, bad)
            if options.check_locations:
                valid = [item for item, _, _ in chunk if item is not None]
                local = all(not scheme_of(i.location) for i in valid)

                def problem(location: str) -> str | None:
                    return location_problem(location, options.remote_timeout)
                found = (map(problem, (i.location for i in valid)) if local
                         else pool.map(problem, (i.location for i in valid)))
                for item, why_not in zip(valid, found):
                    if why_not:
                        add(item.line, why_not)
    all_keys = np.concatenate(keys) if keys else np.zeros(0, np.int64)
    uniq, counts = np.unique(all_keys, return_counts=True)
    suspect = set(uniq[counts > 1].tolist())
    if suspect:
        first: dict[str, int] = {}
        for chunk in iter_chunks(path, options):
            for item, line, _ in chunk:
                if item is None or _id_key(item.id) not in suspect:
                    continue
                if item.id in first:
                    add(line, f"duplicate id {item.id!r} (first on line {first[item.id]})")
                else:
                    first[item.id] = line
    if rows == 0:
        add(0, "the manifest has no rows")
    if total_problems:
        problems.sort()
        more = total_problems - len(problems)
        shown = "; ".join(f"line {ln}: {msg}" for ln, msg in problems[:5])
        raise ManifestError(
            f"{path}: {total_problems} problem(s) in the manifest: {shown}"
            + (" ..." if total_problems > 5 else ""),
            problems=problems,
            hint="fix these rows and run again; nothing was written"
            + (f" ({more} more problems not listed)" if more else ""))
    return ManifestSummary(rows=rows, path=str(path))
