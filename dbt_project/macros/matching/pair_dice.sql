{# The Dice coefficients of a record pair's Bloom filters, from the columns `<left>X` and `<right>X` of
   int_customer_records_encoded (left / right are column prefixes such as 'left_record.' or 'left_'):
   - name_dice: the better of the full-name character and pinyin filters;
   - the name parts, where both records keep them apart, in both orientations (given with given and family with
     family, or given with family and family with given: swapped parts), picked by oriented_name_part_dice();
   - address_dice. Null when either side lacks the filter. #}
{% macro pair_dice_columns(left, right) -%}
    case
        when
            coalesce({{ left }}name_bit_count, {{ left }}pinyin_bit_count) is not null
            and coalesce({{ right }}name_bit_count, {{ right }}pinyin_bit_count) is not null
            then greatest(
                coalesce({{ bits_dice(left ~ 'name_bits', right ~ 'name_bits',
                    left ~ 'name_bit_count', right ~ 'name_bit_count') }}, 0),
                coalesce({{ bits_dice(left ~ 'pinyin_bits', right ~ 'pinyin_bits',
                    left ~ 'pinyin_bit_count', right ~ 'pinyin_bit_count') }}, 0)
            )
    end as name_dice,
    {%- for alias, left_part, right_part in [
        ('given_straight_dice', 'given', 'given'), ('family_straight_dice', 'family', 'family'),
        ('given_swapped_dice', 'given', 'family'), ('family_swapped_dice', 'family', 'given')
    ] %}
    {{ bits_dice(left ~ left_part ~ '_bits', right ~ right_part ~ '_bits',
        left ~ left_part ~ '_bit_count', right ~ right_part ~ '_bit_count') }} as {{ alias }},
    {%- endfor %}
    {{ bits_dice(left ~ 'address_bits', right ~ 'address_bits',
        left ~ 'address_bit_count', right ~ 'address_bit_count') }} as address_dice
{%- endmacro %}

{# given_name_dice / family_name_dice from pair_dice_columns: the orientation whose parts agree more in sum
   (a record with the given name in the surname field is the same person). #}
{% macro oriented_name_part_dice() -%}
    {%- set swapped -%}
        coalesce(given_swapped_dice, 0) + coalesce(family_swapped_dice, 0)
        > coalesce(given_straight_dice, 0) + coalesce(family_straight_dice, 0)
    {%- endset -%}
    case when {{ swapped }} then given_swapped_dice else given_straight_dice end as given_name_dice,
    case when {{ swapped }} then family_swapped_dice else family_straight_dice end as family_name_dice
{%- endmacro %}
