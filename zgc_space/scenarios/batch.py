"""Batch runs: evaluate hundreds to tens of thousands of proposal files against one baseline.

:func:`run` reads every proposal (a broken file becomes an error row with its file, line and
message, and the batch goes on), evaluates them in chunks with the vectorised
:func:`zgc_space.scenarios.compare`, and writes ``results.parquet``, ``results.csv`` and
``manifest.json`` (input SHA-256s, versions, parameters) to ``out_dir``. A re-run with
``resume=True`` evaluates only the proposals not yet in the results for the same inputs.

One process is the right tool up to tens of thousands of proposals (10,000 attribute-only
proposals take well under a second). ``executor="local", jobs=N`` spreads chunks over N
processes; ``executor="dask"`` sends them to a ``dask.distributed`` cluster (``scheduler=
"tcp://host:8786"``, or a local cluster of ``jobs`` workers when no address is given) for
batches that outgrow one machine. Chunking never changes a result: every executor gives the
same table.

Examples
--------
>>> import pathlib, tempfile
>>> import geopandas as gpd, pandas as pd
>>> from shapely import box
>>> from zgc_space import batch
>>> from zgc_space.proposal import Proposal, Renew
>>> blocks = gpd.GeoDataFrame({"block_id": ["B1", "B2"], "subpark": ["海淀园"] * 2,
...     "built_m2": [10_000.0] * 2, "gfa_m2": [10_000.0, 30_000.0]},
...     geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs="EPSG:4548")
>>> ps = [Proposal(id=f"R{s}", title="renew", renew=[Renew(blocks=["B1"], far_step=s)]) for s in (1, 2)]
>>> peers = pd.DataFrame({"zone_id": ["A", "B"], "score": [90.0, 10.0]})
>>> with tempfile.TemporaryDirectory() as tmp:
...     table = batch.run(ps, blocks, out_dir=tmp, peers=peers)
...     sorted(p.name for p in pathlib.Path(tmp).iterdir())
['manifest.json', 'results.csv', 'results.parquet']
>>> table[["proposal_id", "status", "far"]].values.tolist()
[['R1', 'ok', 2.5], ['R2', 'ok', 3.0]]
"""

from __future__ import annotations

import json
import logging
import platform
import re
import warnings
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Literal, cast

import geopandas as gpd
import numpy as np
import pandas as pd

from zgc_space import evaluation, io, ranking, scenarios
from zgc_space.errors import DataFileError, EnvironmentProblemError, ParameterError, ProposalError
from zgc_space.scenarios import _rows as ops
from zgc_space.scenarios.proposal import Proposal, dump_proposal, read_proposal

__all__ = ["expand_paths", "load_results", "run"]

log = logging.getLogger(__name__)

RESULTS = "results.parquet"
RESULTS_CSV = "results.csv"
MANIFEST = "manifest.json"
#: Seconds a batch waits to connect to a Dask scheduler before it gives up (``scheduler_timeout_s``).
SCHEDULER_TIMEOUT_S = 5.0
#: Bump when the resume fingerprint changes meaning, so older results are evaluated again.
_RESUME_FORMAT = 3
#: Seconds a batch waits for another run writing into the same folder (then it refuses).
LOCK_TIMEOUT_S = 60.0
_VERSIONED = ("numpy", "pandas", "geopandas", "shapely", "pydantic", "pyyaml", "pyarrow", "dask", "distributed")


def expand_paths(items: Iterable[str | Path]) -> list[Path]:
    """Expand folders (their ``*.yaml`` / ``*.yml`` files, sorted) and globs into proposal files.

    Examples
    --------
    >>> expand_paths(["a.yaml", "b.yml"])
    [PosixPath('a.yaml'), PosixPath('b.yml')]
    """
    out: list[Path] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            out += sorted(p for p in path.iterdir() if p.suffix.lower() in (".yaml", ".yml"))
        elif any(ch in str(item) for ch in "*?["):
            out += sorted(Path(p) for p in Path().glob(str(item)))
        else:
            out.append(path)
    return out


def _input(obj: Any, name: str) -> tuple[Any, dict[str, Any]]:
    """Read a path (or keep a frame) and describe it for the manifest."""
    if obj is None:
        return None, {"path": None, "sha256": None}
    if isinstance(obj, (str, Path)):
        path = Path(obj)
        frame = io.read_blocks(path) if name == "baseline" else gpd.read_file(path)
        return frame, {"path": str(path), "sha256": io.sha256_file(path)}
    return obj, {"path": None, "sha256": io.frame_sha256(obj)}


