"""One fixed workload, run by the unmodified mlflow client against `runql serve`
and against `mlflow server` (sqlite), step by step; every step's outcome must
agree, except where runql is documented to do better.

    python workload.py RUNQL_URL MLFLOW_URL

Each step returns a plain value (or the error code it raised). Ids differ
between servers, so every id a server hands out is replaced by a name in the
order it was first seen ("run#3"); times the servers choose are left out,
times the workload gives are kept. Prints each step, then the mismatches, and
exits 1 if there are any.
"""

import json
import math
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")

import mlflow  # noqa: E402
import mlflow.pyfunc  # noqa: E402
import pandas as pd  # noqa: E402
import requests  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import Metric, Param, RunTag, ViewType  # noqa: E402
from mlflow.exceptions import MlflowException  # noqa: E402

T0 = 1_700_000_000_000

# Steps where runql is documented to answer better than MLflow: why, and a
# check that runql's answer is the better one.
def _answer(expected):
    return lambda outcome: outcome == {"value": expected}


def _answer_error(code):
    return lambda outcome: outcome == {"error": code}


def _runs(outcome):
    return "value" in outcome and isinstance(outcome["value"], list) and len(outcome["value"]) > 0


RUNQL_BETTER = {
    "metric +inf round-trips": ("MLflow returns +inf as 1.7976931348623157e308", _answer("inf")),
    "metric -inf round-trips": ("MLflow returns -inf as -1.7976931348623157e308", _answer("-inf")),
    "history keeps inf": ("MLflow returns inf as 1.7976931348623157e308", _answer([["inf", T0, 0]])),
    "search with OR": ("MLflow refuses OR; runql's wider grammar accepts it", _runs),
    "search with IN on a param": ("MLflow refuses IN on params; runql accepts it", _runs),
    "search with numeric param comparison": ("MLflow compares params only as text", _runs),
    "rename to a taken name": (
        "MLflow reports its database's integrity error as BAD_REQUEST; runql names the conflict",
        _answer_error("RESOURCE_ALREADY_EXISTS"),
    ),
}


class Ids:
    """Names for the ids one server hands out, in order of first sight."""

    def __init__(self):
        self.names = {}

    def __call__(self, kind, value):
        if value is None:
            return None
        key = (kind, value)
        if key not in self.names:
            self.names[key] = f"{kind}#{sum(1 for k in self.names if k[0] == kind) + 1}"
        return self.names[key]


def number(value):
    """A float as comparable text: NaN, ±inf and -0.0 kept apart."""
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if value == 0.0 and math.copysign(1.0, value) < 0:
            return "-0.0"
        return repr(value)
    return value


