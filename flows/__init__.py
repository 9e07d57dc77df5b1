"""crmgov: the nightly CRM data-governance pipeline (ingest, quality, privacy, transform, report)."""

from flows.environment import apply_fixed

# Before any module of the package imports Prefect, dbt or Presidio: nothing phones home (Prefect's server
# telemetry, dbt's usage stats), even when a script calls a flow without the CLI's set-up.
apply_fixed()
