#!/usr/bin/env python3
r"""Read a runql store with a second engine: DuckDB over the Delta tables.

Usage:
    python3 tests/engines/read_store.py STORE_DIR VIEWS_SQL_PATH

Needs `pip install duckdb deltalake pyarrow`. The script reads each raw Delta
table under STORE_DIR with the `deltalake` package, registers it in DuckDB as
`raw.<table>`, runs the statements of views.sql in DuckDB's spelling (see
`duckdb_spelling`), and prints, as JSON,
the rows of a fixed set of queries over the user views, every value rendered as
canonical text (see `render`). tests/other_engines.rs runs the same queries
through runql and checks that both engines print the same thing.

Doing the same by hand
----------------------
A runql store is a directory (or bucket prefix) holding one Delta table per
entity: experiments, experiment_tags, runs, params, tags, metrics, inputs,
model_links. They hold *change rows*; `src/tables/views.sql` folds them into the
tables users query. Register each table as `raw.<table>`, run views.sql, query.
views.sql is DataFusion's SQL; DuckDB's only difference is the name of the
ordered aggregate: `first_value(x ORDER BY …)` is `first(x ORDER BY …)`.

DuckDB from Python (what this script does):

    import duckdb, deltalake
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    for name in ["experiments", "experiment_tags", "runs", "params", "tags",
                 "metrics", "inputs", "model_links"]:
        arrow = deltalake.DeltaTable(f"{store}/{name}").to_pyarrow_table()
        con.register("arrow_table", arrow)
        con.execute(f"CREATE TABLE raw.{name} AS SELECT * FROM arrow_table")
        con.unregister("arrow_table")
    views = open("views.sql").read().replace("first_value(", "first(")
    for statement in statements_of(views):   # drop `--` lines, split on `;`
        con.execute(statement)
    con.sql("SELECT run_id, key, value FROM latest_metrics").show()

DuckDB CLI, with its delta extension instead of the Python package (views stay
live: every query reads the tables as they are then):

    INSTALL delta; LOAD delta;
    CREATE SCHEMA raw;
    CREATE VIEW raw.runs AS SELECT * FROM delta_scan('/path/to/store/runs');
    -- ... likewise for the other seven tables ...
    .read views-duckdb.sql   -- views.sql with first_value( renamed first(
    SELECT * FROM runs;

For a store on S3/GCS/Azure, pass the bucket URL (and storage options or a
DuckDB secret) instead of a local path.

Spark (with Delta Lake configured) is the same idea, but it has no ordered
aggregates: `first_value(x ORDER BY k) … GROUP BY g` becomes
`max_by(x, struct(k))` (with DESC keys negated), rewritten by hand (untested
here).

Canonical rendering (identical in tests/other_engines.rs): NULL is JSON null,
everything else a string; timestamps are integer milliseconds since the epoch
(UTC); integers in decimal; floats as Python's repr with the exponent written
without `+` or leading zeros (`1e+20` -> `1e20`, `2.5e-05` -> `2.5e-5`, which is
also Rust's `{:?}`), and NaN -> "NaN", inf -> "Infinity", -inf -> "-Infinity".
"""

import json
import math
import os
import sys

HINT = "pip install duckdb deltalake pyarrow"

try:
    import duckdb
    import pyarrow as pa
    import pyarrow.compute as pc
    from deltalake import DeltaTable
except ImportError as missing:
    print(f"read_store.py: {missing}; install the modules with: {HINT}", file=sys.stderr)
    sys.exit(3)

RAW_TABLES = [
    "experiments",
    "experiment_tags",
    "runs",
    "params",
    "tags",
    "metrics",
    "inputs",
    "model_links",
    "logged_models",
    "logged_model_tags",
    "logged_model_params",
]

# The same queries, character for character, as QUERIES in tests/other_engines.rs.
QUERIES = [
    "SELECT run_id, run_name, experiment_id, status, lifecycle_stage, parent_run_id, start_time, end_time FROM runs ORDER BY run_id",
    "SELECT run_id, key, value FROM params ORDER BY 1,2",
    "SELECT run_id, key, value FROM tags ORDER BY 1,2",
    "SELECT run_id, key, value, timestamp, step FROM metrics ORDER BY 1,2,5,4,3",
    "SELECT run_id, key, value, timestamp, step FROM latest_metrics ORDER BY 1,2",
    "SELECT experiment_id, name, lifecycle_stage FROM experiments ORDER BY 1",
]

MILLIS_PER_UNIT = {"s": None, "ms": 1, "us": 1_000, "ns": 1_000_000}


def duckdb_spelling(views_sql):
    """views.sql as DuckDB spells it: its ordered aggregate is first(x ORDER BY ...)."""
    return views_sql.replace("first_value(", "first(")


def statements(views_sql):
    """The statements of views.sql, split as runql splits them (src/tables/mod.rs)."""
    kept = [line for line in views_sql.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(kept).split(";") if s.strip()]


def render_float(value):
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


def render_column(column):
    """One arrow column as a list of canonical strings (None for NULL)."""
    kind = column.type
    if pa.types.is_timestamp(kind):
        raw = pc.cast(column, pa.int64()).to_pylist()
        if kind.unit == "s":
            return [None if v is None else str(v * 1000) for v in raw]
        per_milli = MILLIS_PER_UNIT[kind.unit]
        return [None if v is None else str(v // per_milli) for v in raw]
    if pa.types.is_floating(kind):
        return [None if v is None else render_float(v) for v in column.to_pylist()]
    if pa.types.is_integer(kind):
        return [None if v is None else str(v) for v in column.to_pylist()]
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return column.to_pylist()
    raise TypeError(f"no canonical rendering for arrow type {kind}")


def arrow_result(con, sql):
    relation = con.sql(sql)
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()


def main(argv):
    if len(argv) != 3:
        print(f"usage: {argv[0]} STORE_DIR VIEWS_SQL_PATH", file=sys.stderr)
        return 2
    store, views_path = argv[1], argv[2]
    con = duckdb.connect()
    con.execute("CREATE SCHEMA raw")
    for name in RAW_TABLES:
        arrow = DeltaTable(os.path.join(store, name)).to_pyarrow_table()
        con.register("arrow_source", arrow)
        con.execute(f"CREATE TABLE raw.{name} AS SELECT * FROM arrow_source")
        con.unregister("arrow_source")
    with open(views_path, encoding="utf-8") as f:
        for statement in statements(duckdb_spelling(f.read())):
            con.execute(statement)
    out = []
    for sql in QUERIES:
        table = arrow_result(con, sql)
        columns = [render_column(table.column(i)) for i in range(table.num_columns)]
        rows = [list(row) for row in zip(*columns)] if columns else []
        out.append({"query": sql, "rows": rows})
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
