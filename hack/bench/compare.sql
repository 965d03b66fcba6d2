-- The statewide comparison in DuckDB SQL: the same figures `districtlake compare` computes
-- (see internal/dataset/comparison.go), from the same Parquet files, written as Parquet.
-- hack/bench/compare.sh times it against our binary, and internal/compare's tests run it
-- on a generated state and check that every figure equals ours.
--
-- Placeholders, replaced before running: __LAKE__ (the lake folder), __STATE__, __YEAR__,
-- __OUT__ (folder for comparison.parquet and comparison_groups.parquet). Standards are the
-- defaults (250, 750, 500, 250) and costs those of hack/stategen's plan.

SET preserve_insertion_order = false;

CREATE TEMP TABLE staff_all AS
SELECT * EXCLUDE (source, run_id, ingested_at)
FROM read_parquet('__LAKE__/staffing/state=__STATE__/school_year=__YEAR__/*/data.parquet', hive_partitioning = false);

-- School rows count; a district-total row (no school ID) only when there is no school row.
CREATE TEMP TABLE staff AS
SELECT * FROM (
  SELECT *, count(nces_school_id) OVER (PARTITION BY nces_lea_id) AS school_rows FROM staff_all
) WHERE nces_school_id IS NOT NULL OR school_rows = 0;

CREATE TEMP TABLE sd AS
SELECT
  nces_lea_id,
  any_value(district_name) AS district_name,
  count(*)::INTEGER AS schools_reporting,
  sum(enrollment)::BIGINT AS enrollment,
  count(enrollment)::INTEGER AS schools_reporting_enrollment,
  round(sum(counselors_fte), 4) AS counselors_fte, count(counselors_fte)::INTEGER AS schools_reporting_counselors,
  round(sum(nurses_fte), 4) AS nurses_fte, count(nurses_fte)::INTEGER AS schools_reporting_nurses,
  round(sum(psychologists_fte), 4) AS psychologists_fte, count(psychologists_fte)::INTEGER AS schools_reporting_psychologists,
  round(sum(social_workers_fte), 4) AS social_workers_fte, count(social_workers_fte)::INTEGER AS schools_reporting_social_workers,
  -- Ratios and gaps: each role over the rows that know both its FTE and the enrollment.
  sum(enrollment) FILTER (WHERE counselors_fte IS NOT NULL)::BIGINT AS enrollment_reporting_counselors,
  round(sum(counselors_fte) FILTER (WHERE enrollment IS NOT NULL), 4) AS counselors_fte_matched,
  sum(enrollment) FILTER (WHERE nurses_fte IS NOT NULL)::BIGINT AS enrollment_reporting_nurses,
  round(sum(nurses_fte) FILTER (WHERE enrollment IS NOT NULL), 4) AS nurses_fte_matched,
  sum(enrollment) FILTER (WHERE psychologists_fte IS NOT NULL)::BIGINT AS enrollment_reporting_psychologists,
  round(sum(psychologists_fte) FILTER (WHERE enrollment IS NOT NULL), 4) AS psychologists_fte_matched,
  sum(enrollment) FILTER (WHERE social_workers_fte IS NOT NULL)::BIGINT AS enrollment_reporting_social_workers,
  round(sum(social_workers_fte) FILTER (WHERE enrollment IS NOT NULL), 4) AS social_workers_fte_matched,
  round(sum(sworn_officers_fte), 4) AS sworn_officers_fte, count(sworn_officers_fte)::INTEGER AS schools_reporting_sworn_officers,
  round(sum(security_guards_fte), 4) AS security_guards_fte, count(security_guards_fte)::INTEGER AS schools_reporting_security_guards,
  sum(CASE WHEN sworn_officers_fte IS NULL OR counselors_fte IS NULL THEN NULL
           WHEN sworn_officers_fte > 0 AND counselors_fte = 0 THEN 1 ELSE 0 END)::INTEGER AS schools_with_police_no_counselor,
  count(enrollment_idea) > 0 AS idea_enrollment_present,
  count(enrollment_english_learner) > 0 AS el_enrollment_present
FROM staff GROUP BY nces_lea_id;

-- Group enrollment over the schools that report both the group's and the total enrollment.
CREATE TEMP TABLE ge AS
SELECT nces_lea_id, student_group, sum(v)::BIGINT AS group_enrollment, sum(enrollment)::BIGINT AS covered_enrollment,
       count(*)::INTEGER AS schools_reporting_enrollment
