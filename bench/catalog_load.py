"""Catalogue read load: CKAN package_search / package_show and dataset pages under an
open-loop request rate, beside the framework's floor (/api/health) at the same rate.

    .venv/bin/python bench/catalog_load.py [--datasets 10000] [--rate 200] [--seconds 15]
                                           [--workers N]

1. Builds an embedded instance in a temporary folder holding N SYNTHETIC datasets (titles say
   so; 80 % public, 10 % shared with a network, 10 % private; half with one version row).
   They are bulk-inserted with SQLAlchemy (one INSERT per table, search text computed by the
   catalogue's own ``search_text_for``): creating 10,000 through ``dataset_create`` one by
   one would only measure the write path, which is not what this benchmark is about.
2. Serves it with ``bylab serve`` (its default workers unless ``--workers``) in a separate
   process on 127.0.0.1.
3. Sends requests on a fixed schedule (open loop: request i is due at i / rate whatever the
   answers do, and its latency counts from then), first to /api/health (baseline), then a
   mix of catalogue reads, and prints achieved requests/s and p50/p95/p99 latency per
   endpoint, and how much CPU the load generator itself used and how late it sent. The
   generator is a small keep-alive HTTP/1.1 client on asyncio streams. Dataset pages are
   picked uniformly from all public datasets, so most previews are not yet cached (the
   worst case for the per-process preview cache), and the same holds for package_show and
   the pages in each worker's catalogue read cache; searches come from a few hundred
   distinct queries, so after its first time each is mostly answered from that cache (it
   holds results until the next catalogue write). The machine's load average is printed
   before and after each phase: on a shared machine, read the figures beside it. Every
   loop is bounded in count and time; only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import insert

from bylab.auth import actions as accounts
from bylab.auth.models import OrganisationKind
from bylab.catalog.metadata import DATA_THEMES
from bylab.catalog.models import Dataset, DatasetShare, DatasetVersion
from bylab.catalog.queries import search_text_for
from bylab.core import Bylab
from bylab.settings import Settings
from bylab.testing.server import free_port

TARGET_P95_MS = 20.0
ANSWER_GRACE_S = 10.0  # how long answers are awaited after the last request is sent
ORGANISATIONS = ("synthetic-north", "synthetic-south", "synthetic-east", "synthetic-west")
WORDS = ("air", "traffic", "energy", "population", "budget", "school", "water", "noise",
         "waste", "parking", "bicycle", "housing")


def build_instance(data_dir: Path, dataset_count: int, seed: int = 7) -> list[str]:
    """An instance with ``dataset_count`` synthetic datasets; returns the public names."""
    bylab = Bylab(Settings(data_dir=data_dir, secret_key="bench"))
    bylab.setup()
    system = bylab.system_context()
    organisations = [accounts.organisation_create(system, name, f"Synthetic {name[10:]}")
                     for name in ORGANISATIONS]
    network = accounts.organisation_create(system, "synthetic-network", "Synthetic network",
                                           OrganisationKind.NETWORK)
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    datasets, versions, shares, public = [], [], [], []
    for number in range(dataset_count):
        organisation = organisations[number % len(organisations)]
        words = rng.sample(WORDS, 2)
        visibility = rng.choices(["public", "shared", "private"], [8, 1, 1])[0]
        dataset = Dataset(
            id=f"00000000-0000-4000-8000-{number:012d}", name=f"synthetic-{number:05d}",
            title={"en": f"Synthetic dataset {number}: {words[0]} and {words[1]}"},
            description={"en": "Synthetic benchmark record; no real data."},
            organisation_id=organisation.id, visibility=visibility,
            themes=[rng.choice(sorted(DATA_THEMES))], keywords=words, licence_id="CC-BY-4.0",
            spatial=[], created=start, modified=start + timedelta(minutes=number),
            latest_version=number % 2, is_spatial=False, contact_name="", contact_email="",
            source_note="synthetic")
        dataset.search_text = search_text_for(dataset, organisation.title)
        datasets.append({column.key: getattr(dataset, column.key)
                         for column in Dataset.__table__.columns})
        if number % 2:
            versions.append(dict(
                id=f"10000000-0000-4000-8000-{number:012d}", dataset_id=dataset.id, version=1,
                created=start, source_filename="synthetic.csv", source_format="csv",
                table_path=f"{dataset.id}/v1.parquet", row_count=100, byte_size=4096,
                sha256="0" * 64, columns=[], note="synthetic"))
        if visibility == "shared":
            shares.append({"dataset_id": dataset.id, "organisation_id": network.id})
        if visibility == "public":
            public.append(dataset.name)
    _store_synthetic_tables(bylab, [version["table_path"] for version in versions])
    with bylab.db.session() as session:
        session.execute(insert(Dataset), datasets)
        session.execute(insert(DatasetVersion), versions)
        if shares:
            session.execute(insert(DatasetShare), shares)
    bylab.close()
    return public


def _store_synthetic_tables(bylab: Bylab, table_paths: list[str]) -> None:
    """One small synthetic Parquet table, hard-linked as every version's file (pages preview
    the stored table)."""
    template = bylab.settings.tables_dir / "synthetic.parquet"
    pq.write_table(pa.table({"number": list(range(100)), "label": ["synthetic"] * 100}),
                   template)
    for table_path in table_paths:
        target = bylab.tables.resolve(table_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(template, target)


def serve(data_dir: Path, port: int, workers: int | None) -> subprocess.Popen[bytes]:
    """``bylab serve`` in its own process; returns once /api/health answers."""
    environment = {**os.environ, "BYLAB_DATA_DIR": str(data_dir), "BYLAB_SECRET_KEY": "bench"}
    bylab_cli = Path(sys.executable).parent / "bylab"
    worker_option = ["--workers", str(workers)] if workers else []
    server = subprocess.Popen([str(bylab_cli), "serve", "--host", "127.0.0.1", "--port",
                               str(port), *worker_option], env=environment,
                              stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 120  # a loaded 2-core machine can take long to start
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("the server did not start")


@dataclass
class Results:
    latencies_ms: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    elapsed_s: float = 0.0
    client_cpu_share: float = 0.0  # of one core, used by this load generator
    worst_send_lag_ms: float = 0.0  # how late the generator sent its most delayed request


RequestPicker = Callable[[int], tuple[str, str]]  # request number -> (endpoint label, path)


class StaleConnection(Exception):
    """A kept-alive connection the server had closed before the request."""


class KeepAliveClient:
    """A minimal HTTP/1.1 GET client over asyncio streams with reused connections. Much
    lighter than a general client, so the generator is not what limits the rate. It asks
    for gzip as browsers and CKAN clients do, and reads (never decodes) the body."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def get(self, path: str) -> int:
        if self.idle:
            try:
                return await self._get_on(*self.idle.pop(), path)
            except (ConnectionError, StaleConnection):
                pass  # the server closed it while idle (keep-alive timeout): as browsers, retry
        return await self._get_on(*await asyncio.open_connection(self.host, self.port), path)

    async def _get_on(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                      path: str) -> int:
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                         "Accept-Encoding: gzip\r\n\r\n".encode())
            status, keep_alive = await self._read_response(reader)
        except BaseException:
            writer.close()
            raise
        if keep_alive:
            self.idle.append((reader, writer))
        else:
            writer.close()
        return status

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
        status_line = await reader.readline()
        if not status_line:
            raise StaleConnection
        status = int(status_line.split()[1])
        headers = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip().lower()
        if headers.get("transfer-encoding") == "chunked":
            while size := int((await reader.readline()).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readline()
        else:
            await reader.readexactly(int(headers.get("content-length", "0")))
        return status, headers.get("connection") != "close"

    def close(self) -> None:
        for _reader, writer in self.idle:
            writer.close()


async def open_loop(base_url: str, rate: float, seconds: float, pick: RequestPicker) -> Results:
    """Send rate * seconds requests, request i at start + i / rate, and time each answer
    from the moment it was due (so a late generator shows up in the figures, too)."""
    results = Results()
    total = int(rate * seconds)
    host, port = base_url.removeprefix("http://").split(":")
    client = KeepAliveClient(host, int(port))

    async def one(label: str, path: str, due: float) -> None:
        try:
            ok = await client.get(path) == 200
        except asyncio.CancelledError:  # still unanswered when the phase's time ran out
            results.errors[label] += 1
            raise
        except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            ok = False
        if ok:
            results.latencies_ms[label].append((time.perf_counter() - due) * 1000)
        else:
            results.errors[label] += 1

    cpu_started, started = time.process_time(), time.perf_counter()
    tasks = []
    for number in range(total):
        due = started + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        results.worst_send_lag_ms = max(results.worst_send_lag_ms,
                                        (time.perf_counter() - due) * 1000)
        tasks.append(asyncio.create_task(one(*pick(number), due)))
    _done, unanswered = await asyncio.wait(tasks, timeout=ANSWER_GRACE_S)
    for task in unanswered:
        task.cancel()
    await asyncio.gather(*unanswered, return_exceptions=True)
    results.elapsed_s = time.perf_counter() - started
    results.client_cpu_share = (time.process_time() - cpu_started) / results.elapsed_s
    client.close()
    return results


def catalogue_picker(public_names: list[str], has_page: bool, seed: int = 11) -> RequestPicker:
    rng = random.Random(seed)
    searches = [
        "/api/3/action/package_search?q={word}&rows=10",
        "/api/3/action/package_search?q={word}+{other}&rows=20",
        "/api/3/action/package_search?fq=organization:synthetic-north&rows=10&start=20",
        "/api/3/action/package_search?fq=tags:{word}&rows=5",
        "/api/3/action/package_search?rows=50&sort=name%20asc",
    ]

    def pick(number: int) -> tuple[str, str]:
        kind = number % (3 if has_page else 2)
        name = rng.choice(public_names)
        if kind == 0:
            word, other = rng.sample(WORDS, 2)
            return "package_search", rng.choice(searches).format(word=word, other=other)
        if kind == 1:
            return "package_show", f"/api/3/action/package_show?id={name}"
        return "dataset page (HTML)", f"/datasets/{name}"

    return pick


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def report(title: str, results: Results, rate: float) -> dict[str, float]:
    print(f"\n{title}: {sum(map(len, results.latencies_ms.values()))} answers in "
          f"{results.elapsed_s:.1f} s (offered {rate:.0f} req/s; load generator used "
          f"{results.client_cpu_share:.0%} of a core, sent at most "
          f"{results.worst_send_lag_ms:.1f} ms late; load average after {load_average()})")
    print(f"  {'endpoint':<22} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
          f"{'mean':>7} {'errors':>6}")
    p95_by_endpoint = {}
    for label, latencies in sorted(results.latencies_ms.items()):
        p95 = percentile(latencies, 0.95)
        p95_by_endpoint[label] = p95
        print(f"  {label:<22} {len(latencies) / results.elapsed_s:7.1f} "
              f"{percentile(latencies, 0.50):8.1f} {p95:8.1f} {percentile(latencies, 0.99):8.1f} "
              f"{statistics.fmean(latencies):7.1f} {results.errors.get(label, 0):6d}")
    for label, count in results.errors.items():
        if label not in results.latencies_ms:
            print(f"  {label:<22} all {count} requests failed")
    return p95_by_endpoint


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of each phase")
    parser.add_argument("--workers", type=int, default=None,
                        help="server processes (default: bylab serve's own default)")
    args = parser.parse_args(argv)
    print(f"{os.cpu_count()} cores; load average before the run {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bylab-bench-") as folder:
        data_dir = Path(folder) / "data"
        started = time.perf_counter()
        public_names = build_instance(data_dir, args.datasets)
        print(f"built {args.datasets} synthetic datasets ({len(public_names)} public) in "
              f"{time.perf_counter() - started:.1f} s")
        port = free_port()
        server = serve(data_dir, port, args.workers)
        try:
            base_url = f"http://127.0.0.1:{port}"
            has_page = httpx.get(f"{base_url}/datasets/{public_names[0]}").status_code == 200
            warm_up = catalogue_picker(public_names, has_page, seed=3)
            for number in range(60):  # first requests pay for imports and connections
                httpx.get(f"{base_url}{warm_up(number)[1]}")
            baseline = asyncio.run(open_loop(base_url, args.rate, args.seconds,
                                             lambda _n: ("/api/health (baseline)", "/api/health")))
            report("baseline", baseline, args.rate)
            catalogue = asyncio.run(open_loop(base_url, args.rate, args.seconds,
                                              catalogue_picker(public_names, has_page)))
            p95s = report("catalogue", catalogue, args.rate)
        finally:
            server.terminate()
            server.wait(timeout=10)
    worst = max(p95s.values(), default=float("inf"))
    verdict = "met" if worst < TARGET_P95_MS else "MISSED"
    print(f"\ntarget p95 < {TARGET_P95_MS:.0f} ms at {args.rate:.0f} req/s: {verdict} "
          f"(worst endpoint p95 {worst:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
