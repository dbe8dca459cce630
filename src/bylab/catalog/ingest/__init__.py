"""Reading published files (CSV/TSV, Excel, GeoJSON, Parquet) into stored Parquet tables.

``ingest_file`` is the one entry point: it detects the format, checks the limits, converts the
file and describes the stored table. It writes only to the path it is given (callers pass a
temporary path from ``TableStore.atomic_path``) and to a private staging folder that it always
removes, so a bad file leaves nothing behind.
"""

from bylab.catalog.ingest.pipeline import IngestedTable, ingest_file
from bylab.catalog.ingest.progress import ProgressCallback

__all__ = ["IngestedTable", "ProgressCallback", "ingest_file"]
