"""`python -m benchmarks.instructions [--requests N] [--items M] [--database URL] [--runs PAGES]`

Instructions per page, counted by valgrind's callgrind: the same count for the same code and data whatever
else the machine is doing, where the timings of a shared 2-CPU host move by a third from run to run. Over
the generated data (`benchmarks.generate`), a logged-in agent's pages go through the Flask test client in a
Python run under `valgrind --tool=callgrind`, with counting switched on (`callgrind_control`) only around
the measured pages: start-up and the warm-up pages are not counted. Prints millions of instructions per
page for the bare health check, the inbox with no row, the inbox and the request page with 1,000 items.
Needs valgrind (`apt-get install -y valgrind`). Compare counts of two commits on the same data size.
"""
from __future__ import annotations

import gc
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PAGES = {
    "bare health check": "/healthz",
    "inbox with no row": "/requests/?ref=ZZ-0000-000000",
    "inbox": "/requests/",
    "request page (1,000 items)": "/requests/{big_request_id}",
}


def _measured(instance: str, url: str | None, ids: dict, path: str, runs: int) -> None:
    """In the run under valgrind: log in, warm up, then count `runs` pages of `path`."""
    from benchmarks.__main__ import _app, _login

    app = _app(url, Path(instance))
    client = app.test_client()
    _login(client, ids["agent_email"], ids["password"], ids["totp_secret"], app)
    gc.collect()
    gc.freeze()  # as wsgi.py does in each worker
    for _ in range(5):
        assert client.get(path).status_code == 200, path
    subprocess.run(["callgrind_control", "--instr=on", str(os.getpid())], check=True, capture_output=True)
    for _ in range(runs):
        client.get(path)
    subprocess.run(["callgrind_control", "--instr=off", str(os.getpid())], check=True, capture_output=True)


def _count(instance: Path, url: str | None, ids: dict, path: str, runs: int) -> float:
    """Instructions per page of `path`, in millions."""
    out = instance / "callgrind.out"
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}", sys.executable,
         "-m", "benchmarks.instructions", "--measure", str(instance), url or "", json.dumps(ids), path, str(runs)],
        check=True, capture_output=True)
    summary = subprocess.run(["callgrind_annotate", str(out)], check=True, capture_output=True, text=True).stdout
    total = int(re.search(r"^([\d,]+) .*PROGRAM TOTALS", summary, re.M).group(1).replace(",", ""))
    out.unlink()
    return total / runs / 1e6


def main():
    if sys.argv[1:2] == ["--measure"]:
        instance, url, ids, path, runs = sys.argv[2:7]
        return _measured(instance, url or None, json.loads(ids), path, int(runs))
    from benchmarks.__main__ import arguments, generated_app
    from portal.extensions import db

    if shutil.which("valgrind") is None:
        sys.exit("valgrind is needed: apt-get install -y valgrind")
    args = arguments(__doc__)
    runs = min(args.runs, 20)  # a page is about fifty times slower under callgrind
    with generated_app(args) as (app, ids):
        with app.app_context():
            dialect = db.engine.dialect.name
            db.session.remove()
            db.engine.dispose()
        print(f"\n{dialect}: instructions per page (callgrind, {runs} pages each, after 5 uncounted):")
        for name, path in PAGES.items():
            millions = _count(Path(app.instance_path), args.database, ids, path.format(**ids), runs)
            print(f"  {name:32} {millions:8.2f} M")


if __name__ == "__main__":
    main()
