#!/usr/bin/env python3
r"""Race conditional creates against an S3-compatible server and count double winners.

Delta commits on object stores rely on one primitive: a PUT with
`If-None-Match: *` must succeed for exactly one writer when several create the
same key at once (the others get 412 PreconditionFailed). object_store's
`PutMode::Create`, and so deltalake 1.x and runql's write-once param claims,
send exactly that request. This script checks whether a server keeps that
promise under races:

    python3 tests/engines/conditional_creates.py --endpoint http://127.0.0.1:PORT --trials 2000

Each trial picks a fresh key. K racer threads (--racers, default 8) each hold
a request that is already signed (SigV4, path-style) on an already-open
connection, wait on a shared threading.Barrier, and then PUT the same key with
`If-None-Match: *` and a body of their own. Signing and connecting before the
barrier keeps the requests as close together as Python allows (boto3's
put_object would sign after the barrier and race less tightly).

Every response is classified: 2xx (a winner), 412 PreconditionFailed,
409 ConditionalRequestConflict (S3's answer when a conflicting write is in
flight; the writer may retry), or other (any other status, or a transport
error). After the racers finish, the object is read back; its body must be one
of the winners' bodies (the winner's, when there is exactly one). Trials with
more than one winner are printed to stderr with each racer's status, the order
in which responses arrived and whose body was kept.

The last stdout line is a one-line summary. Exit status: 1 if any trial had
more than one winner or a body mismatch; otherwise 2 if any trial could not be
judged (other errors, or no winner at all); otherwise 0.

Before racing, a single-writer check creates a key and creates it again: the
second PUT must get 412, or the server ignores If-None-Match altogether (and
every racer would win).

Needs boto3 (it comes with `pip install 'moto[server]'`). Examples:

    moto_server -H 127.0.0.1 -p 5055 &
    python3 tests/engines/conditional_creates.py --endpoint http://127.0.0.1:5055 --trials 3000

    # SeaweedFS started as tests/processes.rs does (identity testkey/testsecret)
    python3 tests/engines/conditional_creates.py --endpoint http://127.0.0.1:S3PORT \
        --access-key testkey --secret-key testsecret --bucket runql-stress --trials 1500
"""

import argparse
import hashlib
import http.client
import statistics
import sys
import threading
import time
import urllib.parse
import uuid

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions

REGION = "us-east-1"


def parse_args():
    p = argparse.ArgumentParser(
        description="Race PUT If-None-Match:* creates and count trials with more than one winner."
    )
    p.add_argument("--endpoint", required=True, help="S3 endpoint, e.g. http://127.0.0.1:5055")
    p.add_argument("--bucket", default="conditional-creates", help="bucket (created if missing)")
    p.add_argument("--trials", type=int, default=1000, help="number of trials (fresh key each)")
    p.add_argument("--racers", type=int, default=8, help="concurrent writers per trial")
    p.add_argument("--access-key", default="test")
    p.add_argument("--secret-key", default="test")
    p.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="stop starting new trials after this many seconds (the summary counts trials run)",
    )
    p.add_argument("--timeout", type=float, default=60.0, help="per-request timeout, seconds")
    p.add_argument("--show", type=int, default=20, help="print at most this many anomalous trials")
    p.add_argument("--verbose", action="store_true", help="print every trial's responses to stderr")
    return p.parse_args()