class Workload:
    def __init__(self, url, work_dir):
        mlflow.set_tracking_uri(url)
        self.url = url
        self.client = MlflowClient(tracking_uri=url)
        self.ids = Ids()
        self.work_dir = work_dir
        self.state = {}
        self.started = 0

    # Helpers that turn entities into comparable values.

    def run_info(self, run):
        info = run.info
        return {
            "run_id": self.ids("run", info.run_id),
            "experiment_id": self.ids("experiment", info.experiment_id),
            "run_name": info.run_name,
            "status": info.status,
            "lifecycle_stage": info.lifecycle_stage,
            "start_time": info.start_time if info.start_time and info.start_time < T0 + 10**6 else "now",
            "end_time": info.end_time,
            "artifact_uri": self.uri(info.artifact_uri),
        }

    def uri(self, uri):
        """An artifact URI with its ids named: mlflow-artifacts:/experiment#2/run#3/artifacts."""
        if uri is None:
            return None
        parts = uri.split("/")
        named = []
        for part in parts:
            for kind in ("experiment", "run", "model"):
                if (kind, part) in self.ids.names:
                    part = self.ids.names[(kind, part)]
                    break
            named.append(part)
        return "/".join(named)

    def run_data(self, run):
        return {
            "metrics": {k: number(v) for k, v in sorted(run.data.metrics.items())},
            "params": dict(sorted(run.data.params.items())),
            "tags": {k: v for k, v in sorted(run.data.tags.items()) if not k.startswith("mlflow.source")},
        }

    def history(self, run_id, key):
        return [(number(m.value), m.timestamp, m.step) for m in self.client.get_metric_history(run_id, key)]

    def experiment(self, experiment):
        if experiment is None:
            return None
        return {
            "experiment_id": self.ids("experiment", experiment.experiment_id),
            "name": experiment.name,
            "lifecycle_stage": experiment.lifecycle_stage,
            "artifact_location": self.uri(experiment.artifact_location),
            "tags": dict(sorted(experiment.tags.items())),
        }

    def new_run(self, experiment_key, **kwargs):
        # Distinct start times: the default search order is by start time, and
        # a tie would fall to the run ids, which differ between the servers.
        self.started += 1
        run = self.client.create_run(self.state[experiment_key], start_time=T0 + self.started, **kwargs)
        self.ids("run", run.info.run_id)
        return run.info.run_id

    def search(self, filter_string="", order_by=None, view=ViewType.ACTIVE_ONLY, experiment="exp"):
        runs = self.client.search_runs(
            [self.state[experiment]], filter_string, run_view_type=view, order_by=order_by or []
        )
        return [self.ids("run", r.info.run_id) for r in runs]

    # The steps, in order. Each returns a comparable value.

    def steps(self):
        c = self.client
        s = self.state
        wd = self.work_dir

        def create_experiment():
            s["exp"] = c.create_experiment("workload", tags={"team": "vision"})
            return self.ids("experiment", s["exp"])

        yield "create experiment", create_experiment
        yield "create experiment again", lambda: c.create_experiment("workload")
        yield "get experiment by name", lambda: self.experiment(c.get_experiment_by_name("workload"))
        yield "get experiment by missing name", lambda: c.get_experiment_by_name("no such experiment")
        yield "get experiment by id", lambda: self.experiment(c.get_experiment(s["exp"]))
        yield "get missing experiment", lambda: c.get_experiment("123456789")
        yield "default experiment", lambda: self.experiment(c.get_experiment("0"))["name"]
        yield "set experiment tag", lambda: c.set_experiment_tag(s["exp"], "stage", "dev")
        yield "overwrite experiment tag", lambda: c.set_experiment_tag(s["exp"], "stage", "prod")
        yield "experiment tags", lambda: self.experiment(c.get_experiment(s["exp"]))["tags"]
        yield "delete experiment tag", lambda: c.delete_experiment_tag(s["exp"], "stage")
        yield "experiment tags after delete", lambda: self.experiment(c.get_experiment(s["exp"]))["tags"]

        def second_experiment():
            s["exp2"] = c.create_experiment("workload-two")
            return self.ids("experiment", s["exp2"])

        yield "create second experiment", second_experiment
        yield "rename experiment", lambda: c.rename_experiment(s["exp2"], "workload-2")
        yield "renamed experiment", lambda: c.get_experiment(s["exp2"]).name
        yield "rename to a taken name", lambda: c.rename_experiment(s["exp2"], "workload")
        yield "search experiments by name", lambda: [
            e.name for e in c.search_experiments(filter_string="name LIKE 'workload%'", order_by=["name ASC"])
        ]
        yield "search experiments by tag", lambda: [
            e.name for e in c.search_experiments(filter_string="tags.team = 'vision'")
        ]
        yield "delete experiment", lambda: c.delete_experiment(s["exp2"])
        yield "deleted experiment", lambda: c.get_experiment(s["exp2"]).lifecycle_stage
        yield "search deleted experiments", lambda: [
            e.name
            for e in c.search_experiments(view_type=ViewType.DELETED_ONLY, filter_string="name LIKE 'workload%'")
        ]
        yield "create run in deleted experiment", lambda: c.create_run(s["exp2"])
        yield "restore experiment", lambda: c.restore_experiment(s["exp2"])
        yield "restored experiment", lambda: c.get_experiment(s["exp2"]).lifecycle_stage
        yield "search experiments page size 1", lambda: len(
            c.search_experiments(max_results=1, filter_string="name LIKE 'workload%'")
        )

        # Runs.
        def first_run():
            s["run"] = self.new_run("exp", run_name="first", tags={"kind": "baseline"})
            return self.run_info(c.get_run(s["run"]))

        yield "create run", first_run
        yield "run data at start", lambda: self.run_data(c.get_run(s["run"]))

        def unnamed_run():
            s["unnamed"] = self.new_run("exp")
            run = c.get_run(s["unnamed"])
            return bool(run.info.run_name) and run.data.tags.get("mlflow.runName") == run.info.run_name

        yield "run without a name gets one", unnamed_run
        yield "run name and tag disagree", lambda: c.create_run(
            s["exp"], run_name="a", tags={"mlflow.runName": "b"}
        )
        yield "get missing run", lambda: c.get_run("0123456789abcdef0123456789abcdef")
        yield "log param", lambda: c.log_param(s["run"], "optimizer", "adam")
        yield "log same param again", lambda: c.log_param(s["run"], "optimizer", "adam")
        yield "change param", lambda: c.log_param(s["run"], "optimizer", "sgd")
        yield "param after change attempt", lambda: c.get_run(s["run"]).data.params
        yield "log param with empty value", lambda: c.log_param(s["run"], "empty", "")
        yield "param key too long", lambda: c.log_param(s["run"], "k" * 251, "v")
        yield "param key at the limit", lambda: c.log_param(s["run"], "k" * 250, "v")
        yield "param value over 6000 is cut", lambda: (
            c.log_param(s["run"], "long", "x" * 6001),
            len(c.get_run(s["run"]).data.params["long"]),
        )[1]
        yield "param key with a dot-dot path", lambda: c.log_param(s["run"], "a/../b", "v")
        yield "param key with a bad character", lambda: c.log_param(s["run"], "a$b", "v")
        yield "unicode param", lambda: (
            c.log_param(s["run"], "ünï", "值"),
            c.get_run(s["run"]).data.params["ünï"],
        )[1]
        yield "set tag", lambda: c.set_tag(s["run"], "note", "one")
        yield "overwrite tag", lambda: c.set_tag(s["run"], "note", "two")
        yield "tag after overwrite", lambda: c.get_run(s["run"]).data.tags["note"]
        yield "tag value over 8000 is cut", lambda: (
            c.set_tag(s["run"], "big", "y" * 8001),
            len(c.get_run(s["run"]).data.tags["big"]),
        )[1]
        yield "delete tag", lambda: c.delete_tag(s["run"], "note")
        yield "delete missing tag", lambda: c.delete_tag(s["run"], "note")
        yield "tags after delete", lambda: sorted(
            k for k in c.get_run(s["run"]).data.tags if not k.startswith("mlflow.source")
        )
        yield "rename run by tag", lambda: (
            c.set_tag(s["run"], "mlflow.runName", "first-renamed"),
            c.get_run(s["run"]).info.run_name,
        )[1]

        # Metrics.
        yield "log metric", lambda: c.log_metric(s["run"], "loss", 1.0, timestamp=T0, step=0)
        yield "log metrics by step", lambda: [
            c.log_metric(s["run"], "loss", 1.0 / (i + 1), timestamp=T0 + i, step=i) for i in range(1, 6)
        ][-1]
        yield "metric history", lambda: self.history(s["run"], "loss")
        yield "latest metric", lambda: number(c.get_run(s["run"]).data.metrics["loss"])
        yield "latest is max by step then time then value", lambda: (
            c.log_metric(s["run"], "rule", 1.0, timestamp=T0 + 100, step=5),
            c.log_metric(s["run"], "rule", 0.5, timestamp=T0 + 200, step=5),
            c.log_metric(s["run"], "rule", 9.0, timestamp=T0 + 300, step=3),
            c.log_metric(s["run"], "rule", 0.7, timestamp=T0 + 200, step=5),
            number(c.get_run(s["run"]).data.metrics["rule"]),
        )[-1]
        yield "history order is by time, step, value", lambda: self.history(s["run"], "rule")
        yield "repeated metric value collapses", lambda: (
            c.log_metric(s["run"], "dup", 2.0, timestamp=T0, step=1),
            c.log_metric(s["run"], "dup", 2.0, timestamp=T0, step=1),
            self.history(s["run"], "dup"),
        )[-1]
        def floats_run():
            s["floats"] = self.new_run("exp", run_name="floats")
            return self.run_info(c.get_run(s["floats"]))["run_name"]

        yield "a run for special values", floats_run
        yield "metric NaN round-trips", lambda: (
            c.log_metric(s["floats"], "nan", float("nan"), timestamp=T0, step=0),
            number(c.get_run(s["floats"]).data.metrics["nan"]),
        )[1]
        yield "metric +inf round-trips", lambda: (
            c.log_metric(s["floats"], "pinf", float("inf"), timestamp=T0, step=0),
            number(c.get_run(s["floats"]).data.metrics["pinf"]),
        )[1]
        yield "metric -inf round-trips", lambda: (
            c.log_metric(s["floats"], "ninf", float("-inf"), timestamp=T0, step=0),
            number(c.get_run(s["floats"]).data.metrics["ninf"]),
        )[1]
        yield "metric -0.0 reads back as 0.0", lambda: (
            c.log_metric(s["floats"], "negzero", -0.0, timestamp=T0, step=0),
            number(c.get_run(s["floats"]).data.metrics["negzero"]),
        )[1]
        yield "history keeps inf", lambda: self.history(s["floats"], "pinf")
        yield "tiny and huge values", lambda: (
            c.log_metric(s["floats"], "tiny", 5e-324, timestamp=T0, step=10**12),
            c.log_metric(s["floats"], "huge", 1.5e308, timestamp=T0, step=0),
            [number(c.get_run(s["floats"]).data.metrics[k]) for k in ("tiny", "huge")],
            self.history(s["floats"], "tiny"),
        )[2:]
        yield "metric with negative timestamp", lambda: c.log_metric(s["run"], "neg", 1.0, timestamp=-5)
        yield "metric key too long", lambda: c.log_metric(s["run"], "m" * 251, 1.0)
        yield "history of a missing key", lambda: self.history(s["run"], "never-logged")
        yield "history of a missing run", lambda: self.history("0123456789abcdef0123456789abcdef", "loss")

        # Batches.
        yield "log batch", lambda: c.log_batch(
            s["run"],
            metrics=[Metric("acc", 0.5 + i / 100, T0 + i, i) for i in range(10)],
            params=[Param("lr", "0.01"), Param("batch_size", "32")],
            tags=[RunTag("framework", "torch")],
        )
        yield "run data after batch", lambda: self.run_data(c.get_run(s["run"]))
        yield "batch with 101 params", lambda: c.log_batch(
            s["run"], params=[Param(f"p{i}", "v") for i in range(101)]
        )
        yield "batch with 1001 metrics", lambda: c.log_batch(
            s["run"], metrics=[Metric("many", float(i), T0, i) for i in range(1001)]
        )
        yield "batch with 101 tags", lambda: c.log_batch(s["run"], tags=[RunTag(f"t{i}", "v") for i in range(101)])
        yield "batch with one bad key writes nothing", lambda: c.log_batch(
            s["run"], metrics=[Metric("fine", 1.0, T0, 0), Metric("bad$key", 1.0, T0, 0)]
        )
        yield "nothing of the bad batch landed", lambda: "fine" in c.get_run(s["run"]).data.metrics
        yield "batch changing a param", lambda: c.log_batch(s["run"], params=[Param("lr", "0.1")])
        yield "batch at the limits", lambda: (
            c.log_batch(
                s["run"],
                metrics=[Metric("limit", float(i), T0 + i, i) for i in range(1000)],
            ),
            len(self.history(s["run"], "limit")),
        )[1]

        # History paging: the client reads 25,000 values a page.
        def long_history():
            for page in range(30):
                c.log_batch(
                    s["run"],
                    metrics=[
                        Metric("long", float(page * 1000 + i), T0 + page * 1000 + i, page * 1000 + i)
                        for i in range(1000)
                    ],
                )
            history = c.get_metric_history(s["run"], "long")
            return [len(history), history[0].step, history[24999].step, history[25000].step, history[-1].step]

        yield "history over 25,000 values pages", long_history

        # Lifecycle.
        yield "update run", lambda: (
            c.update_run(s["run"], status="FINISHED", name="first-final"),
            (lambda r: (r.info.status, r.info.run_name))(c.get_run(s["run"])),
        )[1]
        yield "end run with time", lambda: (
            c.set_terminated(s["unnamed"], status="KILLED", end_time=T0 + 5),
            (lambda r: (r.info.status, r.info.end_time))(c.get_run(s["unnamed"])),
        )[1]
        yield "delete run", lambda: c.delete_run(s["unnamed"])
        yield "deleted run", lambda: c.get_run(s["unnamed"]).info.lifecycle_stage
        yield "log to a deleted run", lambda: c.log_metric(s["unnamed"], "x", 1.0)
        yield "search hides deleted runs", lambda: self.search()
        yield "search deleted runs", lambda: self.search(view=ViewType.DELETED_ONLY)
        yield "search all runs", lambda: sorted(self.search(view=ViewType.ALL))
        yield "restore run", lambda: c.restore_run(s["unnamed"])
        yield "restored run", lambda: c.get_run(s["unnamed"]).info.lifecycle_stage
        yield "delete missing run", lambda: c.delete_run("0123456789abcdef0123456789abcdef")

        # Search.
        def sweep():
            for i, (optimizer, lr, loss) in enumerate(
                [("adam", "0.1", 0.3), ("adam", "0.01", 0.2), ("sgd", "0.1", 0.5), ("sgd", "0.01", 0.4), ("rmsprop", "0.1", 0.6)]
            ):
                run = c.create_run(s["exp"], run_name=f"sweep-{i}", start_time=T0 + 1000 + i)
                self.ids("run", run.info.run_id)
                c.log_batch(
                    run.info.run_id,
                    metrics=[Metric("val_loss", loss, T0, 0)],
                    params=[Param("optimizer", optimizer), Param("lr", lr)],
                    tags=[RunTag("sweep", "yes")],
                )
                if i % 2 == 0:
                    c.set_terminated(run.info.run_id, end_time=T0 + 2000)
            return self.search("tags.sweep = 'yes'")

        yield "search a sweep", sweep
        yield "search by metric", lambda: self.search("metrics.val_loss < 0.45")
        yield "search by param", lambda: self.search("params.optimizer = 'adam'")
        yield "search by metric and param", lambda: self.search(
            "metrics.val_loss < 0.45 and params.optimizer = 'sgd'"
        )
        yield "search by attribute", lambda: self.search("attributes.status = 'FINISHED' and tags.sweep = 'yes'")
        yield "search by run name", lambda: self.search("attributes.run_name LIKE 'sweep-%'")
        yield "search by run name case-insensitively", lambda: self.search("attributes.run_name ILIKE 'SWEEP-1'")
        yield "search by start time", lambda: self.search(f"attributes.start_time > {T0 + 1002}")
        yield "search ordered by metric", lambda: self.search("tags.sweep = 'yes'", ["metrics.val_loss ASC"])
        yield "search ordered by metric descending", lambda: self.search(
            "tags.sweep = 'yes'", ["metrics.val_loss DESC"]
        )
        yield "search ordered by param then name", lambda: self.search(
            "tags.sweep = 'yes'", ["params.optimizer ASC", "attributes.run_name DESC"]
        )
        yield "search by tag that no run has", lambda: self.search("tags.nothing = 'x'")
        yield "search with IN on run id", lambda: self.search(
            "attributes.run_id IN ('%s')" % s["run"]
        )
        yield "search with a bad filter", lambda: self.search("metrics.val_loss <<< 1")
        yield "search with an unknown entity", lambda: self.search("nonsense.x = 1")

        def paged_search():
            seen = []
            token = None
            while True:
                page = c.search_runs(
                    [s["exp"]], "tags.sweep = 'yes'", max_results=2, order_by=["attributes.run_name ASC"], page_token=token
                )
                seen.append([self.ids("run", r.info.run_id) for r in page])
                token = page.token
                if not token:
                    return seen

        yield "search in pages of 2", paged_search
        yield "search with max_results 0", lambda: c.search_runs([s["exp"]], max_results=0)
        yield "search with max_results over 50000", lambda: c.search_runs([s["exp"]], max_results=50001)
        yield "search with OR", lambda: self.search("params.optimizer = 'adam' OR params.optimizer = 'sgd'")
        yield "search with IN on a param", lambda: self.search("params.optimizer IN ('adam', 'rmsprop')")
        yield "search with numeric param comparison", lambda: self.search("params.lr > 0.05")
        yield "search runs as a DataFrame", lambda: sorted(
            mlflow.search_runs([s["exp"]], filter_string="tags.sweep = 'yes'")["params.optimizer"].tolist()
        )
        yield "search across experiments", lambda: len(c.search_runs([s["exp"], s["exp2"]]))

        # The fluent API: nested runs, datasets, artifacts and models.
        def fluent():
            mlflow.set_experiment("workload-fluent")
            with mlflow.start_run(run_name="parent") as parent:
                self.ids("run", parent.info.run_id)
                s["parent"] = parent.info.run_id
                mlflow.log_params({"layers": 3, "dropout": 0.1})
                mlflow.log_metrics({"f1": 0.8, "recall": 0.7}, step=1)
                with mlflow.start_run(run_name="child", nested=True) as child:
                    self.ids("run", child.info.run_id)
                    s["child"] = child.info.run_id
                    mlflow.log_metric("child_metric", 1.0)
            return [c.get_run(s["child"]).data.tags.get("mlflow.parentRunId") == s["parent"],
                    c.get_run(s["parent"]).info.status]

        yield "fluent nested runs", fluent
        yield "experiment created by set_experiment", lambda: self.experiment(
            c.get_experiment_by_name("workload-fluent")
        )

        def dataset_input():
            frame = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [0, 1, 0]})
            dataset = mlflow.data.from_pandas(frame, name="training-set", targets="y")
            with mlflow.start_run(run_id=s["parent"]):
                mlflow.log_input(dataset, context="training")
            inputs = c.get_run(s["parent"]).inputs.dataset_inputs
            return [
                (i.dataset.name, i.dataset.digest, i.dataset.source_type, sorted((t.key, t.value) for t in i.tags))
                for i in inputs
            ]

        yield "log a dataset input", dataset_input

        def artifacts():
            path = os.path.join(wd, "report.txt")
            with open(path, "w") as f:
                f.write("accuracy: 0.9\n")
            os.makedirs(os.path.join(wd, "plots", "sub"), exist_ok=True)
            for name in ("plots/a.txt", "plots/sub/b.txt"):
                with open(os.path.join(wd, name), "w") as f:
                    f.write(name)
            with mlflow.start_run(run_id=s["parent"]):
                mlflow.log_text("hello", "notes/hello.txt")
                mlflow.log_artifact(path)
                mlflow.log_artifacts(os.path.join(wd, "plots"), artifact_path="plots")
                mlflow.log_dict({"a": 1}, "config.json")
            return [(f.path, f.is_dir, f.file_size) for f in c.list_artifacts(s["parent"])]

        yield "log artifacts", artifacts
        yield "list an artifact directory", lambda: [
            (f.path, f.is_dir, f.file_size) for f in c.list_artifacts(s["parent"], "plots")
        ]
        yield "download an artifact", lambda: open(
            mlflow.artifacts.download_artifacts(
                run_id=s["parent"], artifact_path="notes/hello.txt", dst_path=tempfile.mkdtemp(dir=wd)
            )
        ).read()
        yield "load a logged dict", lambda: mlflow.artifacts.load_dict(
            f"runs:/{s['parent']}/config.json"
        )
        yield "download a directory", lambda: sorted(
            os.path.relpath(os.path.join(root, f), d)
            for d in [
                mlflow.artifacts.download_artifacts(
                    run_id=s["parent"], artifact_path="plots", dst_path=tempfile.mkdtemp(dir=wd)
                )
            ]
            for root, _, files in os.walk(d)
            for f in files
        )
        yield "download a missing artifact", lambda: mlflow.artifacts.download_artifacts(
            run_id=s["parent"], artifact_path="missing.txt", dst_path=tempfile.mkdtemp(dir=wd)
        )

        class AddOne(mlflow.pyfunc.PythonModel):
            def predict(self, context, model_input, params=None):
                return model_input["x"] + 1

        def log_model():
            frame = pd.DataFrame({"x": [1.0, 2.0]})
            with mlflow.start_run(run_id=s["parent"]):
                info = mlflow.pyfunc.log_model(name="adder", python_model=AddOne(), input_example=frame)
            s["model"] = info.model_id
            self.ids("model", info.model_id)
            model = c.get_logged_model(info.model_id)
            return {
                "status": str(model.status),
                "name": model.name,
                "source_run_id": self.ids("run", model.source_run_id),
                "artifact_location": self.uri(model.artifact_location),
                "params": dict(sorted(model.params.items())),
                "metrics": sorted((m.key, number(m.value), m.step) for m in model.metrics or []),
            }

        yield "log a pyfunc model", log_model
        yield "load the model by id and predict", lambda: list(
            mlflow.pyfunc.load_model(f"models:/{s['model']}").predict(pd.DataFrame({"x": [1.0, 5.0]}))
        )
        yield "load the model by run and predict", lambda: list(
            mlflow.pyfunc.load_model(f"runs:/{s['parent']}/adder").predict(pd.DataFrame({"x": [2.0]}))
        )
        yield "set logged model tags", lambda: (
            c.set_logged_model_tags(s["model"], {"stage": "candidate", "owner": "ml"}),
            dict(sorted((k, v) for k, v in c.get_logged_model(s["model"]).tags.items() if not k.startswith("mlflow."))),
        )[1]
        yield "delete logged model tag", lambda: (
            c.delete_logged_model_tag(s["model"], "owner"),
            sorted(k for k in c.get_logged_model(s["model"]).tags if not k.startswith("mlflow.")),
        )[1]
        yield "delete missing logged model tag", lambda: c.delete_logged_model_tag(s["model"], "owner")
        yield "search logged models by name", lambda: [
            self.ids("model", m.model_id)
            for m in c.search_logged_models(
                experiment_ids=[c.get_experiment_by_name("workload-fluent").experiment_id], filter_string="name = 'adder'"
            )
        ]
        yield "get missing logged model", lambda: c.get_logged_model("m-0123456789abcdef0123456789abcdef")
        yield "run outputs name the model", lambda: [
            self.ids("model", o.model_id) for o in c.get_run(s["parent"]).outputs.model_outputs
        ]
        yield "delete logged model", lambda: c.delete_logged_model(s["model"])
        yield "deleted logged model is gone", lambda: c.get_logged_model(s["model"])

        # Bulk interval history, as the UI's charts read it (the client has no
        # method for it, so through the REST route the UI calls).
        def bulk_interval():
            answer = requests.get(
                f"{self.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
                params={"run_ids": [s["run"]], "metric_key": "long", "max_results": 5},
                timeout=60,
            )
            answer.raise_for_status()
            return [
                (self.ids("run", m["run_id"]), number(float(m["value"])), m["step"])
                for m in answer.json().get("metrics", [])
            ]

        yield "bulk interval history", bulk_interval
        yield "bulk interval history over a step range", lambda: [
            m["step"]
            for m in requests.get(
                f"{self.url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval",
                params={
                    "run_ids": [s["run"]],
                    "metric_key": "long",
                    "start_step": 100,
                    "end_step": 200,
                    "max_results": 4,
                },
                timeout=60,
            ).json().get("metrics", [])
        ]


