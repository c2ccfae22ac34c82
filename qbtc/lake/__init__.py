"""The Parquet lake (system of record) and its DuckDB catalog."""

from qbtc.lake.catalog import CatalogBusyError, LakeReader, SyncResult, sync_catalog
from qbtc.lake.reader import read_dataset, scan_dataset
from qbtc.lake.sqlfiles import load_query
from qbtc.lake.validate import SchemaMismatchError
from qbtc.lake.writer import CompactResult, WriteResult, compact_dataset, write_dataset

__all__ = [
    "CatalogBusyError",
    "CompactResult",
    "LakeReader",
    "SchemaMismatchError",
    "SyncResult",
    "WriteResult",
    "compact_dataset",
    "load_query",
    "read_dataset",
    "scan_dataset",
    "sync_catalog",
    "write_dataset",
]
