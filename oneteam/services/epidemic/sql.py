"""The alert query: one SQL text, run as written by both DuckDB and Spark.

Each engine only provides these relations (same names, same columns) and materializes the results
of `PROBLEM_SUMMARY` and `EXPOSURES` as `problem_summary` and `exposures` its own way (a DuckDB
temp table, a cached Spark view); the other statements read those two small tables:

- records_in(subscriber_key BIGINT, visited VARCHAR, first_seen_s BIGINT, last_seen_s BIGINT,
  first_seen_raw VARCHAR, last_seen_raw VARCHAR): the records as read; NULL where a value could not
  be read; times as Unix seconds so the arithmetic below is plain integers in both dialects;
  *_raw hold the original text of CSV input (for examples of malformed rows).
- country_codes(code VARCHAR, iso2 VARCHAR): ISO alpha-2 codes and MCCs → ISO alpha-2.
- risk(entry_id, country, disease, window_start_s, window_end_s, incubation_s): the risk list;
  entry_id numbers the entries in (disease, country) order, from 0 (fewer than 4096 entries).
- params(as_of_s, oldest_s): the moment of the run and the retention limit (as_of − 21 days).
- consent(link_id VARCHAR, subscriber_key BIGINT, label VARCHAR, language VARCHAR): live consent
  links (a person may be linked to several homes).

Only the portable subset of SQL is used: CASE, LEFT JOIN, IN (subquery), GREATEST/LEAST,
MIN/MAX (the pick of each person's exposure is a MAX over a packed integer), chr, ||; no window
functions, no dialect functions.
"""

from __future__ import annotations

PROBLEMS = (
    "missing_key",
    "missing_country",
    "bad_first_seen",
    "bad_last_seen",
    "ends_before_start",
    "in_future",
    "unknown_country",
)
"""Why a row cannot be used, in the order they are checked."""

_CHECKED = """
SELECT r.subscriber_key, r.visited, r.first_seen_s, r.last_seen_s, r.first_seen_raw, r.last_seen_raw,
       c.iso2, p.as_of_s, p.oldest_s,
       CASE
         WHEN r.subscriber_key IS NULL THEN 'missing_key'
         WHEN r.visited IS NULL OR r.visited = '' THEN 'missing_country'
         WHEN r.first_seen_s IS NULL THEN 'bad_first_seen'
         WHEN r.last_seen_s IS NULL THEN 'bad_last_seen'
         WHEN r.last_seen_s < r.first_seen_s THEN 'ends_before_start'
         WHEN r.first_seen_s > p.as_of_s THEN 'in_future'
         WHEN c.iso2 IS NULL THEN 'unknown_country'
       END AS problem
FROM records_in AS r
CROSS JOIN params AS p
LEFT JOIN country_codes AS c ON c.code = r.visited
"""

# Ranks a matched (record, entry) pair: the longest watch first, then the lowest entry_id (the
# first in (disease, country) order). The packed value is unique per entry and watch time, so
# MAX over it picks the same entry in both engines.
_RANK = "(LEAST(x.last_seen_s, k.window_end_s) + k.incubation_s) * 4096 + (4095 - k.entry_id)"

# One line of text per malformed row, so MIN picks a whole real row (not fields of several):
# a key flag, then the visited code and both times (r: the text as read, s: Unix seconds),
# separated by the ASCII unit separator.
_ROW_TEXT = """
CASE WHEN x.subscriber_key IS NULL THEN '0' ELSE '1' END
  || chr(31) || COALESCE(x.visited, '')
  || chr(31) || COALESCE('r:' || x.first_seen_raw, 's:' || CAST(x.first_seen_s AS STRING), '')
  || chr(31) || COALESCE('r:' || x.last_seen_raw, 's:' || CAST(x.last_seen_s AS STRING), '')
"""

PROBLEM_SUMMARY = f"""
SELECT x.problem,
       CASE WHEN x.problem = 'unknown_country' THEN x.visited END AS unknown_code,
       COUNT(*) AS rows_count,
       MIN({_ROW_TEXT}) AS example
FROM ({_CHECKED}) AS x
WHERE x.problem IS NOT NULL
GROUP BY x.problem, CASE WHEN x.problem = 'unknown_country' THEN x.visited END
"""
"""Every row is checked; one group per problem (and per unknown code) with its count and one real
example row. Only malformed rows reach the grouping, so this is a scan and little more."""