def _references(prop: Proposal | ProposalError) -> list[dict[str, Any]]:
    """List the files a proposal names (its protected layer), each with its SHA-256."""
    target = ops.protected_path(prop) if isinstance(prop, Proposal) else None
    if target is None:
        return []
    return [{"field": "constraints.protected", "path": str(target), "sha256": io.layer_sha256(target)}]


def _fingerprint(info: dict[str, Any]) -> str | None:
    """Return the resume key of one proposal: its own SHA-256 plus those of the files it names."""
    if info["sha256"] is None:
        return None
    if not info["references"]:
        return str(info["sha256"])
    refs = [[r["field"], r["path"], r["sha256"]] for r in info["references"]]
    return io.sha256_bytes(json.dumps([info["sha256"], refs]).encode())


def _read_items(items: Iterable[Proposal | str | Path]) -> list[tuple[Proposal | ProposalError, dict[str, Any]]]:
    out: list[tuple[Proposal | ProposalError, dict[str, Any]]] = []
    for item in items:
        if isinstance(item, Proposal):
            out.append((item, {"path": item.source, "sha256": io.sha256_bytes(dump_proposal(item).encode())}))
            continue
        for path in expand_paths([item]):
            try:
                sha = io.sha256_file(path)
            except (OSError, DataFileError) as exc:
                error = ProposalError(f"proposal {path} cannot be read: {exc}")
                out.append((error, {"path": str(path), "sha256": None}))
                continue
            try:
                prop: Proposal | ProposalError = read_proposal(path)
            except ProposalError as exc:
                prop = exc
            out.append((prop, {"path": str(path), "sha256": sha}))
    repeated = ops.repeated_ids([prop for prop, _ in out])
    for k, (prop, info) in enumerate(out):
        info["references"] = _references(prop)
        # a repeated id is an error that depends on the other files: never reuse it
        info["fingerprint"] = None if k in repeated else _fingerprint(info)
    return [(repeated.get(k, prop), info) for k, (prop, info) in enumerate(out)]


def _versions() -> dict[str, str | None]:
    return {"zgc_space": io.package_version(), "python": platform.python_version(), **io.installed_versions(_VERSIONED)}


def _line_of(message: str | None) -> int | None:
    match = re.search(r"\bline (\d+)", message or "")
    return int(match.group(1)) if match else None


def _evaluate_chunk(items: Sequence[Proposal | ProposalError], baseline: gpd.GeoDataFrame,
                    candidates: gpd.GeoDataFrame | None, preset: Any, peers: pd.DataFrame | None) -> pd.DataFrame:
    """Evaluate one chunk (runs in a worker process or on a Dask worker)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scenarios.compare(baseline, items, candidates=candidates, preset=preset, peers=peers, errors="report")


def _chunks(n: int, size: int) -> list[range]:
    return [range(i, min(i + size, n)) for i in range(0, n, size)]


def run(
    proposals: Iterable[Proposal | str | Path],
    baseline: gpd.GeoDataFrame | str | Path,
    *,
    out_dir: str | Path,
    candidates: gpd.GeoDataFrame | str | Path | None = None,
    executor: Literal["local", "dask"] = "local",
    scheduler: Any = None,
    scheduler_timeout_s: float = SCHEDULER_TIMEOUT_S,
    jobs: int | None = None,
    chunk_size: int = 2_000,
    resume: bool = True,
    progress: bool = False,
    preset: evaluation.PresetLike = "cic_default",
    peers: pd.DataFrame | str | Path | None = None,
    lock_timeout_s: float = LOCK_TIMEOUT_S,
) -> pd.DataFrame:
    """Evaluate proposals against a baseline and write results and a manifest to ``out_dir``.

    Parameters
    ----------
    proposals
        Proposal files, folders of ``*.yaml`` files, glob patterns or Proposal objects.
    baseline
        Baseline blocks (GeoDataFrame or file).
    out_dir
        Folder for ``results.parquet``, ``results.csv`` and ``manifest.json`` (created if needed).
    candidates
        Candidate areas for ``admit: candidate`` (GeoDataFrame or file).
    executor
        ``"local"`` (this process, or ``jobs`` processes) or ``"dask"``.
    scheduler
        Dask scheduler address (``"tcp://host:8786"``) or a ``distributed.Client``; with
        ``executor="dask"`` and no scheduler a ``LocalCluster`` of ``jobs`` workers is started.
    scheduler_timeout_s
        Seconds to wait for the scheduler to answer; an unreachable one raises
        :class:`~zgc_space.errors.EnvironmentProblemError` naming the address.
    jobs
        Worker processes (local) or local-cluster workers (Dask); default 1 (local) / 2 (Dask).
    chunk_size
        Proposals per task.
    resume
        Reuse rows of an earlier run in ``out_dir`` made from the same baseline, candidates,
        preset (name, version and content), peers and zgc_space version, for proposals whose
        file and whose named files (the ``constraints.protected`` layer) are unchanged
        (SHA-256 of each; the manifest lists them under ``inputs.protected`` and per proposal).
        A proposal whose id an earlier file already has becomes an error row naming both files.
    progress
        Show a tqdm progress bar over chunks.
    preset, peers
        As in :func:`zgc_space.scenarios.evaluate`.
    lock_timeout_s
        Two runs into one ``out_dir`` are serialised (a lock on the folder): the second waits up
        to this long, then raises :class:`~zgc_space.errors.EnvironmentProblemError`.

    Returns
    -------
    pandas.DataFrame
        The table of :func:`zgc_space.scenarios.compare` (input order) plus ``file``,
        ``proposal_sha256`` and ``error_line``; ``attrs["manifest"]`` is the manifest written.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise DataFileError(f"out_dir {out} is a file; batch results go into a folder: give a folder path")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise EnvironmentProblemError(f"cannot create the results folder {out}: permission denied; "
                                      "write elsewhere (--out)") from exc
    with io.folder_lock(out, what="compare", timeout_s=lock_timeout_s):
        return _run_locked(proposals, baseline, out, candidates=candidates, executor=executor, scheduler=scheduler,
                           scheduler_timeout_s=scheduler_timeout_s, jobs=jobs, chunk_size=chunk_size, resume=resume,
                           progress=progress, preset=preset, peers=peers)