def outcome(step):
    try:
        return {"value": json.loads(json.dumps(step(), default=str))}
    except MlflowException as error:
        return {"error": error.error_code}


def run_all(url, work_dir):
    workload = Workload(url, work_dir)
    return [(name, outcome(step)) for name, step in workload.steps()]


def main(argv):
    runql_url, mlflow_url = argv[1], argv[2]
    with tempfile.TemporaryDirectory() as work:
        os.makedirs(os.path.join(work, "runql"))
        os.makedirs(os.path.join(work, "mlflow"))
        ours = run_all(runql_url, os.path.join(work, "runql"))
        theirs = run_all(mlflow_url, os.path.join(work, "mlflow"))
    mismatches = []
    better = 0
    for (name, mine), (_, reference) in zip(ours, theirs):
        same = mine == reference
        note = ""
        if name in RUNQL_BETTER:
            reason, check = RUNQL_BETTER[name]
            if not check(mine):
                mismatches.append(f"{name}: runql should do better ({reason}), gave {mine}; mlflow {reference}")
            else:
                better += 1
                note = f"  [runql better: {reason}; mlflow gave {json.dumps(reference)[:80]}]"
        elif not same:
            mismatches.append(f"{name}:\n    runql:  {str(mine)[:600]}\n    mlflow: {str(reference)[:600]}")
        print(f"{'ok ' if same else 'DIFF'} {name}: {json.dumps(mine)[:160]}{note}")
    print(f"\n{len(ours)} steps; {len(ours) - len(mismatches) - better} agree, {better} where runql is documented better")
    for mismatch in mismatches:
        print(f"MISMATCH {mismatch}")
    return 1 if mismatches or len(ours) != len(theirs) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
