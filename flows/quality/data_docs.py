"""Great Expectations Data Docs for a run, as a static site that works with no internet and holds no PII.

GE renders from its validation-results store, so the sanitised results are put into the (ephemeral)
context's store and rendered into a temporary folder next to `out_dir`; the CDN links of GE's templates
are then pointed at vendored copies (`data_docs_assets/`), and the finished folder is renamed over
`out_dir` so readers never see half a site.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from datetime import datetime
from functools import partial
from pathlib import Path

from great_expectations.core import ExpectationSuiteValidationResult
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context import AbstractDataContext
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)

from flows.quality.gx_context import quality_context
from flows.quality.sanitize import scrub
from flows.quality.validate import QualityOutcome
from flows.workdir import atomic_replace

SITE_NAME = "crmgov_data_docs"
ASSETS = Path(__file__).with_name("data_docs_assets")
VENDOR_DIR = "static/vendor"
GE_IMAGES = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"  # same files as static/images

# CDN asset (URL prefix) -> vendored file; None removes the tag (Vega draws profiling charts only).
CDN_ASSETS: dict[str, str | None] = {
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "css/bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome-all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "css/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "css/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "js/bootstrap-table-filter-control.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": None,
    "https://cdn.jsdelivr.net/npm/vega-lite@5": None,
    "https://cdn.jsdelivr.net/npm/vega-embed@6": None,
}
_TAG_WITH_URL = re.compile(r"<(script|link)\b[^>]*?(?:src|href)=\"(https?://[^\"]+)\"[^>]*>(?:\s*</script>)?", re.S)
_ANY_URL_ATTR = re.compile(r"(src|href|action)=\"https?://[^\"]*\"")
_SRI = re.compile(r"\s(?:integrity|crossorigin)=\"[^\"]*\"")
_CSS_URL = re.compile(r"url\(\s*['\"]?https?://[^)]*\)")


def build_data_docs(
    outcomes: Iterable[QualityOutcome | ExpectationSuiteValidationResult],
    out_dir: Path,
    *,
    context: AbstractDataContext | None = None,
) -> Path:
    """Render the run's validation results into `out_dir` (replaced whole); returns its index.html."""
    context = context or quality_context()
    out_dir = Path(out_dir).resolve()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(out_dir.name + ".building")
    if tmp.exists():
        shutil.rmtree(tmp)
    _configure_site(context, tmp)
    _forget_results(context)  # the context lives as long as the process: render this run's results only
    for validation, source_name, run_date in _validations(outcomes):
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=validation.suite_name),
            run_id=RunIdentifier(run_name=f"{run_date}_{source_name}", run_time=_run_time(run_date)),
            batch_identifier=source_name,
        )
        context.validation_results_store.set(key, validation)
    context.build_data_docs(site_names=[SITE_NAME])
    _forget_results(context)
    _make_offline(tmp)
    atomic_replace(tmp, out_dir)
    return out_dir / "index.html"


def _forget_results(context: AbstractDataContext) -> None:
    store = context.validation_results_store
    for key in store.list_keys():
        store.remove_key(key)


def _configure_site(context: AbstractDataContext, base_directory: Path) -> None:
    config = {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(base_directory)},
    }
    if SITE_NAME in (context.get_config().data_docs_sites or {}):
        context.update_data_docs_site(SITE_NAME, config)
    else:
        context.add_data_docs_site(SITE_NAME, config)


def _validations(
    outcomes: Iterable[QualityOutcome | ExpectationSuiteValidationResult],
) -> Iterable[tuple[ExpectationSuiteValidationResult, str, str]]:
    """Sanitised results with their source and run date; a bare GE result is scrubbed of every value first."""
    for item in outcomes:
        if isinstance(item, QualityOutcome):
            if item.validation is not None:
                yield item.validation, item.source_name, item.run_date.isoformat()
            continue
        for result in item.results:
            scrub(result, [])
        yield item, str(item.meta.get("source_name", "source")), str(item.meta.get("run_date", "undated"))


def _run_time(run_date: str) -> datetime:
    try:
        return datetime.fromisoformat(run_date)
    except ValueError:
        return datetime(1970, 1, 1)


def _make_offline(site: Path) -> None:
    """Copy the vendored assets in and point every CDN link at them; drop any other external link."""
    vendor = site / VENDOR_DIR
    shutil.copytree(ASSETS, vendor, ignore=shutil.ignore_patterns("README.md"), dirs_exist_ok=True)
    for page in site.rglob("*.html"):
        prefix = os.path.relpath(vendor, page.parent)
        html = page.read_text(encoding="utf-8")
        images = os.path.relpath(site / "static" / "images", page.parent)
        html = html.replace(f'"{GE_IMAGES}', f'"{images}/')
        html = _TAG_WITH_URL.sub(partial(_local_tag, prefix=prefix), html)
        html = _ANY_URL_ATTR.sub(lambda m: f'{m.group(1)}="#"', html)
        html = _CSS_URL.sub("none", html)
        page.write_text(html, encoding="utf-8")
    for sheet in site.rglob("*.css"):
        if vendor not in sheet.parents:
            css = sheet.read_text(encoding="utf-8")
            sheet.write_text(_CSS_URL.sub("none", css), encoding="utf-8")


def _local_tag(match: re.Match[str], prefix: str) -> str:
    url = match.group(2)
    if url not in CDN_ASSETS:
        return match.group(0)  # not an asset we know: the generic pass below neutralises the link
    local = CDN_ASSETS[url]
    if local is None:
        return ""
    tag = _SRI.sub("", match.group(0))  # the copy is served from disk: no CDN integrity / CORS checks
    return tag.replace(url, f"{prefix}/{local}")
