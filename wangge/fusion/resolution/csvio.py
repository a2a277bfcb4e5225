"""`wangge fusion dedupe records.csv --out clusters.csv`, as a function."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pv

from wangge.fusion.resolution.engine import resolve
from wangge.fusion.resolution.model import Model, load_model, train_model

# Department exports come from Excel on Chinese Windows as often as from
# anything UTF-8: try UTF-8 (with or without BOM) first, then GB18030, a
# superset of GBK and GB2312.
ENCODINGS = ("utf-8", "gb18030")


def read_records_csv(path: Path) -> pa.Table:
    """Every column as text: ID numbers and record ids must keep their digits."""
    last: Exception | None = None
    for encoding in ENCODINGS:
        try:
            return _read_as_text(path, encoding)
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            last = exc
    raise ValueError(f"{path}: not UTF-8 or GB18030 text ({last})")


def _read_as_text(path: Path, encoding: str) -> pa.Table:
    names = _header(path, encoding)
    return pv.read_csv(
        path,
        read_options=pv.ReadOptions(encoding=encoding),
        convert_options=pv.ConvertOptions(column_types={c: pa.string() for c in names},
                                          strings_can_be_null=False, quoted_strings_can_be_null=False),
    )


def _header(path: Path, encoding: str) -> list[str]:
    reader = pv.open_csv(path, read_options=pv.ReadOptions(encoding=encoding, block_size=1 << 16))
    return list(reader.schema.names)


def dedupe_csv(in_path: Path, out_path: Path, *, model: Model | None = None,
               train: bool = False) -> dict[str, float]:
    """Cluster the records of a CSV (RECORD_COLUMNS; extra columns ignored,
    missing ones empty) and write `record_id,cluster_id`. With `train`, the
    model is first fitted to this file instead of using `model`/the default."""
    start = time.perf_counter()
    records = read_records_csv(Path(in_path))
    if "record_id" not in records.column_names:
        raise ValueError(f"{in_path}: no record_id column")
    if train:
        model = train_model(records)
    result = resolve(records, model or load_model())
    pv.write_csv(result.clusters, out_path,
                 write_options=pv.WriteOptions(quoting_style="needed"))
    clusters = len(set(result.clusters.column("cluster_id").to_pylist()))
    return {"records": float(records.num_rows), "clusters": float(clusters),
            "pairs": float(result.pairs.num_rows), "uncertain": float(result.uncertain.num_rows),
            "seconds": round(time.perf_counter() - start, 3)}
