"""Transform stage: dbt builds the customer master and KPI marts from the de-identified `deid` schema."""