FROM (
  UNPIVOT (
    SELECT nces_lea_id, enrollment,
      enrollment_hispanic AS hispanic, enrollment_american_indian_alaska_native AS american_indian_alaska_native,
      enrollment_asian AS asian, enrollment_native_hawaiian_pacific_islander AS native_hawaiian_pacific_islander,
      enrollment_black AS black, enrollment_white AS white, enrollment_two_or_more_races AS two_or_more_races,
      enrollment_idea AS idea, enrollment_english_learner AS english_learner
    FROM staff
  ) ON hispanic, american_indian_alaska_native, asian, native_hawaiian_pacific_islander, black, white,
     two_or_more_races, idea, english_learner
  INTO NAME student_group VALUE v
)
WHERE enrollment IS NOT NULL
GROUP BY ALL;

-- Each school's enrollment and enrollment by group (a figure is known when every row of the
-- school knows it), in long form: one row per school and group whose both are known.
CREATE TEMP TABLE se AS
UNPIVOT (
  SELECT nces_lea_id, coalesce(nces_school_id, '') AS school,
    CASE WHEN count(enrollment) = count(*) THEN sum(enrollment) END AS enrollment,
    CASE WHEN count(enrollment_hispanic) = count(*) THEN sum(enrollment_hispanic) END AS hispanic,
    CASE WHEN count(enrollment_american_indian_alaska_native) = count(*) THEN sum(enrollment_american_indian_alaska_native) END AS american_indian_alaska_native,
    CASE WHEN count(enrollment_asian) = count(*) THEN sum(enrollment_asian) END AS asian,
    CASE WHEN count(enrollment_native_hawaiian_pacific_islander) = count(*) THEN sum(enrollment_native_hawaiian_pacific_islander) END AS native_hawaiian_pacific_islander,
    CASE WHEN count(enrollment_black) = count(*) THEN sum(enrollment_black) END AS black,
    CASE WHEN count(enrollment_white) = count(*) THEN sum(enrollment_white) END AS white,
    CASE WHEN count(enrollment_two_or_more_races) = count(*) THEN sum(enrollment_two_or_more_races) END AS two_or_more_races,
    CASE WHEN count(enrollment_idea) = count(*) THEN sum(enrollment_idea) END AS idea,
    CASE WHEN count(enrollment_english_learner) = count(*) THEN sum(enrollment_english_learner) END AS english_learner
  FROM staff GROUP BY ALL
) ON hispanic, american_indian_alaska_native, asian, native_hawaiian_pacific_islander, black, white,
   two_or_more_races, idea, english_learner
INTO NAME student_group VALUE group_enrollment;

-- Each school's enrollment alone.
CREATE TEMP TABLE se_total AS
SELECT nces_lea_id, coalesce(nces_school_id, '') AS school,
  CASE WHEN count(enrollment) = count(*) THEN sum(enrollment) END AS enrollment
FROM staff GROUP BY ALL;

-- One row per school and category: the total of the cells that partition it, whether all
-- of them are known, and the group counts.
CREATE TEMP TABLE sc AS
SELECT
  nces_lea_id, any_value(district_name) AS district_name, coalesce(nces_school_id, '') AS school, category,
  count(*) FILTER (WHERE race_ethnicity IS NOT NULL) > 0
    AND count(*) FILTER (WHERE race_ethnicity IS NOT NULL AND count IS NULL) = 0 AS known,
  coalesce(sum(count) FILTER (WHERE race_ethnicity IS NOT NULL), 0) AS total,
  coalesce(sum(count) FILTER (WHERE race_ethnicity = 'hispanic'), 0) AS hispanic,
  coalesce(sum(count) FILTER (WHERE race_ethnicity = 'american_indian_alaska_native'), 0) AS american_indian_alaska_native,
  coalesce(sum(count) FILTER (WHERE race_ethnicity = 'asian'), 0) AS asian,
  coalesce(sum(count) FILTER (WHERE race_ethnicity = 'native_hawaiian_pacific_islander'), 0) AS native_hawaiian_pacific_islander,
  coalesce(sum(count) FILTER (WHERE race_ethnicity = 'black'), 0) AS black,
  coalesce(sum(count) FILTER (WHERE race_ethnicity = 'white'), 0) AS white,
  coalesce(sum(count) FILTER (WHERE race_ethnicity = 'two_or_more_races'), 0) AS two_or_more_races,
  coalesce(sum(count) FILTER (WHERE race_ethnicity IS NOT NULL AND disability = 'idea'), 0) AS idea,
  count(*) FILTER (WHERE race_ethnicity IS NOT NULL AND disability = 'idea') > 0 AS idea_rows,
  count(*) FILTER (WHERE race_ethnicity IS NULL AND english_learner) > 0 AS el_rows,
  count(*) FILTER (WHERE race_ethnicity IS NULL AND english_learner) > 0
    AND count(*) FILTER (WHERE race_ethnicity IS NULL AND english_learner AND count IS NULL) = 0 AS el_known,
  coalesce(sum(count) FILTER (WHERE race_ethnicity IS NULL AND english_learner), 0) AS english_learner
