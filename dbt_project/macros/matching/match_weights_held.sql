{#- Whether int_customer_match_weights_estimated keeps tonight the weights it holds instead of estimating them again.
    u moves little from one night to the next (a 1 % delta barely changes value shares), and every pair must be
    scored again whenever a weight moves: the weights are held, like the churn model, between estimates. They are
    held while the model carries over (macro carrying_over: the same project digest, so the same vars and code),
    the estimate is younger than var match_model.reestimate_every_days days and not from a later date than the run
    (a backfill estimates again), and the number of records has changed by at most
    var match_model.reestimate_on_record_change (a share) since the estimate. -#}
{% macro match_weights_held() -%}
    {%- if not carrying_over() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set model = var('match_model') -%}
    {%- set held = run_query(
        "select " ~ dbt.datediff('max(estimated_on)', run_date(), 'day') ~ ", max(estimated_records), "
        ~ "(select count(*) from " ~ ref('int_customer_records_encoded') ~ ") from " ~ this
    ).rows[0] -%}
    {%- set age_days, estimated_records, records = held[0], held[1], held[2] -%}
    {%- if age_days is none or estimated_records is none
        or age_days < 0 or age_days >= model['reestimate_every_days'] -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return((records - estimated_records) | abs <= model['reestimate_on_record_change'] * estimated_records) }}
{%- endmacro %}

{#- Pre-hook of int_customer_match_weights_estimated: an estimate due empties the table (the model then appends the
    new weights); held weights stay. -#}
{% macro match_weights_reset() -%}
    {%- if is_incremental() and not match_weights_held() -%}
    delete from {{ this }}
    {%- endif -%}
{%- endmacro %}

{#- Pre-hook of int_customer_pairs_scored: the rows scored with weights of another estimate than tonight's leave
    (all of them, the night a new estimate is made), so the build scores their pairs again. -#}
{% macro scored_pairs_reset() -%}
    {%- if is_incremental() and 'weights_estimate_id' in carry_columns() -%}
    delete from {{ this }}
    where weights_estimate_id is null or weights_estimate_id not in (
        select estimate_id from {{ ref('int_customer_match_weights_estimated') }} where estimate_id is not null
    )
    {%- endif -%}
{%- endmacro %}
