"""Schema objects the migrations create that no model describes, and the filter that keeps autogenerate off them.

Full-text search (migration 0011): on PostgreSQL the generated ``search_vector`` and ``search_title``
columns and their GIN indexes on ``tools`` and ``comparisons``; on SQLite the FTS5 tables ``tools_fts`` and
``comparisons_fts`` with the shadow tables FTS5 keeps beside them (``tools_fts_data``, ``…_idx``,
``…_docsize``, ``…_config``).
"""

from __future__ import annotations

SEARCH_COLUMNS = frozenset({"search_vector", "search_title"})
SEARCH_INDEXES = frozenset(f"ix_{table}_{column}" for table in ("tools", "comparisons") for column in SEARCH_COLUMNS)
FTS_TABLES = ("tools_fts", "comparisons_fts")


def include_object(_object: object, name: str | None, type_: str, _reflected: bool, _compare_to: object) -> bool:
    """Alembic's ``include_object`` hook: False for the search objects above, True for everything else."""
    if type_ == "table":
        return not any(name == fts or (name or "").startswith(fts + "_") for fts in FTS_TABLES)
    if type_ == "column":
        return name not in SEARCH_COLUMNS
    if type_ == "index":
        return name not in SEARCH_INDEXES
    return True
