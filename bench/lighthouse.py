"""Lighthouse scores for the public pages, the median of 3 runs each.

    python bench/lighthouse.py                    # all pages, 3 runs each (~6 min)
    python bench/lighthouse.py --runs 1 --pages / /map

Runs npm's `lighthouse@12.2.3` (installed with the machine's npm into
`--lighthouse-dir`, default /tmp/stationfinder-lighthouse, on first use; never into the
repository) under Debian's Node and `/usr/bin/chromium` (`CHROME_PATH`, headless, no
sandbox), with Lighthouse's default mobile emulation and simulated throttling (slow 4G,
4x CPU). The map tiles are blocked (`--blocked-url-patterns` with the configured tile
host): they are a third party's images, not ours to score, and the machine has no
network to fetch them anyway.

The app is this checkout's, started as `stationfinder run` on a free port with a fresh
`STATIONFINDER_DATA_DIR` (so the seeded sample stations, nothing of a developer's own).
`/nearest?lat=…&lon=…` is the locator's results page as the server renders it without
JavaScript (the form's action).

Prints a Markdown table (performance, accessibility, best practices, SEO as 0–100; FCP
and LCP in seconds, total blocking time in ms and cumulative layout shift; each the
median of the runs) with the machine, its load before and after, and the date, then
every audit that cost a page points in any run, so a shortfall can be fixed without
opening the reports (the JSON reports stay in the output folder).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LIGHTHOUSE = "lighthouse@12.2.3"
CHROMIUM = "/usr/bin/chromium"
XIASHA = (30.3051, 120.3181)  # lat, lon: by Jinsha Lake
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
TARGETS = "accessibility, best practices and SEO 100; performance ≥ 98; LCP ≤ 1.2 s"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stationfinder_command() -> list[str]:
    beside = Path(sys.executable).with_name("stationfinder")
    if beside.exists():
        return [str(beside)]
    return [sys.executable, "-m", "stationfinder.cli"]


def _get(url: str, timeout: float = 5.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return answer.read()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the app exited with {process.returncode} before answering")
        try:
            _get(url, timeout=2)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the app did not answer {url} within {deadline_s:.0f} s")


def _lighthouse_cli(folder: Path) -> Path:
    cli = folder / "node_modules" / "lighthouse" / "cli" / "index.js"
    if not cli.exists():
        folder.mkdir(parents=True, exist_ok=True)
        npm = shutil.which("npm") or "npm"
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(folder), LIGHTHOUSE],
            check=True,
        )
    return cli


def _tile_pattern() -> str:
    """The configured tile host as a Lighthouse URL pattern (`{s}` becomes `*`)."""
    sys.path.insert(0, str(REPO))
    from stationfinder.config import SETTINGS_BY_NAME

    template = os.environ.get("STATIONFINDER_TILE_URL") or SETTINGS_BY_NAME["TILE_URL"].default
    host = urlsplit(str(template).replace("{s}", "SUBDOMAIN")).hostname or ""
    return "*://" + host.replace("subdomain", "*") + "/*"


def _run_once(cli: Path, url: str, report: Path, blocked: str) -> dict[str, float]:
    command = [
        "node",
        str(cli),
        url,
        "--output=json",
        f"--output-path={report}",
        "--quiet",
        "--chrome-flags=--headless=new --no-sandbox",
        f"--blocked-url-patterns={blocked}",
    ]
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    data = json.loads(report.read_text(encoding="utf-8"))
    if data.get("runtimeError"):
        raise SystemExit(f"{url}: {data['runtimeError']}")
    scores = {name: round(100 * (data["categories"][name]["score"] or 0)) for name in CATEGORIES}
    audits = data["audits"]
    scores["fcp_s"] = audits["first-contentful-paint"]["numericValue"] / 1000
    scores["lcp_s"] = audits["largest-contentful-paint"]["numericValue"] / 1000
    scores["tbt_ms"] = audits["total-blocking-time"]["numericValue"]
    scores["cls"] = audits["cumulative-layout-shift"]["numericValue"]
    return scores


def _shortfalls(report: Path) -> list[str]:
    """Audits with weight that did not score full marks in this run."""
    data = json.loads(report.read_text(encoding="utf-8"))
    found = []
    for name, category in data["categories"].items():
        for ref in category["auditRefs"]:
            audit = data["audits"][ref["id"]]
            if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
                shown = audit.get("displayValue") or ""
                found.append(f"{name}: {ref['id']} {audit['score']:.2f} {shown}".rstrip())
    return found


def _machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    chromium = subprocess.run(
        [CHROMIUM, "--version"], capture_output=True, text=True
    ).stdout.strip()
    return f"{os.cpu_count()} CPUs (`nproc`), {model}; Node {node}; {chromium}; load now {load}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", nargs="*", help="paths (default: the six public pages)")
    parser.add_argument(
        "--lighthouse-dir", type=Path, default=Path("/tmp/stationfinder-lighthouse")
    )
    parser.add_argument("--out", type=Path, help="folder for the JSON reports (default: temp)")
    args = parser.parse_args()

    cli = _lighthouse_cli(args.lighthouse_dir)
    blocked = _tile_pattern()
    out = args.out or Path(tempfile.mkdtemp(prefix="stationfinder-lighthouse-"))
    out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="stationfinder-data-") as data_dir:
        env = {**os.environ, "STATIONFINDER_DATA_DIR": data_dir}
        env.pop("STATIONFINDER_DATABASE_URL", None)
        app = subprocess.Popen(
            [*_stationfinder_command(), "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=data_dir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_until_up(f"{base}/", app, deadline_s=60)
            station = json.loads(_get(f"{base}/api/v1/stations"))["features"][0]["id"]
            pages = args.pages or [
                "/",
                f"/stations/{station}",
                "/map",
                "/council",
                "/council/new",
                f"/nearest?lat={XIASHA[0]}&lon={XIASHA[1]}",
            ]
            for path in pages:  # warm: templates compiled, index built, before timing
                _get(base + path, timeout=30)
            load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
            started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
            rows, notes = [], {}
            for n, path in enumerate(pages):
                runs = []
                for i in range(args.runs):
                    report = out / f"page{n}-run{i}.json"
                    runs.append(_run_once(cli, base + path, report, blocked))
                    for line in _shortfalls(report):
                        notes.setdefault(path, {}).setdefault(line.split(" ", 2)[1], line)
                median = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                rows.append((path, median, runs))
                print(f"{path}: {median}", file=sys.stderr, flush=True)
        finally:
            app.terminate()
            app.wait(timeout=10)

    ended = datetime.now(UTC).strftime("%H:%M UTC")
    print(f"Machine: {_machine()} (before the runs {load_before}). Run {started}–{ended}.")
    print(f"Lighthouse {LIGHTHOUSE.split('@')[1]}, mobile, simulated throttling; median of")
    print(f"{args.runs} runs; map tiles blocked ({blocked}). Targets: {TARGETS}.\n")
    columns = "performance | accessibility | best practices | SEO | FCP s | LCP s | TBT ms | CLS"
    print(f"| page | {columns} |")
    print("|---|---|---|---|---|---|---|---|---|")
    for path, median, _ in rows:
        shown = path if not path.startswith("/stations/") else "/stations/<id>"
        print(
            f"| `{shown}` | {median['performance']:.0f} | {median['accessibility']:.0f} | "
            f"{median['best-practices']:.0f} | {median['seo']:.0f} | {median['fcp_s']:.2f} | "
            f"{median['lcp_s']:.2f} | {median['tbt_ms']:.0f} | {median['cls']:.3f} |"
        )
    if notes:
        print("\nAudits short of full marks in some run:")
        for path, lines in notes.items():
            for line in lines.values():
                print(f"- `{path}` {line}")
    print(f"\nReports: {out}")


if __name__ == "__main__":
    main()