FROM read_parquet('__LAKE__/incidents/state=__STATE__/school_year=__YEAR__/*/data.parquet', hive_partitioning = false)
WHERE category IN ('arrest', 'law_enforcement_referral')
GROUP BY ALL;

CREATE TEMP TABLE inc_names AS
SELECT nces_lea_id, any_value(district_name) AS district_name,
       bool_or(idea_rows) AS idea_present, bool_or(el_rows) AS el_present
FROM sc GROUP BY nces_lea_id;

-- Totals over the schools whose cells are all known; rates over those of them whose
-- enrollment is known too (the count and the students of the same schools).
CREATE TEMP TABLE itot AS
SELECT sc.nces_lea_id,
  sum(total) FILTER (WHERE category = 'arrest' AND known)::BIGINT AS arrests,
  count(*) FILTER (WHERE category = 'arrest' AND known)::INTEGER AS schools_reporting_arrests,
  sum(total) FILTER (WHERE category = 'arrest' AND known AND e.enrollment IS NOT NULL)::BIGINT AS arrests_matched,
  sum(e.enrollment) FILTER (WHERE category = 'arrest' AND known)::BIGINT AS enrollment_reporting_arrests,
  sum(total) FILTER (WHERE category = 'law_enforcement_referral' AND known)::BIGINT AS law_enforcement_referrals,
  count(*) FILTER (WHERE category = 'law_enforcement_referral' AND known)::INTEGER AS schools_reporting_referrals,
  sum(total) FILTER (WHERE category = 'law_enforcement_referral' AND known AND e.enrollment IS NOT NULL)::BIGINT AS referrals_matched,
  sum(e.enrollment) FILTER (WHERE category = 'law_enforcement_referral' AND known)::BIGINT AS enrollment_reporting_referrals
FROM sc LEFT JOIN se_total e ON e.nces_lea_id = sc.nces_lea_id AND e.school = sc.school
GROUP BY sc.nces_lea_id;

-- Group counts over the schools whose total is known (and, for English learners, whose
-- English-learner cells are all known too) and whose enrollment and the group's
-- enrollment are known, with the students of the same schools.
CREATE TEMP TABLE gi AS
SELECT i.nces_lea_id, category, student_group, sum(v)::BIGINT AS group_count, sum(total)::BIGINT AS covered,
       count(*)::INTEGER AS schools, sum(e.group_enrollment)::BIGINT AS group_enrollment,
       sum(e.enrollment)::BIGINT AS enrollment
FROM (
  UNPIVOT (
    SELECT nces_lea_id, school, category, total, el_known,
      hispanic, american_indian_alaska_native, asian, native_hawaiian_pacific_islander, black, white,
      two_or_more_races, idea, english_learner
    FROM sc WHERE known
  ) ON hispanic, american_indian_alaska_native, asian, native_hawaiian_pacific_islander, black, white,
     two_or_more_races, idea, english_learner
  INTO NAME student_group VALUE v
) i
JOIN se e USING (nces_lea_id, school, student_group)
WHERE (student_group <> 'english_learner' OR el_known) AND e.enrollment IS NOT NULL
GROUP BY ALL;

