"""Run dbt in-process with the project's profile, paths and vars, and fail loudly when dbt fails.

dbt's own result object can report success=False without raising, and some wrappers have reported success
for failed runs, so every invocation here checks `result.success` itself and raises `DbtFailed` naming the
failed nodes. The environment dbt reads (profiles dir, warehouse path, telemetry off) is set only for the
duration of the call and restored afterwards.

Parsing the project costs seconds, so the parsed manifest is kept for the life of the process and handed to
dbt, as dbt's programmatic API allows. It is parsed again when a project file, the target or a parse-time var
changes; the run's date and id are read at compile time only (`RUNTIME_VARS`) and are not passed to `dbt parse`,
so they never force a parse: a new process (the next night's `crmgov run`) starts from dbt's saved partial parse
in the workdir's target folder, which dbt discards only when the project, the parse-time vars or the warehouse
path change.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager
from importlib import metadata
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.connections import DuckDBConnectionManager
from dbt.artifacts.schemas.results import NodeStatus
from dbt.cli.main import dbtRunner, dbtRunnerResult
from dbt.contracts.graph.manifest import Manifest

from flows.carryover import fingerprint
from flows.environment import temporary_environ
from flows.settings import load_settings

FAILED_STATUSES = {NodeStatus.Error, NodeStatus.Fail, NodeStatus.RuntimeErr}
DOCS_FILES = ("index.html", "static_index.html", "catalog.json", "manifest.json")
# dbt.log rolls over at 5 MB and dbt keeps 5 old files: at most ~30 MB of dbt log in state/ (about 1.3 MB a night).
DBT_LOG_FILE_MAX_BYTES = 5 * 1024 * 1024
# dbt keeps global state (flags, adapter registry, the DuckDB handle) and we set process environment
# variables: one dbt command at a time per process.
_DBT_LOCK = threading.Lock()
# vars that models read only when they are compiled (never in config() or in a macro run at parse time)
RUNTIME_VARS = frozenset({"run_date", "run_id", "carry_digest"})
_SKIP_DIRS = {"target", "logs", "dbt_packages", "__pycache__"}
_MANIFESTS: dict[tuple[str, ...], Manifest] = {}


class DbtFailed(RuntimeError):
    """A dbt command (e.g. ["build"]) did not succeed; `failed_nodes` lists (unique_id, status, message)."""

    def __init__(
        self, command: list[str], failed_nodes: list[tuple[str, str, str]], cause: str | None, log_file: Path
    ) -> None:
        self.command = command
        self.failed_nodes = failed_nodes
        lines = [f"dbt {' '.join(command)} failed"]
        for unique_id, status, message in failed_nodes:
            lines.append(f"  {status}: {unique_id}: {message}")
        if cause:
            lines.append(f"  cause: {cause}")
        lines.append(f"  details: {log_file}")
        super().__init__("\n".join(lines))


def _dbt_environment(project_dir: Path, warehouse_path: Path) -> AbstractContextManager[None]:
    """Point dbt at our profile and warehouse, telemetry off; restore the caller's environment after."""
    wanted = {
        "DBT_PROFILES_DIR": str(project_dir),
        "CRMGOV_WAREHOUSE_PATH": str(warehouse_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "CRMGOV_DUCKDB_MEMORY_LIMIT": load_settings().duckdb_memory_limit,
    }
    return temporary_environ(wanted)


def _release_duckdb() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after a command.

    dbt-duckdb caches one DuckDB instance per process (class attribute `_ENV`) and never closes it, so the
    warehouse file would stay locked for the rest of the flow: no reader could open it and the file could not
    be swapped in safely. Its public `close_all_connections` only drops the reference, hence the explicit close.
    """
    environment = DuckDBConnectionManager._ENV
    DuckDBConnectionManager.close_all_connections()
    if environment is not None:
        environment.close()


def _jsonable(vars: Mapping[str, Any]) -> dict[str, Any]:
    """Dates and paths become ISO strings so `--vars` is plain JSON (which is valid YAML)."""
    return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in vars.items()}


def failed_nodes(result: dbtRunnerResult) -> list[tuple[str, str, str]]:
    """(unique_id, status, message) of every node that errored or whose test failed."""
    outcome = result.result
    nodes: list[tuple[str, str, str]] = []
    for node_result in getattr(outcome, "results", None) or []:
        if node_result.status in FAILED_STATUSES:
            message = (node_result.message or "").strip().splitlines()
            nodes.append((node_result.node.unique_id, str(node_result.status), message[0] if message else ""))
    return nodes


def run_dbt(
    args: list[str],
    *,
    project_dir: Path,
    warehouse_path: Path,
    target_path: Path,
    log_path: Path,
    vars: Mapping[str, Any],
) -> dbtRunnerResult:
    """Invoke one dbt command (e.g. ["build"]) in-process; raise DbtFailed unless dbt reports success."""
    project_dir = Path(project_dir).resolve()
    target_path.mkdir(parents=True, exist_ok=True)
    log_path.mkdir(parents=True, exist_ok=True)
    command = [
        *args,
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
        "--target-path",
        str(target_path),
        "--log-path",
        str(log_path),
        "--log-file-max-bytes",
        str(DBT_LOG_FILE_MAX_BYTES),
        "--vars",
        json.dumps(_jsonable(vars)),
    ]
    with _DBT_LOCK, _dbt_environment(project_dir, Path(warehouse_path).resolve()):
        try:
            manifest = _parsed_manifest(project_dir, args, command[len(args) :], vars, log_path)
            result = dbtRunner(manifest=manifest).invoke(command)
        finally:
            _release_duckdb()
    if not result.success:
        cause = f"{type(result.exception).__name__}: {result.exception}" if result.exception else None
        raise DbtFailed(list(args), failed_nodes(result), cause, log_path / "dbt.log")
    return result


def _parsed_manifest(
    project_dir: Path, args: list[str], flags: list[str], vars: Mapping[str, Any], log_path: Path
) -> Manifest:
    """The project's manifest, parsed once per process for each state of its files, target and parse-time vars."""
    target = args[args.index("--target") + 1] if "--target" in args else ""
    parse_vars = json.dumps({k: v for k, v in _jsonable(vars).items() if k not in RUNTIME_VARS}, sort_keys=True)
    key = (str(project_dir), _project_checksum(project_dir), target, parse_vars)
    if key not in _MANIFESTS:
        # Only the parse-time vars go to `dbt parse` (a missing var is None while parsing): with the run date among
        # them, dbt's saved partial parse (target/partial_parse.msgpack) would be rejected every night.
        flags = [*flags[: flags.index("--vars")], "--vars", parse_vars]
        result = dbtRunner().invoke(["parse", *(["--target", target] if target else []), *flags])
        if not result.success or not isinstance(result.result, Manifest):
            cause = f"{type(result.exception).__name__}: {result.exception}" if result.exception else None
            raise DbtFailed(["parse"], [], cause, log_path / "dbt.log")
        _MANIFESTS.clear()  # one project state at a time: a stale manifest is never used again
        _MANIFESTS[key] = result.result
    return _MANIFESTS[key]


def _project_checksum(project_dir: Path) -> str:
    """Name, size and modification time of every project file: changes whenever a model, macro or YAML does."""
    digest = hashlib.sha256()
    for root, dirs, files in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            stat = os.stat(os.path.join(root, name))
            digest.update(
                f"{os.path.relpath(os.path.join(root, name), project_dir)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode()
            )
    return digest.hexdigest()


def carry_digest(project_dir: Path) -> str:
    """The digest that the models which carry their rows over keep beside each row (macros/incremental): the content
    of every project file (models, macros, the vars of dbt_project.yml) and the dbt, adapter and DuckDB versions.
    Rows built under another digest are rebuilt, so no edit or upgrade ever leaves a carried row stale."""
    files = hashlib.sha256()
    for root, dirs, names in os.walk(project_dir):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            path = Path(root) / name
            files.update(str(path.relative_to(project_dir)).encode() + b"\0" + path.read_bytes() + b"\0")
    return fingerprint(metadata.version("dbt-core"), metadata.version("dbt-duckdb"), files.hexdigest())


def generate_docs(
    *,
    project_dir: Path,
    warehouse_path: Path,
    target_path: Path,
    log_path: Path,
    vars: Mapping[str, Any],
    output_dir: Path,
    compile: bool = True,
) -> Path:
    """Build dbt docs (catalog + lineage, plus the single-file static page) and copy them to output_dir.

    The catalog holds column names, types and descriptions only, never row values. `compile=False` right after a
    `dbt build` of every node in this process: the shared manifest already holds each node's compiled SQL, so
    compiling all of it again (seconds) would only repeat the build's work.
    """
    run_dbt(
        ["docs", "generate", "--static", *([] if compile else ["--no-compile"])],
        project_dir=project_dir,
        warehouse_path=warehouse_path,
        target_path=target_path,
        log_path=log_path,
        vars=vars,
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    for name in DOCS_FILES:
        source = target_path / name
        if source.exists():
            shutil.copy2(source, output_dir / name)
    return output_dir