class Racer:
    """One writer. `prepare` runs before the barrier, `fire` after it."""

    def __init__(self, args, index):
        self.args = args
        self.index = index
        url = urllib.parse.urlsplit(args.endpoint)
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.netloc = url.netloc
        self.base_path = url.path.rstrip("/")
        self.creds = botocore.credentials.Credentials(args.access_key, args.secret_key)
        self.conn = None
        self.prepared = None

    def _connect(self):
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.host, self.port, timeout=self.args.timeout)
        conn.connect()
        return conn

    def prepare(self, key, body):
        self.key, self.body = key, body
        path = f"{self.base_path}/{self.args.bucket}/{urllib.parse.quote(key, safe='/')}"
        request = botocore.awsrequest.AWSRequest(
            method="PUT",
            url=f"{self.scheme}://{self.netloc}{path}",
            data=body,
            headers={
                "If-None-Match": "*",
                "Content-Type": "application/octet-stream",
                "x-amz-content-sha256": hashlib.sha256(body).hexdigest(),
            },
        )
        botocore.auth.SigV4Auth(self.creds, "s3", REGION).add_auth(request)
        headers = dict(request.headers.items())
        headers["Content-Length"] = str(len(body))
        self.prepared = (path, headers)
        # A fresh connection per trial: a server closing an idle keep-alive
        # connection between trials must not look like a failed write.
        if self.conn is not None:
            self.conn.close()
        self.conn = self._connect()

    def fire(self):
        """Send the PUT; return (kind, status, code, etag, t_sent, t_answered)."""
        t0 = time.monotonic()
        path, headers = self.prepared
        try:
            self.conn.request("PUT", path, body=self.body, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
            t1 = time.monotonic()
            status = response.status
            etag = response.getheader("ETag", "") or ""
            code = error_code(payload) if status >= 300 else ""
            return classify(status, code), status, code, etag, t0, t1
        except Exception as e:
            self.conn.close()
            self.conn = None
            return "other", 0, f"{type(e).__name__}: {e}", "", t0, time.monotonic()

    def close(self):
        if self.conn is not None:
            self.conn.close()


def error_code(payload):
    text = payload.decode("utf-8", "replace")
    start = text.find("<Code>")
    end = text.find("</Code>")
    if start >= 0 and end > start:
        return text[start + len("<Code>") : end]
    return text[:80].replace("\n", " ")


def classify(status, code):
    if 200 <= status < 300:
        return "win"
    if status == 412:
        return "412"
    if status == 409:
        return "409"
    return "other"


def make_client(args):
    config = botocore.config.Config(
        region_name=REGION,
        s3={"addressing_style": "path"},
        retries={"total_max_attempts": 3, "mode": "standard"},
        connect_timeout=args.timeout,
        read_timeout=args.timeout,
        max_pool_connections=4,
        # Plain PUTs, as object_store sends them (no aws-chunked trailers).
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.client(
        "s3",
        endpoint_url=args.endpoint,
        aws_access_key_id=args.access_key,
        aws_secret_access_key=args.secret_key,
        config=config,
    )


def ensure_bucket(s3, bucket):
    try:
        s3.head_bucket(Bucket=bucket)
        return
    except botocore.exceptions.ClientError as e:
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if status not in (404, 400, 403):
            raise
    try:
        s3.create_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") not in (
            "BucketAlreadyOwnedByYou",
            "BucketAlreadyExists",
        ):
            raise


def read_back(s3, bucket, key):
    """(body, etag) of the object, or (None, '') if it does not exist."""
    try:
        r = s3.get_object(Bucket=bucket, Key=key)
        return r["Body"].read(), r.get("ETag", "")
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None, ""
        raise


def single_writer_check(args, s3, prefix):
    """A create, then a second create of the same key: 2xx then 412."""
    racer = Racer(args, 0)
    key = f"{prefix}/single-writer-check"
    racer.prepare(key, b"first")
    first = racer.fire()
    racer.prepare(key, b"second")
    second = racer.fire()
    racer.close()
    body, _ = read_back(s3, args.bucket, key)
    ok = first[0] == "win" and second[1] == 412 and body == b"first"
    print(
        f"single-writer check: first create -> {first[1]} {first[2]}".rstrip()
        + f", second create -> {second[1]} {second[2]}".rstrip()
        + f", body kept {body!r}: {'ok' if ok else 'FAILED'}",
        file=sys.stderr,
    )
    return ok


def main():
    args = parse_args()
    if args.racers < 2:
        sys.exit("--racers must be at least 2")
    s3 = make_client(args)
    ensure_bucket(s3, args.bucket)
    run_id = uuid.uuid4().hex[:12]
    prefix = f"conditional-creates/{run_id}"
    if not single_writer_check(args, s3, prefix):
        print("the server does not honour If-None-Match: * for a single writer", file=sys.stderr)
        sys.exit(1)

    racers = [Racer(args, i) for i in range(args.racers)]
    # The main thread is a party too: it prepares each trial before the
    # racers go and judges it after they are all done.
    start = threading.Barrier(args.racers + 1)
    done = threading.Barrier(args.racers + 1)
    results = [None] * args.racers
    state = {"key": None, "stop": False}

    def body_of(trial, i):
        return f"{run_id} trial={trial} racer={i} ".encode().ljust(64, b".")

    def work(i):
        racer = racers[i]
        while True:
            start.wait()
            if state["stop"]:
                return
            results[i] = racer.fire()
            done.wait()

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(args.racers)]
    for t in threads:
        t.start()

    winners_hist = {0: 0, 1: 0, "many": 0}
    counts = {"win": 0, "412": 0, "409": 0, "other": 0}
    other_examples = {}
    mismatches = 0
    zero_winner_with_object = 0
    spreads = []
    shown = 0
    began = time.monotonic()
    trials_run = 0

    for trial in range(args.trials):
        if args.max_seconds is not None and time.monotonic() - began > args.max_seconds:
            break
        key = f"{prefix}/t{trial:06d}"
        bodies = [body_of(trial, i) for i in range(args.racers)]
        prepare_failed = False
        for i, racer in enumerate(racers):
            try:
                racer.prepare(key, bodies[i])
            except Exception as e:  # e.g. connection refused
                prepare_failed = True
                other_examples.setdefault(f"prepare: {type(e).__name__}: {e}", 0)
        if prepare_failed:
            print(f"trial {trial}: could not connect; stopping", file=sys.stderr)
            break
        start.wait()
        done.wait()
        trials_run += 1
        res = list(results)

        winners = [i for i, r in enumerate(res) if r[0] == "win"]
        for r in res:
            counts[r[0]] += 1
            if r[0] == "other":
                label = f"{r[1]} {r[2]}".strip()
                other_examples[label] = other_examples.get(label, 0) + 1
        n = len(winners)
        winners_hist[n if n < 2 else "many"] += 1
        sent = [r[4] for r in res]
        spreads.append((max(sent) - min(sent)) * 1000)

        body, etag = read_back(s3, args.bucket, key)
        kept = bodies.index(body) if body in bodies else None
        if n >= 1:
            bad = kept not in winners
        else:
            bad = body is not None and kept is None
            if body is not None:
                zero_winner_with_object += 1
        if bad:
            mismatches += 1

        if args.verbose or ((n != 1 or bad) and shown < args.show):
            shown += 1
            order = sorted(range(args.racers), key=lambda i: res[i][5])
            t_first = min(r[4] for r in res)
            detail = ", ".join(
                f"r{i}:{res[i][1]}{'' if res[i][0] != 'other' else '(' + res[i][2] + ')'}"
                f"@{(res[i][5] - t_first) * 1000:.1f}ms"
                for i in order
            )
            if body is None:
                kept_text = "no object"
            elif kept is None:
                kept_text = f"unknown body {body[:40]!r}"
            else:
                pos = [i for i in order if i in winners]
                where = (
                    f" (winner #{pos.index(kept) + 1} of {len(pos)} in answer order)"
                    if kept in pos
                    else " (not a winner)"
                )
                kept_text = f"r{kept}'s body{where}"
            print(
                f"trial {trial}: {n} winners{' MISMATCH' if bad else ''}; kept {kept_text}; "
                f"responses in arrival order: {detail}",
                file=sys.stderr,
            )

    state["stop"] = True
    start.wait()
    for t in threads:
        t.join()
    for r in racers:
        r.close()
    elapsed = time.monotonic() - began

    if other_examples:
        for label, c in sorted(other_examples.items(), key=lambda kv: -kv[1])[:10]:
            print(f"other error x{c}: {label}", file=sys.stderr)
    spread = (
        f"start spread median {statistics.median(spreads):.2f} ms"
        f" p90 {sorted(spreads)[int(0.9 * (len(spreads) - 1))]:.2f} ms"
        if spreads
        else "start spread n/a"
    )
    print(
        f"endpoint={args.endpoint} trials={trials_run} racers={args.racers} "
        f"winners: 0={winners_hist[0]} 1={winners_hist[1]} >1={winners_hist['many']} "
        f"mismatches={mismatches} other_errors={counts['other']} "
        f"responses: 2xx={counts['win']} 412={counts['412']} 409={counts['409']} "
        f"zero_winner_objects={zero_winner_with_object} {spread} elapsed={elapsed:.1f}s"
    )
    if winners_hist["many"] or mismatches:
        sys.exit(1)
    if counts["other"] or winners_hist[0]:
        sys.exit(2)


if __name__ == "__main__":
    main()
