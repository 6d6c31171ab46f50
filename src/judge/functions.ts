/**
 * The functions a practice query may call (the guard refuses every other
 * one). An allow-list, not a block-list: PostgreSQL has thousands of built-ins
 * and new releases add more, some of which run SQL given as text
 * (query_to_xml, ts_stat ...), sleep, lock, signal or read server state.
 *
 * Names are unqualified and lower-case. Several come from SQL syntax the parser
 * rewrites into calls: EXTRACT -> extract, SUBSTRING(x FROM y) -> substring,
 * TRIM -> btrim/ltrim/rtrim, POSITION -> position, OVERLAY -> overlay,
 * AT TIME ZONE -> timezone, SIMILAR TO -> similar_to_escape, OVERLAPS -> overlaps.
 */
const GROUPS = {
  aggregate: "count sum avg min max string_agg array_agg bool_and bool_or every bit_and bit_or bit_xor stddev stddev_pop stddev_samp variance var_pop var_samp corr covar_pop covar_samp regr_slope regr_intercept regr_count regr_r2 regr_avgx regr_avgy percentile_cont percentile_disc mode any_value json_agg jsonb_agg json_object_agg jsonb_object_agg xmlagg range_agg range_intersect_agg",
  window: "row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value",
  math: "abs ceil ceiling floor round trunc mod power pow sqrt cbrt exp ln log log10 sign pi random div gcd lcm width_bucket degrees radians sin cos tan asin acos atan atan2 sind cosd tand asind acosd atand atan2d sinh cosh tanh asinh acosh atanh factorial scale trim_scale min_scale to_hex bit_count setseed erf erfc",
  string: "length char_length character_length octet_length bit_length lower upper initcap concat concat_ws substr substring left right lpad rpad ltrim rtrim btrim trim replace reverse repeat split_part strpos position translate format overlay starts_with ascii chr md5 sha224 sha256 sha384 sha512 encode decode quote_ident quote_literal quote_nullable to_ascii normalize is_normalized unistr casefold similar_to_escape like_escape string_to_array array_to_string string_to_table regexp_replace regexp_matches regexp_match regexp_split_to_table regexp_split_to_array regexp_like regexp_count regexp_substr regexp_instr text_concat get_byte get_bit",
  format: "to_char to_number to_date to_timestamp",
  datetime: "now date_trunc date_part extract age make_date make_time make_timestamp make_timestamptz make_interval justify_days justify_hours justify_interval date_bin isfinite clock_timestamp statement_timestamp transaction_timestamp timeofday timezone overlaps date_add date_subtract",
  array: "unnest array_length array_upper array_lower cardinality array_position array_positions array_remove array_replace array_append array_prepend array_cat array_dims array_ndims array_fill array_reverse array_sample array_shuffle array_sort trim_array generate_series generate_subscripts",
  json: "to_json to_jsonb json_build_object jsonb_build_object json_build_array jsonb_build_array json_object jsonb_object row_to_json array_to_json json_array_elements jsonb_array_elements json_array_elements_text jsonb_array_elements_text json_each jsonb_each json_each_text jsonb_each_text json_extract_path jsonb_extract_path json_extract_path_text jsonb_extract_path_text json_typeof jsonb_typeof jsonb_pretty jsonb_set jsonb_set_lax jsonb_insert json_array_length jsonb_array_length json_object_keys jsonb_object_keys json_strip_nulls jsonb_strip_nulls jsonb_path_query jsonb_path_query_array jsonb_path_query_first jsonb_path_exists jsonb_path_match json_populate_record jsonb_populate_record json_to_record jsonb_to_record json_to_recordset jsonb_to_recordset",
  misc: "num_nulls num_nonnulls nullif coalesce greatest least gen_random_uuid uuidv4 uuidv7 lower_inc upper_inc lower_inf upper_inf isempty range_merge int4range int8range numrange tsrange tstzrange daterange",
  // Casts written as calls: int4(x), numeric(x, 2), date(ts) ...
  cast: "int2 int4 int8 integer bigint smallint float4 float8 numeric decimal text varchar bpchar char bool boolean date time timestamp timestamptz interval money",
};

export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set(Object.values(GROUPS).flatMap((g) => g.split(" ")));

/**
 * A field name that would be a function call if the value it is read from has
 * no such column: PostgreSQL runs `x.f` and `(expr).f` as `f(x)`. Columns of a
 * practice dataset never look like this, so these names are refused as fields.
 */
export const FUNCTION_LIKE_FIELD = /^(pg_|lo_|dblink|ts_stat|query_to_|cursor_to_|table_to_|schema_to_|database_to_|set_config|current_setting|nextval|setval|currval|txid_|inet_(server|client)_|version$)/;
