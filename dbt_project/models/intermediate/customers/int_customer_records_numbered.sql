{#- This night's number of every current customer record, 1..n in customer_record_key order: blocking groups and
    joins on these integers instead of the longer record keys. Apart from int_customer_records_encoded, which
    carries its rows over from night to night (a new record would renumber every carried row). -#}
select
    customer_record_key,
    row_number() over (order by customer_record_key) as record_number
from {{ ref('stg_deid__customers') }}
