"""`crmgov`: the command line operations and the demo use. Every command has --help."""

from __future__ import annotations

import atexit
import os
import signal
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer

from flows.errors import CrmgovError
from flows.settings import default_run_date
from flows.workdir import Workdir

app = typer.Typer(
    help="CRM data-governance pipeline: ingest → quality → privacy → dbt → report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

WorkdirOpt = Annotated[
    Path, typer.Option("--workdir", "-w", help="Root of the restricted/warehouse/published/state zones.")
]


def _fail(exc: Exception) -> None:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


def _date(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(CrmgovError(f"{what}: expected a date as YYYY-MM-DD, got {value!r}"))
    return None


@app.command()
def demo(
    workdir: WorkdirOpt = Path("demo_workdir"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 42,
    scale: Annotated[int, typer.Option(help="Number of real persons behind the records.")] = 300,
    nights: Annotated[int, typer.Option(help="Consecutive nightly deliveries to generate.")] = 1,
    start_date: Annotated[str, typer.Option(help="Business date of the first night (YYYY-MM-DD).")] = "2026-11-20",
    profile: Annotated[str | None, typer.Option(help="Scale profile S (10k), M (100k) or L (1M persons).")] = None,
) -> None:
    """Generate demo source systems and their sources file into WORKDIR/restricted/inbox."""
    from flows.demo import generate_demo

    wd = Workdir(workdir.resolve()).ensure()
    result = generate_demo(
        wd.inbox,
        seed=seed,
        scale=scale,
        nights=nights,
        start_date=_date(start_date, "--start-date"),
        profile=profile,
        progress=lambda msg: typer.echo(f"  {msg}"),
    )
    from flows.workdir import secure_tree

    secure_tree(wd.restricted)
    typer.echo(f"sources file: {result.sources_file}")
    typer.echo(f"nights: {', '.join(d.isoformat() for d in result.nights)}")


@app.command()
def run(
    workdir: WorkdirOpt = Path("workdir"),
    run_date: Annotated[
        str | None, typer.Option(help="Business date the run represents (default: yesterday, Asia/Shanghai).")
    ] = None,
    sources_file: Annotated[
        Path | None, typer.Option(help="Sources YAML (default WORKDIR/restricted/inbox/sources.yml).")
    ] = None,
    demo_mode: Annotated[
        bool, typer.Option("--demo", help="Demo mode: generate a pseudonymisation key if none is set.")
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another run's lock before giving up.")] = 0.0,
) -> None:
    """Run the nightly flow for one business date."""
    from flows import environment

    wd = Workdir(workdir.resolve()).ensure()
    environment.prepare(wd)
    day = _date(run_date, "--run-date") or default_run_date()
    if sources_file is not None and not sources_file.is_file():
        _fail(CrmgovError(f"--sources-file: {sources_file} does not exist"))
    from flows.nightly import nightly

    typer.echo(f"crmgov: running {day} in {wd.root}")
    try:
        result = nightly(
            run_date=day,
            workdir=str(wd.root),
            sources_file=str(sources_file) if sources_file else None,
            demo=demo_mode,
            lock_wait_seconds=wait,
        )
    except CrmgovError as exc:
        _fail(exc)
    _print_outcome(wd, result)


def _print_outcome(wd: Workdir, result: dict) -> None:
    typer.echo("")
    outcome = result.get("status", "success")
    colour = typer.colors.GREEN if outcome == "success" else typer.colors.YELLOW
    typer.secho(f"run {result['run_id']} for {result['run_date']}: {outcome}", fg=colour)
    for failed in result.get("failed_sources", []):
        typer.secho(f"  set aside: {failed['stage']} {failed['source_name']}: {failed['message']}", fg=colour)
    typer.echo(f"  marts (DuckDB, for BI):  {wd.marts_db}")
    typer.echo(f"  marts (Parquet):         {wd.published / 'parquet'}")
    typer.echo(f"  governance report:       {wd.published / 'reports' / result['run_date'] / 'index.html'}")
    typer.echo(f"  Data Docs:               {wd.published / 'data_docs' / 'index.html'}")
    typer.echo(f"  dbt docs:                {wd.published / 'dbt_docs' / 'static_index.html'}")


@app.command()
def status(
    workdir: WorkdirOpt = Path("workdir"),
    limit: Annotated[int, typer.Option(help="How many recent runs to show.")] = 10,
) -> None:
    """Show the recent runs from the run ledger: status, stages, per-source row counts."""
    from flows.ledger import recent_runs

    wd = Workdir(workdir.resolve())
    runs = recent_runs(wd.warehouse_db, limit)
    if not runs:
        typer.echo(f"no runs recorded in {wd.warehouse_db}")
        return
    for r in runs:
        colour = {"success": typer.colors.GREEN, "failed": typer.colors.RED}.get(r["status"], typer.colors.YELLOW)
        started = r["started_at"].replace(tzinfo=None) if isinstance(r["started_at"], datetime) else r["started_at"]
        typer.secho(f"{r['run_date']}  {r['run_id']}  {r['status']:<8} started {started} UTC", fg=colour)
        for stage, st, dur in r["stages"]:
            typer.echo(f"    {stage:<10} {st:<8} {dur or 0:8.1f}s")
        if r["failed_stage"]:
            typer.secho(f"    failed in {r['failed_stage']}: {r['error']}", fg=typer.colors.RED)
        elif r["error"]:
            typer.secho(f"    warnings: {r['error']}", fg=typer.colors.YELLOW)
        for source, read, landed, quarantined in r["ingest_counts"]:
            typer.echo(
                f"    {source:<20} read {read or 0:>8}  landed {landed or 0:>8}  quarantined {quarantined or 0:>6}"
            )


@app.command("scan-leaks")
def scan_leaks(
    values: Annotated[
        Path, typer.Option(help="File with one personal value per line (e.g. ground_truth/identifiers.txt).")
    ],
    workdir: WorkdirOpt = Path("workdir"),
) -> None:
    """Search everything outside WORKDIR/restricted for the given personal values; exit 1 on any hit."""
    from flows.leakscan import Needles, scan_workdir

    wd = Workdir(workdir.resolve())
    needles = Needles(values.read_text(encoding="utf-8").splitlines())
    hits = scan_workdir(wd.root, needles)
    for hit in hits:
        typer.echo(str(hit))
    typer.echo(f"{len(hits)} hit(s) in {wd.root} outside restricted/")
    if hits:
        raise typer.Exit(code=1)


@app.command()
def backfill(
    date_from: Annotated[str, typer.Option("--from", help="First business date to run (YYYY-MM-DD).")],
    date_to: Annotated[str, typer.Option("--to", help="Last business date to run (YYYY-MM-DD), inclusive.")],
    workdir: WorkdirOpt = Path("workdir"),
    sources_file: Annotated[
        Path | None, typer.Option(help="Sources YAML (default WORKDIR/restricted/inbox/sources.yml).")
    ] = None,
    demo_mode: Annotated[
        bool, typer.Option("--demo", help="Demo mode: generate a pseudonymisation key if none is set.")
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another run's lock before giving up.")] = 0.0,
) -> None:
    """Run the nightly flow for every business date from --from to --to, in order; stop at the first failure."""
    from flows import environment
    from flows.backfill import backfill as run_backfill

    start, end = _date(date_from, "--from"), _date(date_to, "--to")
    wd = Workdir(workdir.resolve()).ensure()
    environment.prepare(wd)
    if sources_file is not None and not sources_file.is_file():
        _fail(CrmgovError(f"--sources-file: {sources_file} does not exist"))
    from flows.nightly import nightly

    def one(day: date) -> dict:
        return nightly(
            run_date=day,
            workdir=str(wd.root),
            sources_file=str(sources_file) if sources_file else None,
            demo=demo_mode,
            lock_wait_seconds=wait,
        )

    try:
        results = run_backfill(start, end, one, progress=lambda msg: typer.echo(f"crmgov backfill {msg}"))
    except CrmgovError as exc:
        _fail(exc)
    for result in results:
        _print_outcome(wd, result)


@app.command()
def backup(
    to: Annotated[Path, typer.Option("--to", help="New folder for the backup (never overwritten).")],
    workdir: WorkdirOpt = Path("workdir"),
    wait: Annotated[float, typer.Option(help="Seconds to wait for a running run's lock.")] = 0.0,
) -> None:
    """Copy the workdir's state (restricted, warehouse, published) to a new folder, holding the run lock."""
    from flows.backup import backup as take_backup

    try:
        info = take_backup(Workdir(workdir.resolve()), to, wait_seconds=wait)
    except CrmgovError as exc:
        _fail(exc)
    last = info.last_run or {}
    typer.echo(f"backup {info.path}: {info.files} files, {info.bytes} bytes, schema version {info.schema_version}, "
               f"last run {last.get('run_id', '-')} ({last.get('run_date', '-')})")
    typer.echo("  it holds raw personal data: store it as carefully as restricted/")


@app.command()
def restore(
    from_: Annotated[Path, typer.Option("--from", help="A folder written by `crmgov backup`.")],
    workdir: WorkdirOpt = Path("workdir"),
    wait: Annotated[float, typer.Option(help="Seconds to wait for a running run's lock.")] = 0.0,
) -> None:
    """Bring a backup back into WORKDIR (checksums verified first; a newer schema is refused)."""
    from flows.backup import restore as bring_back

    try:
        manifest = bring_back(from_, Workdir(workdir.resolve()), wait_seconds=wait)
    except CrmgovError as exc:
        _fail(exc)
    last = manifest.get("last_run") or {}
    typer.echo(f"restored {len(manifest['files'])} files into {workdir.resolve()}; "
               f"last run {last.get('run_id', '-')} ({last.get('run_date', '-')})")


@app.command()
def migrate(workdir: WorkdirOpt = Path("workdir")) -> None:
    """Upgrade WORKDIR's schema to this release now (a run does it on its own before writing anything)."""
    from flows.lock import run_lock
    from flows.migrations import upgrade

    wd = Workdir(workdir.resolve())
    try:
        with run_lock(wd.lock_file, "migrate"):
            applied = upgrade(wd)
    except CrmgovError as exc:
        _fail(exc)
    typer.echo(f"migrated to schema version(s) {applied}" if applied else "schema is current: nothing to do")


@app.command("rotate-key")
def rotate_key(
    workdir: WorkdirOpt = Path("workdir"),
    demo_mode: Annotated[
        bool, typer.Option("--demo", help="Demo mode: generate the new key into WORKDIR/restricted.")
    ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a running run's lock.")] = 0.0,
) -> None:
    """Re-pseudonymise the warehouse and published marts with a new key; master ids stay the same.

    Outside demo mode, put the NEW key in CRMGOV_PSEUDONYM_KEY (or the Secret block) before running this."""
    from flows import environment
    from flows.keyrotation import rotate_key as rotate

    wd = Workdir(workdir.resolve()).ensure()
    environment.prepare(wd)
    try:
        r = rotate(wd, demo=demo_mode, wait_seconds=wait)
    except CrmgovError as exc:
        _fail(exc)
    typer.echo(f"rotated the pseudonymisation key ({r.key_source}, fingerprint {r.fingerprint}) for run {r.run_id} "
               f"({r.run_date}); {r.masters} records mastered, {r.masters_changed} master id(s) changed")


steward_app = typer.Typer(
    help="Data stewards: decide the pairs in possible_matches and the key-field changes in key_field_review_queue."
)
app.add_typer(steward_app, name="steward")
# the options every steward decision takes (the decision is audited and waits for a running night's lock)
StewardOpt = Annotated[str, typer.Option("--by", help="Who decided (recorded for the audit trail).")]
ReasonOpt = Annotated[str | None, typer.Option(help="Why, in a few words.")]
StewardWaitOpt = Annotated[float, typer.Option(help="Seconds to wait for a running night's lock.")]


@steward_app.command("decide")
def steward_decide(
    pair: Annotated[
        tuple[str, str],
        typer.Option(help="The two records as SOURCE_SYSTEM:RECORD_ID (e.g. --pair crm:CRM00000001 ecom:EC0000042)."),
    ],
    decision: Annotated[str, typer.Option(help="match or no_match.")],
    by: StewardOpt,
    reason: ReasonOpt = None,
    workdir: WorkdirOpt = Path("workdir"),
    wait: StewardWaitOpt = 30.0,
) -> None:
    """Record a steward's decision on a record pair; the next run links (match) or separates (no_match) them."""
    from flows.steward.decisions import RecordRef, record_decision

    wd = Workdir(workdir.resolve())
    try:
        left, right = RecordRef.parse(pair[0]), RecordRef.parse(pair[1])
        decision_id = record_decision(
            wd.warehouse_db, wd.lock_file, left, right, decision, by, reason, wait_seconds=wait
        )
    except CrmgovError as exc:
        _fail(exc)
        return
    typer.echo(f"decision {decision_id}: {left.key} / {right.key} -> {decision} (applies from the next run)")


@steward_app.command("queue")
def steward_queue(workdir: WorkdirOpt = Path("workdir")) -> None:
    """List the key-field changes awaiting a steward (pending: held; flagged: applied), oldest first."""
    from flows.steward.reviews import pending_reviews

    rows = pending_reviews(Workdir(workdir.resolve()).warehouse_db)
    if not rows:
        typer.echo("no key-field change awaits a steward")
    for r in rows:
        typer.echo(
            f"{r['review_id']}  {r['status']:<8} {r['field']:<13} {r['master_id']}  "
            f"{r['old_value_masked'] or '-'} -> {r['new_value_masked'] or '-'}  from {r['source_record_key']}  "
            f"since {r['first_detected_on']} ({r['age_days']} d)"
        )


@steward_app.command("review")
def steward_review(
    review_id: Annotated[str, typer.Option(help="The review's id (R + 16 hex) from `crmgov steward queue`.")],
    decision: Annotated[str, typer.Option(help="approve or reject.")],
    by: StewardOpt,
    reason: ReasonOpt = None,
    workdir: WorkdirOpt = Path("workdir"),
    wait: StewardWaitOpt = 30.0,
) -> None:
    """Approve or reject a key-field change; the next run applies it (approve) or keeps the old value (reject)."""
    from flows.steward.reviews import record_review_decision

    wd = Workdir(workdir.resolve())
    try:
        decision_id, review, applies_from = record_review_decision(
            wd.warehouse_db, wd.lock_file, review_id, decision, by, reason, wait_seconds=wait
        )
    except CrmgovError as exc:
        _fail(exc)
        return
    typer.echo(f"decision {decision_id}: {review.review_id} ({review.field} of {review.master_id}) -> {decision} "
               f"(applies from run date {applies_from})")


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def _record_signals() -> int:
    """The read end of a pipe the interpreter writes the number of every signal it catches to (set_wakeup_fd).

    Its C-level handler writes there before any Python handler runs, so a SIGTERM is on record whichever Python
    handler was in force (a Prefect flow run puts its own in place of ours while it runs) and whatever became of
    the exception that handler raised: code inside a C call runs the handler itself and raises its own error
    instead (DuckDB: "Query interrupted", duckdb.InterruptException), and dbt's runner catches every exception."""
    read, write = os.pipe()
    os.set_blocking(read, False)
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    return read


def _termination_requested(signals: int) -> bool:
    caught = bytearray()
    try:
        while chunk := os.read(signals, 4096):
            caught += chunk
    except BlockingIOError:
        pass
    return signal.SIGTERM in caught


def main() -> None:
    """Entry point. Exits without interpreter teardown: DuckDB's bindings print spurious leak warnings there.

    The exit handlers still run first: Prefect registers there the stop of the temporary API server a run without
    PREFECT_API_URL starts (skipped, every `crmgov run` left one behind, ~230 MB each) and the shipping of the
    last log batches.
    """
    code, terminated = 0, False
    # a scheduler's timeout or `kill` stops a run with SIGTERM, whose default action skips the exit handlers below
    # (the temporary Prefect server stayed up): make it an ordinary exit with the conventional status 143, whatever
    # code the signal lands in and whatever that code raises then
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    signals = _record_signals()
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except CrmgovError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        code = 2
    except BaseException as exc:
        terminated = _termination_requested(signals)
        if not terminated:
            raise  # without a signal an unexpected error stays a crash with its traceback (and status 1)
        typer.secho(f"crmgov: the interrupted code raised {type(exc).__name__}: {exc}", err=True)
    if terminated or _termination_requested(signals):
        code = 128 + signal.SIGTERM
        typer.secho(f"crmgov: stopped by SIGTERM, exit status {code}", err=True)
    try:
        atexit._run_exitfuncs()  # what interpreter shutdown would do before the teardown we skip
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


if __name__ == "__main__":
    main()
