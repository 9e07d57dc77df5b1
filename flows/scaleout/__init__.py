"""Scale-out: which Prefect task runner the parallel stages use, and PostgreSQL as a second dbt target.

`runners` turns settings into a task runner (threads by default, Dask when configured); `postgres` loads the
run's de-identified `deid` schema into PostgreSQL, builds the dbt project there and grants least privilege.
See docs/scaling.md.
"""
