"""The DuckDB baseline of `runql bench`, run by the Rust side with a JSON spec.

  duckdb_baseline.py baseline SPEC   convert the CSVs to Parquet, time the queries
                                     and the logging calls; print raw samples as JSON
  duckdb_baseline.py query SPEC NAME one cold run of one query (the caller measures
                                     wall time and peak RSS of this process)

The spec carries the paths, the repeat counts, the CSV column types and the
query SQL, so both systems read the same types and run the same statement
text. Only raw samples are printed: the Rust side takes medians and
percentiles with the same code for both systems.
"""
import json
import os
import sys
import time

import duckdb

# MLflow's latest metric: the highest step, then timestamp, then value, per run and key.
LATEST_METRICS = (
    "CREATE VIEW latest_metrics AS "
    "SELECT run_id, key, arg_max(value, (step, timestamp, value)) AS value "
    "FROM metrics GROUP BY run_id, key"
)


def parquet_path(spec, table):
    return os.path.join(spec["parquet_dir"], f"{table}.parquet")


def convert(spec):
    """CSV to Parquet for every table; seconds per table, and the metric point count."""
    os.makedirs(spec["parquet_dir"], exist_ok=True)
    con = duckdb.connect()
    seconds = {}
    for entry in spec["tables"]:
        table, columns = entry["name"], entry["columns"]
        csv_path = os.path.join(spec["data_dir"], f"{table}.csv")
        types = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in columns) + "}"
        started = time.perf_counter()
        con.execute(
            f"COPY (SELECT * FROM read_csv('{csv_path}', header = true, columns = {types})) "
            f"TO '{parquet_path(spec, table)}' (FORMAT parquet)"
        )
        seconds[table] = time.perf_counter() - started
    points = con.execute(f"SELECT count(*) FROM '{parquet_path(spec, 'metrics')}'").fetchone()[0]
    return seconds, points


def open_views(spec):
    """A fresh in-memory connection with the tables the queries name, over Parquet."""
    con = duckdb.connect()
    for table in ("metrics", "params"):
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{parquet_path(spec, table)}')")
    con.execute(LATEST_METRICS)
    return con


def timed_queries(spec):
    """Warm samples per query after one warm-up, in one connection, with the warm-up's rows."""
    con = open_views(spec)
    out = {}
    for name, sql in spec["queries"].items():
        rows = [list(row) for row in con.execute(sql).fetchall()]
        samples = []
        for _ in range(spec["repeats"]):
            started = time.perf_counter()
            con.execute(sql).fetchall()
            samples.append(time.perf_counter() - started)
        out[name] = {"seconds": samples, "rows": rows}
    return out


def timed_logging(spec):
    """Single-row autocommit INSERTs and 1000-row INSERTs into a persistent database file."""
    path = spec["logging_db"]
    for stale in (path, path + ".wal"):
        if os.path.exists(stale):
            os.remove(stale)
    con = duckdb.connect(path)
    con.execute(
        "CREATE TABLE metrics (run_id VARCHAR, key VARCHAR, value DOUBLE, timestamp BIGINT, step BIGINT)"
    )
    run_id = "0" * 32
    single = []
    for step in range(spec["single_calls"]):
        row = (run_id, "loss", 1.0 / (step + 1), 1_700_000_000_000 + step, step)
        started = time.perf_counter()
        con.execute("INSERT INTO metrics VALUES (?, ?, ?, ?, ?)", row)
        single.append(time.perf_counter() - started)
    batch_size = spec["batch_size"]
    statements = []
    for call in range(spec["batch_calls"]):
        values = ", ".join(
            f"('{run_id}', 'm{i % 10}', {float(i)!r}, {1_700_000_000_000 + i}, {call * batch_size + i})"
            for i in range(batch_size)
        )
        statements.append(f"INSERT INTO metrics VALUES {values}")
    batch = []
    for statement in statements:
        started = time.perf_counter()
        con.execute(statement)
        batch.append(time.perf_counter() - started)
    con.close()
    return {"single_seconds": single, "batch_seconds": batch}


def baseline(spec):
    ingest = []
    for _ in range(spec["load_repeats"]):
        seconds, points = convert(spec)
        ingest.append(seconds)
    return {
        "version": duckdb.__version__,
        "points": points,
        "ingest": ingest,
        "queries": timed_queries(spec),
        "logging": timed_logging(spec),
    }


def main():
    mode, spec_path = sys.argv[1], sys.argv[2]
    with open(spec_path) as f:
        spec = json.load(f)
    if mode == "baseline":
        print(json.dumps(baseline(spec)))
    elif mode == "query":
        rows = open_views(spec).execute(spec["queries"][sys.argv[3]]).fetchall()
        print(len(rows))
    else:
        sys.exit(f"unknown mode {mode!r}; expected baseline or query")


if __name__ == "__main__":
    main()