-- The contract in force during the school year: its term (unknown dates leave it open)
-- overlaps July 1 to June 30; the most days in force, then the latest start, then the name.
CREATE TEMP TABLE cf AS
SELECT * FROM (
  SELECT *, row_number() OVER (
    PARTITION BY nces_lea_id ORDER BY days DESC, start_date DESC NULLS LAST, agency_name
  ) AS pick
  FROM (
    SELECT *, least(coalesce(end_date, y1), y1) - greatest(coalesce(start_date, y0), y0) + 1 AS days
    FROM read_parquet('__LAKE__/contracts/state=__STATE__/*/data.parquet', hive_partitioning = false),
      (SELECT make_date(left('__YEAR__', 4)::INTEGER, 7, 1) AS y0, make_date(left('__YEAR__', 4)::INTEGER + 1, 6, 30) AS y1)
  ) WHERE days > 0
) WHERE pick = 1;

-- Districts with a contracts file (one of no rows too).
CREATE TEMP TABLE cfiles AS
SELECT DISTINCT regexp_extract(file, 'district=([0-9]{7})', 1) AS nces_lea_id
FROM glob('__LAKE__/contracts/state=__STATE__/*/data.parquet');

-- The current contract: an active one (latest start), else the latest end date. Its status
-- and agency show when no contract was in force.
CREATE TEMP TABLE ct AS
SELECT * FROM (
  SELECT *, row_number() OVER (
    PARTITION BY nces_lea_id
    ORDER BY coalesce(status = 'active', false) DESC,
             CASE WHEN status = 'active' THEN start_date ELSE end_date END DESC NULLS LAST,
             CASE WHEN status = 'active' THEN end_date ELSE start_date END DESC NULLS LAST,
             agency_name
  ) AS pick
  FROM read_parquet('__LAKE__/contracts/state=__STATE__/*/data.parquet', hive_partitioning = false)
) WHERE pick = 1;

CREATE TEMP TABLE districts AS
SELECT nces_lea_id FROM sd UNION SELECT nces_lea_id FROM inc_names;

CREATE TEMP TABLE base AS
SELECT
  '__STATE__' AS state, '__YEAR__' AS school_year, d.nces_lea_id,
  coalesce(sd.district_name, inc_names.district_name, ct.district_name, d.nces_lea_id) AS district_name,
  sd.enrollment, coalesce(sd.schools_reporting, 0) AS schools_reporting,
  coalesce(sd.schools_reporting_enrollment, 0) AS schools_reporting_enrollment,
  sd.counselors_fte, coalesce(sd.schools_reporting_counselors, 0) AS schools_reporting_counselors,
  sd.nurses_fte, coalesce(sd.schools_reporting_nurses, 0) AS schools_reporting_nurses,
  sd.psychologists_fte, coalesce(sd.schools_reporting_psychologists, 0) AS schools_reporting_psychologists,
  sd.social_workers_fte, coalesce(sd.schools_reporting_social_workers, 0) AS schools_reporting_social_workers,
  sd.enrollment_reporting_counselors, sd.counselors_fte_matched, sd.enrollment_reporting_nurses, sd.nurses_fte_matched,
  sd.enrollment_reporting_psychologists, sd.psychologists_fte_matched,
  sd.enrollment_reporting_social_workers, sd.social_workers_fte_matched,
  sd.sworn_officers_fte, coalesce(sd.schools_reporting_sworn_officers, 0) AS schools_reporting_sworn_officers,
  sd.security_guards_fte, coalesce(sd.schools_reporting_security_guards, 0) AS schools_reporting_security_guards,
  sd.schools_with_police_no_counselor,
  itot.arrests, coalesce(itot.schools_reporting_arrests, 0) AS schools_reporting_arrests,
  itot.law_enforcement_referrals, coalesce(itot.schools_reporting_referrals, 0) AS schools_reporting_referrals,
  itot.arrests_matched, itot.enrollment_reporting_arrests, itot.referrals_matched, itot.enrollment_reporting_referrals,
  CASE WHEN cfiles.nces_lea_id IS NOT NULL THEN cf.nces_lea_id IS NOT NULL END AS contract_in_force,
  CASE WHEN cf.nces_lea_id IS NOT NULL THEN cf.status ELSE ct.status END AS contract_status,
  CASE WHEN cf.nces_lea_id IS NOT NULL THEN cf.agency_name ELSE ct.agency_name END AS contract_agency_name,
  cf.officers AS contract_officers,
  cf.annual_cost AS contract_annual_cost, coalesce(cf.district_share, cf.annual_cost) AS district_cost,
  coalesce(sd.idea_enrollment_present, false) OR coalesce(inc_names.idea_present, false) AS idea_present,
  coalesce(sd.el_enrollment_present, false) OR coalesce(inc_names.el_present, false) AS el_present