def _run_locked(proposals: Iterable[Proposal | str | Path], baseline: gpd.GeoDataFrame | str | Path, out: Path, *,
                candidates: gpd.GeoDataFrame | str | Path | None, executor: Literal["local", "dask"], scheduler: Any,
                scheduler_timeout_s: float, jobs: int | None, chunk_size: int, resume: bool, progress: bool,
                preset: evaluation.PresetLike, peers: pd.DataFrame | str | Path | None) -> pd.DataFrame:
    base, base_info = _input(baseline, "baseline")
    cands, cand_info = _input(candidates, "candidates")
    peers_info: dict[str, Any]
    if isinstance(peers, (str, Path)):
        peers_info = {"path": str(peers), "sha256": io.sha256_file(peers)}
        peers = ranking.load_peers(peers)
    elif peers is None:
        shipped = ranking.sample_peers_path()
        peers_info = {"path": str(shipped), "sha256": io.sha256_file(shipped)}
        peers = ranking.sample_peers()
    else:
        peers_info = {"path": None, "sha256": io.frame_sha256(peers)}
    p = evaluation.load_preset(preset)
    key = {
        "baseline": base_info["sha256"], "candidates": cand_info["sha256"], "peers": peers_info["sha256"],
        "preset": p.name, "preset_version": p.version, "preset_sha256": io.sha256_bytes(p.model_dump_json().encode()),
        "zgc_space": io.package_version(), "format": _RESUME_FORMAT,
    }
    read = _read_items(proposals)
    run_key = io.sha256_bytes(json.dumps(key, sort_keys=True).encode())
    for _, info in read:  # a row is reused only for the same file bytes, named files, inputs and code
        if info["fingerprint"] is not None:
            info["fingerprint"] = io.sha256_bytes(f"{info['fingerprint']}:{run_key}".encode())
    prints = [info["fingerprint"] for _, info in read]
    previous = _previous(out, key) if resume else None
    todo = [k for k, f in enumerate(prints) if previous is None or f is None or f not in previous.index]
    log.info("batch: %d proposals, %d to evaluate, %d reused", len(read), len(todo), len(read) - len(todo))
    items = [read[k][0] for k in todo]
    parts = _execute(items, base, cands, p, peers, executor=executor, scheduler=scheduler, jobs=jobs,
                     chunk_size=chunk_size, progress=progress, timeout_s=scheduler_timeout_s)
    template = _evaluate_chunk([], base, cands, p, peers)  # the columns, dtypes and baseline metrics
    fresh = pd.concat(parts, ignore_index=True) if parts else template
    fresh.attrs["baseline"] = template.attrs["baseline"]
    rows = [{"file": info["path"], "proposal_sha256": info["sha256"]} for _, info in read]
    meta = pd.DataFrame(rows).astype({"file": "string", "proposal_sha256": "string"})
    table = _assemble(meta, todo, fresh, previous, prints)
    table["fingerprint"] = pd.array(prints, dtype="string")
    table["error_line"] = pd.array([_line_of(e) if isinstance(e, str) else None for e in table["error"]], dtype="Int64")
    manifest = {
        "zgc_space_version": io.package_version(),
        "versions": _versions(),
        "inputs": {"baseline": base_info, "candidates": cand_info, "peers": peers_info,
                   "protected": _protected_inputs(read),
                   "proposals": [{"file": info["path"], "sha256": info["sha256"], "references": info["references"],
                                  "fingerprint": info["fingerprint"]} for _, info in read]},
        "parameters": {"preset": p.name, "preset_version": p.version, "executor": executor,
                       "scheduler": scheduler if isinstance(scheduler, str) else None, "jobs": jobs,
                       "chunk_size": chunk_size, "resume": resume},
        "resume_key": key,
        "counts": {"proposals": len(read), "evaluated": len(todo), "reused": len(read) - len(todo),
                   **{s: int((table["status"] == s).sum()) for s in ("ok", "violations", "error")}},
        "baseline_metrics": _plain(table.attrs.get("baseline", {})),
        "outputs": [RESULTS, RESULTS_CSV],
    }
    _write(out, table, manifest)
    table.attrs["manifest"] = manifest
    return table


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in d.items()}


