{#- Candidate pairs: only records sharing a blocking key (macros/matching/blocking_keys.sql) are compared, so the work
    grows with the duplicates, not with the square of the customer base. A key value held by more than var
    blocking.max_block_size records is skipped as too common to mean anything (a shop's phone, a big-city birth
    cohort); pairs a data steward declared a match are always candidates. A pair found by several keys is kept once,
    by the first key. Records are handled by their integer record_number (int_customer_records_numbered) until the
    pairs are final: at a million records grouping and joining tens of millions of pairs on text keys was most of
    this node's time.

    Carried over (macros/incremental/carry_over.sql): a pair of two records unchanged since the last build
    (number, key and source_row_digest as its state table `__records` recorded them) keeps its row, unless a block
    of theirs crossed the size limit (a new record made it too big, or a gone or changed one brought it back under)
    or a steward decision may have changed it. Those pairs, and every pair of a new or changed record, are found
    again from tonight's blocks. Only the new and changed records' keys are computed: the others' are the last
    build's (state tables `__text_keyed`, `__band_keyed`), and block sizes are the last build's (`__text_sizes`,
    `__band_sizes`) moved by the members that left or came, so finding the blocks that crossed the limit counts
    nothing again (at a million records, computing and counting every key was 7 of this node's 11 seconds on a
    night that changed nothing; counting the changed blocks' members again, a third of a 1 % night's query). The
    rows of pairs no longer found (a changed or gone record's, a block now too big, a withdrawn decision) leave as
    tombstones (rows without blocked_on that the post-hook deletes). `pair_digest` (the pair's keys, key and
    records' digests) tells int_customer_pairs_compared which rows it has compared. When more than var
    blocking.carry_max_changed_share of the records changed (a key rotation, a source delivered again), every pair
    is found again instead (macro blocking_carries): at profile L with nearly every record changed the carried way
    took 418 s, a full build 25 s. -#}
{{
    config(
        materialized='incremental',
        unique_key=['left_number', 'right_number'],
        incremental_strategy='delete+insert',
        on_schema_change='sync_all_columns',
        pre_hook=["{{ carry_over_reset() }}", "{{ blocking_reset_unless_carried() }}"],
        post_hook=[
            "{% if is_incremental() %}delete from {{ this }} where blocked_on is null{% endif %}",
            "{{ blocking_state_saved('keyed') }}",
            "{{ blocking_state_saved('records') }}",
        ]
    )
}}
{%- set blocking = var('blocking') -%}
{%- set max_size = blocking['max_block_size'] -%}
{%- set carrying = blocking_carries() -%}

with

records as (

    {{ blocking_records() }}

),

steward_pairs as (

    select
        least(left_record.record_number, right_record.record_number) as left_number,
        greatest(left_record.record_number, right_record.record_number) as right_number
    from {{ ref('int_customer_steward_decisions_latest') }} as decisions
    inner join records as left_record on decisions.left_key = left_record.customer_record_key
    inner join records as right_record on decisions.right_key = right_record.customer_record_key
    where decisions.decision = 'match'

),{%- if carrying %}

seen as (

    select * from {{ carry_state('records') }}

),

{# New and changed records: their pairs are found again from tonight's blocks. -#}
fresh as (

    select records.record_number
    from records
    left join seen on {{ blocking_same_record('records', 'seen') }}
    where seen.record_number is null

),

{# Changed and gone records: every pair the last build made of them is found again or leaves. -#}
stale as (

    select seen.record_number
    from seen
    left join records on {{ blocking_same_record('seen', 'records') }}
    where records.record_number is null

),
fresh_records as (

    select records.*
    from records
    inner join fresh on records.record_number = fresh.record_number

),

{# Tonight's keys: the last build's keys of the records that did not change (state tables saved by the post-hook),
    and the new and changed records' keys, computed here. Not materialized: each use below keeps a few of these
    tens of millions of rows, and DuckDB copying them all first took longer than reading them several times. -#}
known_text_keyed as not materialized (

    select * from {{ carry_state('text_keyed') }}

),

known_band_keyed as not materialized (

    select * from {{ carry_state('band_keyed') }}

),

fresh_text_keyed as (

    {{ blocking_text_keyed('fresh_records') }}

),

fresh_band_keyed as (

    {{ blocking_band_keyed('fresh_records') }}

),

text_keyed as not materialized (

    select
        record_number,
        rule_name,
        block_key
    from known_text_keyed
    where record_number not in (select record_number from stale)

    union all

    select
        record_number,
        rule_name,
        block_key
    from fresh_text_keyed

),

band_keyed as not materialized (

    select
        record_number,
        is_name_band,
        block_key
    from known_band_keyed
    where record_number not in (select record_number from stale)

    union all

    select
        record_number,
        is_name_band,
        block_key
    from fresh_band_keyed

),

{# The blocks whose members changed, with their sizes before and tonight (macro blocking_resized): the last build's
    sizes moved by the keys that left (a changed or gone record's, as the last build saw them) and came (a new or
    changed record's tonight). Only these blocks can have crossed the size limit. -#}
{%- for kind, keys in blocking_block_kinds() %}

{{ kind }}_resized as (

    {{ blocking_resized(kind, keys, 'known_' ~ kind ~ '_keyed', 'stale', 'fresh_' ~ kind ~ '_keyed') }}

),
{%- endfor %}

{# Blocks that crossed the size limit since the last build: their pairs of unchanged records appear or leave. -#}
text_flipped as (

    select
        rule_name,
        block_key
    from text_resized
    where
        (size_tonight > {{ max_size }} and size_before <= {{ max_size }})
        or (size_tonight between 2 and {{ max_size }} and size_before > {{ max_size }})

),

band_flipped as (

    select block_key
    from band_resized
    where
        (size_tonight > {{ max_size }} and size_before <= {{ max_size }})
        or (size_tonight between 2 and {{ max_size }} and size_before > {{ max_size }})

),

{# Pairs of unchanged records to find again: those sharing a block that crossed the limit, and every pair a
    steward decided as a match now or that only a decision made a candidate last time. -#}
text_flipped_members as (

    select
        keyed.record_number,
        keyed.rule_name,
        keyed.block_key
    from text_keyed as keyed
    inner join text_flipped as flipped
        on keyed.rule_name = flipped.rule_name and keyed.block_key = flipped.block_key

),

band_flipped_members as (

    select
        keyed.record_number,
        keyed.block_key
    from band_keyed as keyed
    inner join band_flipped as flipped on keyed.block_key = flipped.block_key

),

reexamined_any as (

    select
        left_member.record_number as left_number,
        right_member.record_number as right_number
    from text_flipped_members as left_member
    inner join text_flipped_members as right_member
        on
            left_member.rule_name = right_member.rule_name
            and left_member.block_key = right_member.block_key
            and left_member.record_number < right_member.record_number

    union all

    select
        left_member.record_number as left_number,
        right_member.record_number as right_number
    from band_flipped_members as left_member
    inner join band_flipped_members as right_member
        on
            left_member.block_key = right_member.block_key
            and left_member.record_number < right_member.record_number

    union all

    select
        left_number,
        right_number
    from steward_pairs

    union all

    select
        least(left_number, right_number) as left_number,
        greatest(left_number, right_number) as right_number
    from {{ this }}
    where blocked_on = 'steward'

),

reexamined as (

    select distinct
        left_number,
        right_number
    from reexamined_any
    where
        left_number not in (select record_number from fresh)
        and right_number not in (select record_number from fresh)

),

{# Their records' blocks: the pairs are found again among these few records only (a join of the pairs with every
    record's blocks let DuckDB join all blocks with themselves first). -#}
reexamined_records as (

    select left_number as record_number from reexamined
    union
    select right_number as record_number from reexamined

),
{# The blocks the night looks into: those of the new and changed records and of the pairs found again. -#}
relevant_records as (

    select record_number from fresh
    union
    select record_number from reexamined_records

),

relevant_text as (

    select distinct
        keyed.rule_name,
        keyed.block_key
    from text_keyed as keyed
    inner join relevant_records on keyed.record_number = relevant_records.record_number

),

relevant_band as (

    select distinct keyed.block_key
    from band_keyed as keyed
    inner join relevant_records on keyed.record_number = relevant_records.record_number

),
{%- else %}

text_keyed as (

    {{ blocking_text_keyed('records') }}

),

band_keyed as (

    {{ blocking_band_keyed('records') }}

),
{%- endif %}

{# Block sizes by GROUP BY, joined back: the same blocks as a count() window over the keyed rows, several times
    faster in DuckDB (0.24 s of this node on febrl3 was that window). A carried build looks up the sizes of the
    blocks it looks into: tonight's of those whose members changed, the last build's of the others. -#}
text_sized as (
    {%- if carrying %}

    select
        relevant.rule_name,
        relevant.block_key,
        coalesce(resized.size_tonight, sizes.block_size) as block_size
    from relevant_text as relevant
    left join text_resized as resized
        on relevant.rule_name = resized.rule_name and relevant.block_key = resized.block_key
    left join {{ carry_state('text_sizes') }} as sizes
        on relevant.rule_name = sizes.rule_name and relevant.block_key = sizes.block_key
    {%- else %}

    select
        keyed.rule_name,
        keyed.block_key,
        count(*) as block_size
    from text_keyed as keyed
    group by keyed.rule_name, keyed.block_key
    {%- endif %}

),

text_blocks as (

    select
        keyed.record_number,
        keyed.rule_name,
        keyed.block_key
    from text_keyed as keyed
    inner join text_sized as sized
        on keyed.rule_name = sized.rule_name and keyed.block_key = sized.block_key
    where sized.block_size between 2 and {{ max_size }}

),

band_sized as (
    {%- if carrying %}

    select
        relevant.block_key,
        coalesce(resized.size_tonight, sizes.block_size) as block_size
    from relevant_band as relevant
    left join band_resized as resized on relevant.block_key = resized.block_key
    left join {{ carry_state('band_sizes') }} as sizes on relevant.block_key = sizes.block_key
    {%- else %}

    select
        keyed.block_key,
        count(*) as block_size
    from band_keyed as keyed
    group by keyed.block_key
    {%- endif %}

),

band_blocks as (

    select
        keyed.record_number,
        keyed.is_name_band,
        keyed.block_key
    from band_keyed as keyed
    inner join band_sized as sized on keyed.block_key = sized.block_key
    where sized.block_size between 2 and {{ max_size }}

),

{# The address filters of the records in those blocks (a carried build: of the few blocks it looks into). -#}
addresses as (

    select
        numbered.record_number,
        encoded.address_bits,
        encoded.address_bit_count
    from {{ ref('int_customer_records_encoded') }} as encoded
    inner join {{ ref('int_customer_records_numbered') }} as numbered
        on encoded.customer_record_key = numbered.customer_record_key
    {%- if carrying %}
    inner join (select distinct record_number from band_blocks) as looked_into
        on numbered.record_number = looked_into.record_number
    {%- endif %}
    where encoded.address_bits is not null

),
{%- if carrying %}

text_reexamined as (

    select text_blocks.*
    from text_blocks
    inner join reexamined_records on text_blocks.record_number = reexamined_records.record_number

),

band_reexamined as (

    select band_blocks.*
    from band_blocks
    inner join reexamined_records on band_blocks.record_number = reexamined_records.record_number

),

{# The new and changed records' blocks, with every member (both orders of a pair of two fresh records). -#}
text_candidates as (

    select
        fresh_record.record_number as left_number,
        other.record_number as right_number,
        fresh_record.rule_name as blocked_on
    from text_blocks as fresh_record
    inner join fresh on fresh_record.record_number = fresh.record_number
    inner join text_blocks as other
        on
            fresh_record.rule_name = other.rule_name
            and fresh_record.block_key = other.block_key
            and fresh_record.record_number <> other.record_number

    union all

    select
        left_record.record_number as left_number,
        right_record.record_number as right_number,
        left_record.rule_name as blocked_on
    from text_reexamined as left_record
    inner join text_reexamined as right_record
        on
            left_record.rule_name = right_record.rule_name
            and left_record.block_key = right_record.block_key
            and left_record.record_number < right_record.record_number
    where (left_record.record_number, right_record.record_number) in (select left_number, right_number from reexamined)

),

band_candidates as (

    select
        fresh_record.record_number as left_number,
        other.record_number as right_number,
        fresh_record.is_name_band
    from band_blocks as fresh_record
    inner join fresh on fresh_record.record_number = fresh.record_number
    inner join band_blocks as other
        on fresh_record.block_key = other.block_key and fresh_record.record_number <> other.record_number

    union all

    select
        left_record.record_number as left_number,
        right_record.record_number as right_number,
        left_record.is_name_band
    from band_reexamined as left_record
    inner join band_reexamined as right_record
        on
            left_record.block_key = right_record.block_key
            and left_record.record_number < right_record.record_number
    where (left_record.record_number, right_record.record_number) in (select left_number, right_number from reexamined)

),

steward_candidates as (

    select
        left_number,
        right_number
    from steward_pairs
    where
        left_number in (select record_number from fresh)
        or right_number in (select record_number from fresh)
        or (left_number, right_number) in (select left_number, right_number from reexamined)

),
{%- else %}

text_candidates as (

    select
        left_record.record_number as left_number,
        right_record.record_number as right_number,
        left_record.rule_name as blocked_on
    from text_blocks as left_record
    inner join text_blocks as right_record
        on
            left_record.rule_name = right_record.rule_name
            and left_record.block_key = right_record.block_key
            and left_record.record_number < right_record.record_number

),

band_candidates as (

    select
        left_record.record_number as left_number,
        right_record.record_number as right_number,
        left_record.is_name_band
    from band_blocks as left_record
    inner join band_blocks as right_record
        on
            left_record.block_key = right_record.block_key
            and left_record.record_number < right_record.record_number

),

steward_candidates as (

    select * from steward_pairs

),
{%- endif %}

{# An address band pair is kept only when the two address filters agree as evidence (Dice at least
    blocking.address_lsh_min_dice): addresses on one road share most bigrams, and at a million records the bands
    made 22 million such pairs, of which the comparison then weighed almost none (below the cut the address level
    carries no positive weight). Checked here on the two filters alone, before the pairs are joined with everything
    the comparison needs. A pair two bands found is checked twice rather than deduplicated first (cheaper). -#}
band_verified as (

    select
        left_number,
        right_number,
        'name_lsh' as blocked_on
    from band_candidates
    where is_name_band

    union all

    select
        band.left_number,
        band.right_number,
        'address_lsh' as blocked_on
    from band_candidates as band
    inner join addresses as left_address on band.left_number = left_address.record_number
    inner join addresses as right_address on band.right_number = right_address.record_number
    where
        not band.is_name_band
        and {{ bits_dice('left_address.address_bits', 'right_address.address_bits',
            'left_address.address_bit_count', 'right_address.address_bit_count') }}
        >= {{ blocking['address_lsh_min_dice'] }}

),

candidates as (

    select * from text_candidates

    union all

    select * from band_verified

    union all

    select
        left_number,
        right_number,
        'steward' as blocked_on
    from steward_candidates

),

numbered_pairs as (

    select
        least(left_number, right_number) as left_number,
        greatest(left_number, right_number) as right_number,
        min(blocked_on) as blocked_on
    from candidates
    group by least(left_number, right_number), greatest(left_number, right_number)

),

{# Oriented by record key (left_key < right_key), which is what pair keys and steward decisions use. -#}
pairs as (

    select
        numbered_pairs.blocked_on,
        {%- for side, first, second in [('left', 'left_record', 'right_record'), ('right', 'right_record', 'left_record')] %}
        {%- for column, source in [('key', 'customer_record_key'), ('number', 'record_number'),
            ('row_digest', 'source_row_digest')] %}
        case
            when left_record.customer_record_key < right_record.customer_record_key then {{ first }}.{{ source }}
            else {{ second }}.{{ source }}
        end as {{ side }}_{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from numbered_pairs
    inner join records as left_record on numbered_pairs.left_number = left_record.record_number
    inner join records as right_record on numbered_pairs.right_number = right_record.record_number

),

digested as (

    select
        left_key,
        right_key,
        blocked_on,
        left_number,
        right_number,
        {{ short_hash("concat_ws('|', left_key, right_key, blocked_on, left_row_digest, right_row_digest)") }}
            as pair_digest,
        {{ carry_built_column() }},
        {{ carry_digest_column() }}
    from pairs

)
{%- if carrying %},

{# The last build's rows of the pairs examined tonight (filtered before they meet tonight's pairs: DuckDB joined all
    ten million rows with them first), of which those not found again leave. -#}
examined as (

    select
        left_number,
        right_number,
        carry_digest
    from {{ this }}
    where
        left_number in (select record_number from stale)
        or right_number in (select record_number from stale)
        or (least(left_number, right_number), greatest(left_number, right_number))
        in (select left_number, right_number from reexamined)

),

tombstones as (

    select
        cast(null as varchar) as left_key,
        cast(null as varchar) as right_key,
        cast(null as varchar) as blocked_on,
        examined.left_number,
        examined.right_number,
        {{ short_hash('cast(null as varchar)') }} as pair_digest,
        {{ carry_built_column() }},
        examined.carry_digest
    from examined
    where not exists (
        select 1
        from digested
        where digested.left_number = examined.left_number and digested.right_number = examined.right_number
    )

)

select * from digested
union all
select * from tombstones
{%- else %}

select * from digested
{%- endif %}