FROM districts d
LEFT JOIN sd USING (nces_lea_id)
LEFT JOIN inc_names USING (nces_lea_id)
LEFT JOIN itot USING (nces_lea_id)
LEFT JOIN ct USING (nces_lea_id)
LEFT JOIN cf USING (nces_lea_id)
LEFT JOIN cfiles USING (nces_lea_id);

CREATE MACRO per_fte(enr, fte) AS CASE WHEN fte > 0 THEN enr / fte END;
CREATE MACRO meets(enr, fte, rec) AS CASE WHEN fte = 0 THEN false WHEN fte > 0 AND enr IS NOT NULL THEN enr / fte <= rec END;
CREATE MACRO gap(enr, fte, rec) AS CASE WHEN enr IS NOT NULL AND fte IS NOT NULL THEN greatest(0, enr / rec - fte) END;

CREATE TEMP TABLE comparison AS
SELECT
  state, school_year, nces_lea_id, district_name, enrollment::INTEGER AS enrollment, schools_reporting, schools_reporting_enrollment,
  counselors_fte, schools_reporting_counselors, enrollment_reporting_counselors::INTEGER AS enrollment_reporting_counselors,
  per_fte(enrollment_reporting_counselors, counselors_fte_matched) AS students_per_counselor,
  250 AS recommended_students_per_counselor, meets(enrollment_reporting_counselors, counselors_fte_matched, 250) AS meets_counselor_standard,
  gap(enrollment_reporting_counselors, counselors_fte_matched, 250) AS counselor_gap_fte,
  rank() OVER (ORDER BY per_fte(enrollment_reporting_counselors, counselors_fte_matched) ASC NULLS LAST) AS rank_students_per_counselor,
  nurses_fte, schools_reporting_nurses, enrollment_reporting_nurses::INTEGER AS enrollment_reporting_nurses,
  per_fte(enrollment_reporting_nurses, nurses_fte_matched) AS students_per_nurse,
  750 AS recommended_students_per_nurse, meets(enrollment_reporting_nurses, nurses_fte_matched, 750) AS meets_nurse_standard,
  gap(enrollment_reporting_nurses, nurses_fte_matched, 750) AS nurse_gap_fte,
  rank() OVER (ORDER BY per_fte(enrollment_reporting_nurses, nurses_fte_matched) ASC NULLS LAST) AS rank_students_per_nurse,
  psychologists_fte, schools_reporting_psychologists, enrollment_reporting_psychologists::INTEGER AS enrollment_reporting_psychologists,
  per_fte(enrollment_reporting_psychologists, psychologists_fte_matched) AS students_per_psychologist,
  500 AS recommended_students_per_psychologist, meets(enrollment_reporting_psychologists, psychologists_fte_matched, 500) AS meets_psychologist_standard,
  gap(enrollment_reporting_psychologists, psychologists_fte_matched, 500) AS psychologist_gap_fte,
  rank() OVER (ORDER BY per_fte(enrollment_reporting_psychologists, psychologists_fte_matched) ASC NULLS LAST) AS rank_students_per_psychologist,
  social_workers_fte, schools_reporting_social_workers, enrollment_reporting_social_workers::INTEGER AS enrollment_reporting_social_workers,
  per_fte(enrollment_reporting_social_workers, social_workers_fte_matched) AS students_per_social_worker,
  250 AS recommended_students_per_social_worker, meets(enrollment_reporting_social_workers, social_workers_fte_matched, 250) AS meets_social_worker_standard,
  gap(enrollment_reporting_social_workers, social_workers_fte_matched, 250) AS social_worker_gap_fte,
  rank() OVER (ORDER BY per_fte(enrollment_reporting_social_workers, social_workers_fte_matched) ASC NULLS LAST) AS rank_students_per_social_worker,
  gap(enrollment_reporting_counselors, counselors_fte_matched, 250) + gap(enrollment_reporting_nurses, nurses_fte_matched, 750)
    + gap(enrollment_reporting_psychologists, psychologists_fte_matched, 500)
    + gap(enrollment_reporting_social_workers, social_workers_fte_matched, 250) AS support_gap_fte_total,
  count(*) OVER () AS districts_in_state,
  sworn_officers_fte, schools_reporting_sworn_officers, security_guards_fte, schools_reporting_security_guards,
  schools_with_police_no_counselor,
  arrests::INTEGER AS arrests, schools_reporting_arrests, enrollment_reporting_arrests::INTEGER AS enrollment_reporting_arrests,
  law_enforcement_referrals::INTEGER AS law_enforcement_referrals, schools_reporting_referrals,
  enrollment_reporting_referrals::INTEGER AS enrollment_reporting_referrals,
  CASE WHEN enrollment_reporting_arrests > 0 THEN arrests_matched / enrollment_reporting_arrests * 1000 END AS arrests_per_1000,
  CASE WHEN enrollment_reporting_referrals > 0 THEN referrals_matched / enrollment_reporting_referrals * 1000 END AS referrals_per_1000,
  contract_in_force, contract_status, contract_agency_name, contract_officers, contract_annual_cost, district_cost,
  CASE WHEN enrollment > 0 THEN district_cost::DOUBLE / enrollment END AS contract_cost_per_student,
  district_cost::DOUBLE / 62000 AS counselor_fte_equivalent_of_contract,
  district_cost::DOUBLE / 58000 AS nurse_fte_equivalent_of_contract,
  district_cost::DOUBLE / 81000 AS psychologist_fte_equivalent_of_contract,
  district_cost::DOUBLE / 60000 AS social_worker_fte_equivalent_of_contract