EXPOSURES = f"""
SELECT x.subscriber_key,
       MAX({_RANK}) AS best,
       MIN(GREATEST(x.first_seen_s, k.window_start_s)) AS exposure_start_s,
       COUNT(*) AS rows_count,
       MIN(k.entry_id) AS first_entry,
       MAX(k.entry_id) AS last_entry
FROM ({_CHECKED}) AS x
JOIN risk AS k ON k.country = x.iso2
WHERE x.problem IS NULL
  AND x.last_seen_s >= x.oldest_s
  AND x.first_seen_s <= k.window_end_s
  AND x.last_seen_s >= k.window_start_s
  AND LEAST(x.last_seen_s, k.window_end_s) + k.incubation_s >= x.as_of_s
GROUP BY x.subscriber_key
"""
"""One row per person still in a watch period. A usable row in a risk country, within retention,
overlapping a risk window and still under watch matches its risk entries; per person the packed
`best` holds the longest watch and its entry (see _RANK), beside when the person was first seen in
a risk country during a risk window, the matched (record, entry) pairs, and the lowest and highest
entry (different: exposed to more than one). Lean on purpose: this grouping runs over millions of
people, and every extra column in it costs more than the scan (the join on the risk list lets
both engines skip the other countries' rows early)."""

# Unpacks `best`: watch_until = best div 4096, entry = 4095 - (best mod 4096). Division through
# DOUBLE is exact here (best < 2^53) and spelled the same in both dialects.
_UNPACKED = """
(SELECT e.subscriber_key, e.best, e.exposure_start_s, e.rows_count, e.first_entry, e.last_entry,
        CAST(FLOOR(e.best / 4096) AS BIGINT) AS watch_until_s
 FROM exposures AS e) AS s
JOIN risk AS k ON k.entry_id = 4095 - (s.best - s.watch_until_s * 4096)
"""

_EXPOSURE_COLUMNS = """
s.subscriber_key, k.disease, k.country, s.exposure_start_s,
s.watch_until_s - k.incubation_s AS exposure_end_s, s.watch_until_s, s.rows_count AS records,
CASE WHEN s.first_entry = s.last_entry THEN 0 ELSE 1 END AS has_others
"""

EXPOSURE_COUNTS = """
SELECT COUNT(*) AS persons, CAST(COALESCE(SUM(rows_count), 0) AS BIGINT) AS records FROM exposures
"""

ALERTS = f"""
SELECT c.link_id, c.label, c.language, {_EXPOSURE_COLUMNS}
FROM (SELECT e.subscriber_key, e.best, e.exposure_start_s, e.rows_count, e.first_entry, e.last_entry,
             CAST(FLOOR(e.best / 4096) AS BIGINT) AS watch_until_s
      FROM exposures AS e
      WHERE e.subscriber_key IN (SELECT subscriber_key FROM consent)) AS s
JOIN consent AS c ON c.subscriber_key = s.subscriber_key
JOIN risk AS k ON k.entry_id = 4095 - (s.best - s.watch_until_s * 4096)
ORDER BY c.link_id
"""
"""The exposures that reach a home: only through a live consent link."""

ALL_EXPOSURES = f"""
SELECT {_EXPOSURE_COLUMNS}
FROM {_UNPACKED}
ORDER BY s.subscriber_key
"""

PROBLEM_COUNTS = """
SELECT problem, CAST(SUM(rows_count) AS BIGINT) AS rows_count
FROM problem_summary
GROUP BY problem
ORDER BY problem
"""

UNKNOWN_CODES = """
SELECT unknown_code, CAST(SUM(rows_count) AS BIGINT) AS rows_count
FROM problem_summary
WHERE unknown_code IS NOT NULL
GROUP BY unknown_code
ORDER BY rows_count DESC, unknown_code
LIMIT 20
"""

EXAMPLES = """
SELECT problem, MIN(example) AS example
FROM problem_summary
GROUP BY problem
ORDER BY problem
"""
"""One example row per problem (the subscriber key is never shown, only whether there was one)."""

ROW_COUNT = "SELECT COUNT(*) AS rows_count FROM records_in"