def _protected_inputs(read: list[tuple[Any, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every protected layer the proposals name, once each, with its SHA-256."""
    seen: dict[str, Any] = {}
    for _, info in read:
        for ref in info["references"]:
            seen.setdefault(ref["path"], ref["sha256"])
    return [{"path": path, "sha256": sha} for path, sha in sorted(seen.items())]


def _previous(out: Path, key: dict[str, Any]) -> pd.DataFrame | None:
    results, manifest = out / RESULTS, out / MANIFEST
    if not (results.is_file() and manifest.is_file()):
        return None
    try:
        old = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if old.get("resume_key") != key:
        log.info("batch: inputs changed since the last run in %s; evaluating everything again", out)
        return None
    try:
        table = pd.read_parquet(results)
        csv = pd.read_csv(out / RESULTS_CSV, encoding="utf-8-sig", usecols=["fingerprint", "proposal_id"],
                          dtype=str, keep_default_na=False)
    except (OSError, ValueError, KeyError) as exc:
        log.info("batch: earlier results in %s cannot be read (%s); evaluating everything again", out, exc)
        return None
    prints = [entry.get("fingerprint") for entry in old.get("inputs", {}).get("proposals", [])]
    # the three files must tell one story: a run killed between writing them leaves them disagreeing
    if "fingerprint" not in table.columns or len(prints) != len(table) or len(csv) != len(table):
        log.info("batch: results and manifest in %s disagree; evaluating everything again", out)
        return None
    own = table["fingerprint"].astype("string").fillna("").tolist()
    if own != [p or "" for p in prints] or csv["fingerprint"].tolist() != own or \
            csv["proposal_id"].tolist() != table["proposal_id"].astype("string").fillna("").tolist():
        log.info("batch: results.parquet, results.csv and manifest.json in %s disagree; evaluating everything again",
                 out)
        return None
    table = table.assign(_fingerprint=table["fingerprint"].astype("string"))
    table = table[table["_fingerprint"].notna()].drop_duplicates("_fingerprint")
    table.attrs["baseline"] = old.get("baseline_metrics", {})
    return table.set_index("_fingerprint")


def _assemble(meta: pd.DataFrame, todo: list[int], fresh: pd.DataFrame, previous: pd.DataFrame | None,
              prints: list[str | None]) -> pd.DataFrame:
    """Put fresh rows (positions ``todo``) and reused rows back in input order, with fresh dtypes."""
    columns = [c for c in fresh.columns if c not in ("file", "proposal_sha256", "error_line", "fingerprint")]
    parts = [fresh[columns].set_axis(todo)]
    reused = [k for k in range(len(prints)) if k not in set(todo)]
    if reused and previous is not None:
        old = previous.loc[[prints[k] for k in reused]].reindex(columns=columns).set_axis(reused)
        parts.append(old.astype(fresh[columns].dtypes.to_dict()))
    body = pd.concat(parts).sort_index().reset_index(drop=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
    table = pd.concat([meta, body], axis=1)
    table.attrs["baseline"] = fresh.attrs.get("baseline", {})
    return table


def _execute(items: list[Proposal | ProposalError], base: gpd.GeoDataFrame, cands: gpd.GeoDataFrame | None,
             preset: Any, peers: pd.DataFrame, *, executor: str, scheduler: Any, jobs: int | None,
             chunk_size: int, progress: bool, timeout_s: float = SCHEDULER_TIMEOUT_S) -> list[pd.DataFrame]:
    if not items:
        return []
    if chunk_size < 1:
        raise ParameterError(f"chunk_size must be at least 1, got {chunk_size}")
    chunks = [[items[i] for i in r] for r in _chunks(len(items), chunk_size)]
    bar = _progress(len(chunks)) if progress else None
    try:
        if executor == "dask":
            return _run_dask(chunks, base, cands, preset, peers, scheduler=scheduler, jobs=jobs or 2, bar=bar,
                             timeout_s=timeout_s)
        if executor != "local":
            raise ParameterError(f"executor must be 'local' or 'dask', got {executor!r}")
        if (jobs or 1) <= 1 or len(chunks) == 1:
            parts = []
            for chunk in chunks:
                parts.append(_evaluate_chunk(chunk, base, cands, preset, peers))
                if bar is not None:
                    bar.update(1)
            return parts
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(_evaluate_chunk, c, base, cands, preset, peers) for c in chunks]
            parts = []
            for f in futures:
                parts.append(f.result())
                if bar is not None:
                    bar.update(1)
            return parts
    finally:
        if bar is not None:
            bar.close()


def _progress(total: int) -> Any:
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="proposals (chunks)", unit="chunk")


def _run_dask(chunks: list[list[Proposal | ProposalError]], base: gpd.GeoDataFrame, cands: gpd.GeoDataFrame | None,
              preset: Any, peers: pd.DataFrame, *, scheduler: Any, jobs: int, bar: Any,
              timeout_s: float = SCHEDULER_TIMEOUT_S) -> list[pd.DataFrame]:
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("executor='dask' needs dask.distributed: pip install 'zgc_space[dask]'") from exc
    cluster = None
    if isinstance(scheduler, Client):
        client, own = scheduler, False
    else:
        if scheduler is None:
            cluster = LocalCluster(n_workers=jobs, threads_per_worker=1, dashboard_address=":0")  # any free port
            scheduler = cluster
        client, own = _connect(Client, scheduler, timeout_s), True
    try:
        base_f = client.scatter(base, broadcast=True)
        cands_f = client.scatter(cands, broadcast=True) if cands is not None else None
        peers_f = client.scatter(peers, broadcast=True)
        futures = [client.submit(_evaluate_chunk, c, base_f, cands_f, preset, peers_f, pure=False) for c in chunks]
        if bar is not None:
            for _ in as_completed(futures):
                bar.update(1)
        return cast("list[pd.DataFrame]", client.gather(futures))
    finally:
        if own:
            client.close()
        if cluster is not None:
            cluster.close()


def _connect(client_type: Any, scheduler: Any, timeout_s: float) -> Any:
    """Connect to a scheduler within ``timeout_s``; an unreachable or malformed address is a clear error."""
    where = scheduler if isinstance(scheduler, str) else type(scheduler).__name__
    try:
        return client_type(scheduler, timeout=timeout_s)
    except (OSError, TimeoutError) as exc:
        raise EnvironmentProblemError(
            f"cannot reach the Dask scheduler {where} within {timeout_s:g} s ({type(exc).__name__}: {exc}); "
            "check the --scheduler address and that the scheduler runs, raise --scheduler-timeout, or run "
            "without --scheduler (local processes)"
        ) from exc
    except MemoryError as exc:  # something answered, but not in the Dask protocol (absurd frame sizes)
        raise EnvironmentProblemError(
            f"the service at {where} answered, but not as a Dask scheduler; check the --scheduler address and port"
        ) from exc
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            f"--scheduler {where!r} is not a scheduler address ({exc}); give one such as tcp://10.0.0.5:8786"
        ) from exc


def _write(out: Path, table: pd.DataFrame, manifest: dict[str, Any]) -> None:
    """Write results (Parquet, CSV) and the manifest, each atomically; the manifest last."""
    plain = table.copy()
    plain.attrs = {}
    text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True, default=str, allow_nan=False)
    with io.atomic_files([out / RESULTS]) as (tmp,):
        plain.to_parquet(tmp, index=False)
    io.write_table(plain, out / RESULTS_CSV)
    with io.atomic_files([out / MANIFEST]) as (tmp,):
        tmp.write_text(text + "\n", encoding="utf-8")


def load_results(out_dir: str | Path) -> pd.DataFrame:
    """Read the results of a batch run, with its manifest in ``attrs["manifest"]``."""
    out = Path(out_dir)
    if not (out / RESULTS).is_file():
        raise DataFileError(f"no batch results in {out} (expected {RESULTS}); run zgc_space.batch.run first")
    table = pd.read_parquet(out / RESULTS)
    table.attrs["manifest"] = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    return table