FROM base;

CREATE TEMP TABLE groups AS
SELECT * FROM (VALUES
  (1, 'hispanic', 'race_ethnicity'), (2, 'american_indian_alaska_native', 'race_ethnicity'), (3, 'asian', 'race_ethnicity'),
  (4, 'native_hawaiian_pacific_islander', 'race_ethnicity'), (5, 'black', 'race_ethnicity'), (6, 'white', 'race_ethnicity'),
  (7, 'two_or_more_races', 'race_ethnicity'), (8, 'idea', 'disability'), (9, 'english_learner', 'english_learner')
) AS g(ord, student_group, group_type);

CREATE MACRO share(part, total) AS CASE WHEN total <> 0 THEN part / total END;

CREATE TEMP TABLE comparison_groups AS
SELECT
  b.state, b.school_year, b.nces_lea_id, b.district_name, g.student_group, g.group_type,
  ge.group_enrollment::INTEGER AS group_enrollment, ge.covered_enrollment::INTEGER AS covered_enrollment,
  coalesce(ge.schools_reporting_enrollment, 0) AS schools_reporting_enrollment,
  a.group_count::INTEGER AS group_arrests, a.covered::INTEGER AS covered_arrests, coalesce(a.schools, 0) AS schools_reporting_arrests,
  a.group_enrollment::INTEGER AS group_enrollment_reporting_arrests, a.enrollment::INTEGER AS enrollment_reporting_arrests,
  r.group_count::INTEGER AS group_referrals, r.covered::INTEGER AS covered_referrals, coalesce(r.schools, 0) AS schools_reporting_referrals,
  r.group_enrollment::INTEGER AS group_enrollment_reporting_referrals, r.enrollment::INTEGER AS enrollment_reporting_referrals,
  share(ge.group_enrollment, ge.covered_enrollment) AS enrollment_share,
  share(a.group_count, a.covered) AS arrest_share,
  share(r.group_count, r.covered) AS referral_share,
  share(share(a.group_count, a.covered), share(a.group_enrollment, a.enrollment)) AS arrest_relative_rate,
  share(share(r.group_count, r.covered), share(r.group_enrollment, r.enrollment)) AS referral_relative_rate
FROM base b
CROSS JOIN groups g
LEFT JOIN ge ON ge.nces_lea_id = b.nces_lea_id AND ge.student_group = g.student_group
LEFT JOIN gi a ON a.nces_lea_id = b.nces_lea_id AND a.student_group = g.student_group AND a.category = 'arrest'
LEFT JOIN gi r ON r.nces_lea_id = b.nces_lea_id AND r.student_group = g.student_group AND r.category = 'law_enforcement_referral'
WHERE g.group_type = 'race_ethnicity'
   OR (g.student_group = 'idea' AND b.idea_present)
   OR (g.student_group = 'english_learner' AND b.el_present);

COPY (FROM comparison ORDER BY nces_lea_id) TO '__OUT__/comparison.parquet' (FORMAT parquet, COMPRESSION zstd);
COPY (FROM comparison_groups ORDER BY nces_lea_id, student_group) TO '__OUT__/comparison_groups.parquet' (FORMAT parquet, COMPRESSION zstd);
