-- recompute.sql: the districtlake comparison and comparison_groups datasets recomputed with
-- SQL alone from the staffing, incidents and contracts views that `districtlake sql` prints,
-- following the definitions in internal/dataset/comparison.go (ComparisonSchema and
-- ComparisonGroupsSchema). Tests run it in DuckDB against a lake written by `districtlake run`
-- and check that every figure equals the comparison's; the benchmark times it.
--
-- It needs a table with one row per state:
--   params(state VARCHAR, counselor INTEGER, nurse INTEGER, psychologist INTEGER,
--          social_worker INTEGER,            -- the standards: students per FTE
--          counselor_cost BIGINT, nurse_cost BIGINT, psychologist_cost BIGINT,
--          social_worker_cost BIGINT)        -- dollars a year per FTE; NULL when not given
-- and creates the views recomputed_comparison and recomputed_comparison_groups (same columns
-- as comparison and comparison_groups, without run_id and computed_at).

-- The student groups of comparison_groups, in output order.
CREATE OR REPLACE TEMP TABLE rc_groups AS
SELECT * FROM (VALUES
    ('hispanic', 'race_ethnicity', 0),
    ('american_indian_alaska_native', 'race_ethnicity', 1),
    ('asian', 'race_ethnicity', 2),
    ('native_hawaiian_pacific_islander', 'race_ethnicity', 3),
    ('black', 'race_ethnicity', 4),
    ('white', 'race_ethnicity', 5),
    ('two_or_more_races', 'race_ethnicity', 6),
    ('idea', 'disability', 7),
    ('english_learner', 'english_learner', 8)
) AS g(student_group, group_type, ord);

-- Staffing rows that count: a district's school rows, or its district-total rows (no
-- nces_school_id) when it has no school row.
CREATE OR REPLACE TEMP VIEW rc_staff_used AS
WITH flagged AS (
    SELECT *, count(nces_school_id) OVER (PARTITION BY state, school_year, nces_lea_id) > 0 AS has_schools
    FROM staffing
)
SELECT * FROM flagged WHERE (nces_school_id IS NOT NULL) = has_schools;

-- Staffing summed per district: a sum covers the rows that report the figure.
CREATE OR REPLACE TEMP VIEW rc_staff AS
SELECT
    state, school_year, nces_lea_id,
    min(district_name) AS district_name,
    count(*) AS schools_reporting,
    sum(enrollment) AS enrollment,
    count(enrollment) AS schools_reporting_enrollment,
    round(sum(counselors_fte), 4) AS counselors_fte,
    count(counselors_fte) AS schools_reporting_counselors,
    round(sum(nurses_fte), 4) AS nurses_fte,
    count(nurses_fte) AS schools_reporting_nurses,
    round(sum(psychologists_fte), 4) AS psychologists_fte,
    count(psychologists_fte) AS schools_reporting_psychologists,
    round(sum(social_workers_fte), 4) AS social_workers_fte,
    count(social_workers_fte) AS schools_reporting_social_workers,
    -- Ratios and gaps: each role over the rows that know both its FTE and the enrollment.
    sum(enrollment) FILTER (WHERE counselors_fte IS NOT NULL) AS enrollment_reporting_counselors,
    round(sum(counselors_fte) FILTER (WHERE enrollment IS NOT NULL), 4) AS counselors_fte_matched,
    sum(enrollment) FILTER (WHERE nurses_fte IS NOT NULL) AS enrollment_reporting_nurses,
    round(sum(nurses_fte) FILTER (WHERE enrollment IS NOT NULL), 4) AS nurses_fte_matched,
    sum(enrollment) FILTER (WHERE psychologists_fte IS NOT NULL) AS enrollment_reporting_psychologists,
    round(sum(psychologists_fte) FILTER (WHERE enrollment IS NOT NULL), 4) AS psychologists_fte_matched,
    sum(enrollment) FILTER (WHERE social_workers_fte IS NOT NULL) AS enrollment_reporting_social_workers,
    round(sum(social_workers_fte) FILTER (WHERE enrollment IS NOT NULL), 4) AS social_workers_fte_matched,
    round(sum(sworn_officers_fte), 4) AS sworn_officers_fte,
    count(sworn_officers_fte) AS schools_reporting_sworn_officers,
    round(sum(security_guards_fte), 4) AS security_guards_fte,
    count(security_guards_fte) AS schools_reporting_security_guards,
    sum(CASE WHEN counselors_fte IS NOT NULL AND sworn_officers_fte IS NOT NULL
             THEN CASE WHEN sworn_officers_fte > 0 AND counselors_fte = 0 THEN 1 ELSE 0 END END)
        AS schools_with_police_no_counselor
FROM rc_staff_used
GROUP BY state, school_year, nces_lea_id;

-- Each school's enrollment and enrollment by group (a figure is known when every row of the
-- school knows it; a district-total row is the school '').
CREATE OR REPLACE TEMP VIEW rc_school_enrollment AS
WITH long AS (
    SELECT u.state, u.school_year, u.nces_lea_id, coalesce(u.nces_school_id, '') AS school,
        g.student_group, u.enrollment,
        CASE g.student_group
            WHEN 'hispanic' THEN u.enrollment_hispanic
            WHEN 'american_indian_alaska_native' THEN u.enrollment_american_indian_alaska_native
            WHEN 'asian' THEN u.enrollment_asian
            WHEN 'native_hawaiian_pacific_islander' THEN u.enrollment_native_hawaiian_pacific_islander
            WHEN 'black' THEN u.enrollment_black
            WHEN 'white' THEN u.enrollment_white
            WHEN 'two_or_more_races' THEN u.enrollment_two_or_more_races
            WHEN 'idea' THEN u.enrollment_idea
            WHEN 'english_learner' THEN u.enrollment_english_learner
        END AS v
    FROM rc_staff_used u CROSS JOIN rc_groups g
)
SELECT state, school_year, nces_lea_id, school, student_group,
    CASE WHEN count(enrollment) = count(*) THEN sum(enrollment) END AS enrollment,
    CASE WHEN count(v) = count(*) THEN sum(v) END AS group_enrollment
FROM long
GROUP BY state, school_year, nces_lea_id, school, student_group;

-- Incidents of the two categories compared.
CREATE OR REPLACE TEMP VIEW rc_incidents AS
SELECT state, school_year, nces_lea_id, district_name, coalesce(nces_school_id, '') AS school,
       category, race_ethnicity, disability, english_learner, "count" AS n
FROM incidents
WHERE category IN ('arrest', 'law_enforcement_referral');

-- One school and category: the rows with a race/ethnicity partition the school's total; a
-- school reports when it has such rows and none of them is null (suppressed).
CREATE OR REPLACE TEMP VIEW rc_school_cat AS
SELECT
    state, school_year, nces_lea_id, school, category,
    count(*) FILTER (WHERE race_ethnicity IS NOT NULL) > 0
        AND count(*) FILTER (WHERE race_ethnicity IS NOT NULL AND n IS NULL) = 0 AS reporting,
    sum(n) FILTER (WHERE race_ethnicity IS NOT NULL) AS total,
    count(*) FILTER (WHERE race_ethnicity IS NOT NULL AND disability = 'idea') > 0 AS idea_seen,
    count(*) FILTER (WHERE race_ethnicity IS NULL AND english_learner) > 0 AS el_rows,
    count(*) FILTER (WHERE race_ethnicity IS NULL AND english_learner AND n IS NULL) > 0 AS el_null
FROM rc_incidents
GROUP BY state, school_year, nces_lea_id, school, category;

-- Incident totals per district: the sum over the schools that report. Rates: the count and
-- the students of the reporting schools whose enrollment is known.
CREATE OR REPLACE TEMP VIEW rc_inc AS
WITH cat AS (
    SELECT sc.*, e.enrollment
    FROM rc_school_cat sc
    LEFT JOIN rc_school_enrollment e ON e.state = sc.state AND e.school_year = sc.school_year
        AND e.nces_lea_id = sc.nces_lea_id AND e.school = sc.school AND e.student_group = 'hispanic'
)
SELECT
    state, school_year, nces_lea_id,
    sum(total) FILTER (WHERE category = 'arrest' AND reporting) AS arrests,
    count(*) FILTER (WHERE category = 'arrest' AND reporting) AS schools_reporting_arrests,
    sum(total) FILTER (WHERE category = 'arrest' AND reporting AND enrollment IS NOT NULL) AS arrests_matched,
    sum(enrollment) FILTER (WHERE category = 'arrest' AND reporting) AS enrollment_reporting_arrests,
    sum(total) FILTER (WHERE category = 'law_enforcement_referral' AND reporting) AS law_enforcement_referrals,
    count(*) FILTER (WHERE category = 'law_enforcement_referral' AND reporting) AS schools_reporting_referrals,
    sum(total) FILTER (WHERE category = 'law_enforcement_referral' AND reporting AND enrollment IS NOT NULL) AS referrals_matched,
    sum(enrollment) FILTER (WHERE category = 'law_enforcement_referral' AND reporting) AS enrollment_reporting_referrals
FROM cat
GROUP BY state, school_year, nces_lea_id;

-- Every district of a state and year: those with a staffing or an incidents file.
CREATE OR REPLACE TEMP VIEW rc_districts AS
SELECT state, school_year, nces_lea_id, min(district_name) AS district_name
FROM (
    SELECT state, school_year, nces_lea_id, NULL::VARCHAR AS district_name FROM staffing
    UNION ALL
    SELECT state, school_year, nces_lea_id, district_name FROM incidents
)
GROUP BY state, school_year, nces_lea_id;

-- The contract in force during the school year: its term (an unknown date leaves it open)
-- overlaps July 1 to June 30 of the year, whatever its status; the most days in force,
-- then the latest start_date (unknown earliest), then the agency name in order.
CREATE OR REPLACE TEMP VIEW rc_contract_in_force AS
SELECT * FROM (
    SELECT *, row_number() OVER (
        PARTITION BY state, school_year, nces_lea_id
        ORDER BY days DESC, start_date DESC NULLS LAST, agency_name ASC
    ) AS pick
    FROM (
        SELECT d.school_year, c.*,
            least(coalesce(c.end_date, y.y1), y.y1) - greatest(coalesce(c.start_date, y.y0), y.y0) + 1 AS days
        FROM contracts c
        JOIN (SELECT DISTINCT state, school_year, nces_lea_id FROM rc_districts) d
            ON d.state = c.state AND d.nces_lea_id = c.nces_lea_id
        CROSS JOIN LATERAL (SELECT make_date(left(d.school_year, 4)::INTEGER, 7, 1) AS y0,
                                   make_date(left(d.school_year, 4)::INTEGER + 1, 6, 30) AS y1) y
    )
    WHERE days > 0
)
WHERE pick = 1;

-- The district's current police contract, whose status and agency show when none was in
-- force: an active one (latest start_date, then latest end_date), else the one with the
-- latest end_date (then latest start_date); unknown dates count as earliest; then the
-- agency name in order. (A district whose contracts file has no rows shows in the views as
-- one without a file: contract_in_force is then false in comparison, null here.)
CREATE OR REPLACE TEMP VIEW rc_contract AS
SELECT * FROM (
    SELECT
        c.*,
        row_number() OVER (
            PARTITION BY state, nces_lea_id
            ORDER BY coalesce(status = 'active', false) DESC,
                     CASE WHEN coalesce(status = 'active', false) THEN start_date ELSE end_date END DESC NULLS LAST,
                     CASE WHEN coalesce(status = 'active', false) THEN end_date ELSE start_date END DESC NULLS LAST,
                     agency_name ASC
        ) AS pick
    FROM contracts c
)
WHERE pick = 1;

CREATE OR REPLACE TEMP VIEW rc_base AS
SELECT
    d.state, d.school_year, d.nces_lea_id,
    coalesce(s.district_name, d.district_name, k.district_name, d.nces_lea_id) AS district_name,
    s.enrollment,
    coalesce(s.schools_reporting, 0) AS schools_reporting,
    coalesce(s.schools_reporting_enrollment, 0) AS schools_reporting_enrollment,
    s.counselors_fte, coalesce(s.schools_reporting_counselors, 0) AS schools_reporting_counselors,
    s.nurses_fte, coalesce(s.schools_reporting_nurses, 0) AS schools_reporting_nurses,
    s.psychologists_fte, coalesce(s.schools_reporting_psychologists, 0) AS schools_reporting_psychologists,
    s.social_workers_fte, coalesce(s.schools_reporting_social_workers, 0) AS schools_reporting_social_workers,
    s.enrollment_reporting_counselors, s.counselors_fte_matched, s.enrollment_reporting_nurses, s.nurses_fte_matched,
    s.enrollment_reporting_psychologists, s.psychologists_fte_matched,
    s.enrollment_reporting_social_workers, s.social_workers_fte_matched,
    s.sworn_officers_fte, coalesce(s.schools_reporting_sworn_officers, 0) AS schools_reporting_sworn_officers,
    s.security_guards_fte, coalesce(s.schools_reporting_security_guards, 0) AS schools_reporting_security_guards,
    s.schools_with_police_no_counselor,
    i.arrests, coalesce(i.schools_reporting_arrests, 0) AS schools_reporting_arrests,
    i.law_enforcement_referrals, coalesce(i.schools_reporting_referrals, 0) AS schools_reporting_referrals,
    i.arrests_matched, i.enrollment_reporting_arrests, i.referrals_matched, i.enrollment_reporting_referrals,
    p.counselor AS rec_counselor, p.nurse AS rec_nurse, p.psychologist AS rec_psychologist,
    p.social_worker AS rec_social_worker,
    p.counselor_cost, p.nurse_cost, p.psychologist_cost, p.social_worker_cost,
    CASE WHEN k.nces_lea_id IS NOT NULL THEN f.nces_lea_id IS NOT NULL END AS contract_in_force,
    CASE WHEN f.nces_lea_id IS NOT NULL THEN f.status ELSE k.status END AS contract_status,
    CASE WHEN f.nces_lea_id IS NOT NULL THEN f.agency_name ELSE k.agency_name END AS contract_agency_name,
    f.officers AS contract_officers,
    f.annual_cost AS contract_annual_cost,
    coalesce(f.district_share, f.annual_cost) AS district_cost
FROM rc_districts d
JOIN params p ON p.state = d.state
LEFT JOIN rc_staff s ON s.state = d.state AND s.school_year = d.school_year AND s.nces_lea_id = d.nces_lea_id
LEFT JOIN rc_inc i ON i.state = d.state AND i.school_year = d.school_year AND i.nces_lea_id = d.nces_lea_id
LEFT JOIN rc_contract k ON k.state = d.state AND k.nces_lea_id = d.nces_lea_id
LEFT JOIN rc_contract_in_force f ON f.state = d.state AND f.school_year = d.school_year AND f.nces_lea_id = d.nces_lea_id;

-- Ratios, standards and gaps per role.
CREATE OR REPLACE TEMP VIEW rc_ratios AS
SELECT
    *,
    CASE WHEN counselors_fte_matched > 0 THEN enrollment_reporting_counselors / counselors_fte_matched END AS students_per_counselor,
    CASE WHEN nurses_fte_matched > 0 THEN enrollment_reporting_nurses / nurses_fte_matched END AS students_per_nurse,
    CASE WHEN psychologists_fte_matched > 0 THEN enrollment_reporting_psychologists / psychologists_fte_matched END AS students_per_psychologist,
    CASE WHEN social_workers_fte_matched > 0 THEN enrollment_reporting_social_workers / social_workers_fte_matched END AS students_per_social_worker,
    CASE WHEN enrollment_reporting_counselors IS NOT NULL AND counselors_fte_matched IS NOT NULL THEN greatest(0, enrollment_reporting_counselors / rec_counselor - counselors_fte_matched) END AS counselor_gap_fte,
    CASE WHEN enrollment_reporting_nurses IS NOT NULL AND nurses_fte_matched IS NOT NULL THEN greatest(0, enrollment_reporting_nurses / rec_nurse - nurses_fte_matched) END AS nurse_gap_fte,
    CASE WHEN enrollment_reporting_psychologists IS NOT NULL AND psychologists_fte_matched IS NOT NULL THEN greatest(0, enrollment_reporting_psychologists / rec_psychologist - psychologists_fte_matched) END AS psychologist_gap_fte,
    CASE WHEN enrollment_reporting_social_workers IS NOT NULL AND social_workers_fte_matched IS NOT NULL THEN greatest(0, enrollment_reporting_social_workers / rec_social_worker - social_workers_fte_matched) END AS social_worker_gap_fte,
    (district_cost * 100)::BIGINT AS district_cost_cents
FROM rc_base;

CREATE OR REPLACE VIEW recomputed_comparison AS
SELECT
    state, school_year, nces_lea_id, district_name,
    enrollment::INTEGER AS enrollment,
    schools_reporting::INTEGER AS schools_reporting,
    schools_reporting_enrollment::INTEGER AS schools_reporting_enrollment,

    counselors_fte,
    schools_reporting_counselors::INTEGER AS schools_reporting_counselors,
    enrollment_reporting_counselors::INTEGER AS enrollment_reporting_counselors,
    students_per_counselor,
    rec_counselor::INTEGER AS recommended_students_per_counselor,
    CASE WHEN counselors_fte_matched = 0 THEN false
         WHEN students_per_counselor IS NOT NULL THEN students_per_counselor <= rec_counselor END
        AS meets_counselor_standard,
    counselor_gap_fte,
    (CASE WHEN students_per_counselor IS NULL
          THEN count(students_per_counselor) OVER (PARTITION BY state, school_year) + 1
          ELSE rank() OVER (PARTITION BY state, school_year, students_per_counselor IS NULL ORDER BY students_per_counselor) END)::INTEGER
        AS rank_students_per_counselor,

    nurses_fte,
    schools_reporting_nurses::INTEGER AS schools_reporting_nurses,
    enrollment_reporting_nurses::INTEGER AS enrollment_reporting_nurses,
    students_per_nurse,
    rec_nurse::INTEGER AS recommended_students_per_nurse,
    CASE WHEN nurses_fte_matched = 0 THEN false
         WHEN students_per_nurse IS NOT NULL THEN students_per_nurse <= rec_nurse END
        AS meets_nurse_standard,
    nurse_gap_fte,
    (CASE WHEN students_per_nurse IS NULL
          THEN count(students_per_nurse) OVER (PARTITION BY state, school_year) + 1
          ELSE rank() OVER (PARTITION BY state, school_year, students_per_nurse IS NULL ORDER BY students_per_nurse) END)::INTEGER
        AS rank_students_per_nurse,

    psychologists_fte,
    schools_reporting_psychologists::INTEGER AS schools_reporting_psychologists,
    enrollment_reporting_psychologists::INTEGER AS enrollment_reporting_psychologists,
    students_per_psychologist,
    rec_psychologist::INTEGER AS recommended_students_per_psychologist,
    CASE WHEN psychologists_fte_matched = 0 THEN false
         WHEN students_per_psychologist IS NOT NULL THEN students_per_psychologist <= rec_psychologist END
        AS meets_psychologist_standard,
    psychologist_gap_fte,
    (CASE WHEN students_per_psychologist IS NULL
          THEN count(students_per_psychologist) OVER (PARTITION BY state, school_year) + 1
          ELSE rank() OVER (PARTITION BY state, school_year, students_per_psychologist IS NULL ORDER BY students_per_psychologist) END)::INTEGER
        AS rank_students_per_psychologist,

    social_workers_fte,
    schools_reporting_social_workers::INTEGER AS schools_reporting_social_workers,
    enrollment_reporting_social_workers::INTEGER AS enrollment_reporting_social_workers,
    students_per_social_worker,
    rec_social_worker::INTEGER AS recommended_students_per_social_worker,
    CASE WHEN social_workers_fte_matched = 0 THEN false
         WHEN students_per_social_worker IS NOT NULL THEN students_per_social_worker <= rec_social_worker END
        AS meets_social_worker_standard,
    social_worker_gap_fte,
    (CASE WHEN students_per_social_worker IS NULL
          THEN count(students_per_social_worker) OVER (PARTITION BY state, school_year) + 1
          ELSE rank() OVER (PARTITION BY state, school_year, students_per_social_worker IS NULL ORDER BY students_per_social_worker) END)::INTEGER
        AS rank_students_per_social_worker,

    counselor_gap_fte + nurse_gap_fte + psychologist_gap_fte + social_worker_gap_fte AS support_gap_fte_total,
    (count(*) OVER (PARTITION BY state, school_year))::INTEGER AS districts_in_state,
    sworn_officers_fte,
    schools_reporting_sworn_officers::INTEGER AS schools_reporting_sworn_officers,
    security_guards_fte,
    schools_reporting_security_guards::INTEGER AS schools_reporting_security_guards,
    schools_with_police_no_counselor::INTEGER AS schools_with_police_no_counselor,
    arrests::INTEGER AS arrests,
    schools_reporting_arrests::INTEGER AS schools_reporting_arrests,
    enrollment_reporting_arrests::INTEGER AS enrollment_reporting_arrests,
    law_enforcement_referrals::INTEGER AS law_enforcement_referrals,
    schools_reporting_referrals::INTEGER AS schools_reporting_referrals,
    enrollment_reporting_referrals::INTEGER AS enrollment_reporting_referrals,
    CASE WHEN enrollment_reporting_arrests <> 0 THEN arrests_matched::DOUBLE / enrollment_reporting_arrests * 1000 END AS arrests_per_1000,
    CASE WHEN enrollment_reporting_referrals <> 0 THEN referrals_matched::DOUBLE / enrollment_reporting_referrals * 1000 END AS referrals_per_1000,
    contract_in_force,
    contract_status,
    contract_agency_name,
    contract_officers::INTEGER AS contract_officers,
    contract_annual_cost::DECIMAL(14, 2) AS contract_annual_cost,
    district_cost::DECIMAL(14, 2) AS district_cost,
    CASE WHEN enrollment <> 0 THEN district_cost_cents::DOUBLE / 100 / enrollment END AS contract_cost_per_student,
    CASE WHEN counselor_cost > 0 THEN district_cost_cents::DOUBLE / 100 / counselor_cost END AS counselor_fte_equivalent_of_contract,
    CASE WHEN nurse_cost > 0 THEN district_cost_cents::DOUBLE / 100 / nurse_cost END AS nurse_fte_equivalent_of_contract,
    CASE WHEN psychologist_cost > 0 THEN district_cost_cents::DOUBLE / 100 / psychologist_cost END AS psychologist_fte_equivalent_of_contract,
    CASE WHEN social_worker_cost > 0 THEN district_cost_cents::DOUBLE / 100 / social_worker_cost END AS social_worker_fte_equivalent_of_contract
FROM rc_ratios;

-- Staffing by group: the group's enrollment and the total, over the rows that report both.
CREATE OR REPLACE TEMP VIEW rc_staff_groups AS
WITH long AS (
    SELECT u.state, u.school_year, u.nces_lea_id, g.student_group, u.enrollment,
        CASE g.student_group
            WHEN 'hispanic' THEN u.enrollment_hispanic
            WHEN 'american_indian_alaska_native' THEN u.enrollment_american_indian_alaska_native
            WHEN 'asian' THEN u.enrollment_asian
            WHEN 'native_hawaiian_pacific_islander' THEN u.enrollment_native_hawaiian_pacific_islander
            WHEN 'black' THEN u.enrollment_black
            WHEN 'white' THEN u.enrollment_white
            WHEN 'two_or_more_races' THEN u.enrollment_two_or_more_races
            WHEN 'idea' THEN u.enrollment_idea
            WHEN 'english_learner' THEN u.enrollment_english_learner
        END AS v
    FROM rc_staff_used u CROSS JOIN rc_groups g
)
SELECT
    state, school_year, nces_lea_id, student_group,
    count(v) > 0 AS present,
    sum(v) FILTER (WHERE v IS NOT NULL AND enrollment IS NOT NULL) AS group_enrollment,
    sum(enrollment) FILTER (WHERE v IS NOT NULL AND enrollment IS NOT NULL) AS covered_enrollment,
    count(*) FILTER (WHERE v IS NOT NULL AND enrollment IS NOT NULL) AS schools_reporting_enrollment
FROM long
GROUP BY state, school_year, nces_lea_id, student_group;

-- One school, category and group: race groups and IDEA from the partition rows, English
-- learners from the rows with english_learner = true.
CREATE OR REPLACE TEMP VIEW rc_school_group AS
SELECT i.state, i.school_year, i.nces_lea_id, i.school, i.category, g.student_group, sum(i.n) AS n
FROM rc_incidents i
JOIN rc_groups g ON (g.group_type = 'race_ethnicity' AND i.race_ethnicity = g.student_group)
    OR (g.student_group = 'idea' AND i.race_ethnicity IS NOT NULL AND i.disability = 'idea')
    OR (g.student_group = 'english_learner' AND i.race_ethnicity IS NULL AND i.english_learner)
GROUP BY ALL;

-- Incidents by group per district and category, over the schools that report the total
-- (and, for English learners, whose English-learner rows are all known) and whose
-- enrollment and the group's enrollment are known, with the students of those schools.
CREATE OR REPLACE TEMP VIEW rc_inc_groups AS
WITH cells AS (
    SELECT sc.state, sc.school_year, sc.nces_lea_id, sc.category, g.student_group,
        sc.reporting AND (g.student_group <> 'english_learner' OR (sc.el_rows AND NOT sc.el_null))
            AND e.enrollment IS NOT NULL AND e.group_enrollment IS NOT NULL AS counted,
        e.enrollment, e.group_enrollment,
        sc.total, coalesce(sg.n, 0) AS n,
        CASE g.student_group WHEN 'idea' THEN sc.idea_seen WHEN 'english_learner' THEN sc.el_rows ELSE false END AS seen
    FROM rc_school_cat sc
    CROSS JOIN rc_groups g
    LEFT JOIN rc_school_group sg ON sg.state = sc.state AND sg.school_year = sc.school_year
        AND sg.nces_lea_id = sc.nces_lea_id AND sg.school = sc.school AND sg.category = sc.category
        AND sg.student_group = g.student_group
    LEFT JOIN rc_school_enrollment e ON e.state = sc.state AND e.school_year = sc.school_year
        AND e.nces_lea_id = sc.nces_lea_id AND e.school = sc.school AND e.student_group = g.student_group
)
SELECT
    state, school_year, nces_lea_id, student_group,
    bool_or(seen) AS present,
    sum(n) FILTER (WHERE category = 'arrest' AND counted) AS group_arrests,
    sum(total) FILTER (WHERE category = 'arrest' AND counted) AS covered_arrests,
    count(*) FILTER (WHERE category = 'arrest' AND counted) AS schools_reporting_arrests,
    sum(group_enrollment) FILTER (WHERE category = 'arrest' AND counted) AS group_enrollment_reporting_arrests,
    sum(enrollment) FILTER (WHERE category = 'arrest' AND counted) AS enrollment_reporting_arrests,
    sum(n) FILTER (WHERE category = 'law_enforcement_referral' AND counted) AS group_referrals,
    sum(total) FILTER (WHERE category = 'law_enforcement_referral' AND counted) AS covered_referrals,
    count(*) FILTER (WHERE category = 'law_enforcement_referral' AND counted) AS schools_reporting_referrals,
    sum(group_enrollment) FILTER (WHERE category = 'law_enforcement_referral' AND counted) AS group_enrollment_reporting_referrals,
    sum(enrollment) FILTER (WHERE category = 'law_enforcement_referral' AND counted) AS enrollment_reporting_referrals
FROM cells
GROUP BY state, school_year, nces_lea_id, student_group;

CREATE OR REPLACE VIEW recomputed_comparison_groups AS
WITH rows AS (
    SELECT
        c.state, c.school_year, c.nces_lea_id, c.district_name, g.student_group, g.group_type, g.ord,
        s.group_enrollment, s.covered_enrollment, coalesce(s.schools_reporting_enrollment, 0) AS schools_reporting_enrollment,
        i.group_arrests, i.covered_arrests, coalesce(i.schools_reporting_arrests, 0) AS schools_reporting_arrests,
        i.group_enrollment_reporting_arrests, i.enrollment_reporting_arrests,
        i.group_referrals, i.covered_referrals, coalesce(i.schools_reporting_referrals, 0) AS schools_reporting_referrals,
        i.group_enrollment_reporting_referrals, i.enrollment_reporting_referrals,
        g.group_type = 'race_ethnicity' OR coalesce(s.present, false) OR coalesce(i.present, false) AS included
    FROM recomputed_comparison c
    CROSS JOIN rc_groups g
    LEFT JOIN rc_staff_groups s ON s.state = c.state AND s.school_year = c.school_year
        AND s.nces_lea_id = c.nces_lea_id AND s.student_group = g.student_group
    LEFT JOIN rc_inc_groups i ON i.state = c.state AND i.school_year = c.school_year
        AND i.nces_lea_id = c.nces_lea_id AND i.student_group = g.student_group
), shares AS (
    SELECT *,
        CASE WHEN covered_enrollment <> 0 THEN group_enrollment::DOUBLE / covered_enrollment END AS enrollment_share,
        CASE WHEN covered_arrests <> 0 THEN group_arrests::DOUBLE / covered_arrests END AS arrest_share,
        CASE WHEN covered_referrals <> 0 THEN group_referrals::DOUBLE / covered_referrals END AS referral_share,
        CASE WHEN enrollment_reporting_arrests <> 0 THEN group_enrollment_reporting_arrests::DOUBLE / enrollment_reporting_arrests END AS arrest_enrollment_share,
        CASE WHEN enrollment_reporting_referrals <> 0 THEN group_enrollment_reporting_referrals::DOUBLE / enrollment_reporting_referrals END AS referral_enrollment_share
    FROM rows
    WHERE included
)
SELECT
    state, school_year, nces_lea_id, district_name, student_group, group_type,
    group_enrollment::INTEGER AS group_enrollment,
    covered_enrollment::INTEGER AS covered_enrollment,
    schools_reporting_enrollment::INTEGER AS schools_reporting_enrollment,
    group_arrests::INTEGER AS group_arrests,
    covered_arrests::INTEGER AS covered_arrests,
    schools_reporting_arrests::INTEGER AS schools_reporting_arrests,
    group_enrollment_reporting_arrests::INTEGER AS group_enrollment_reporting_arrests,
    enrollment_reporting_arrests::INTEGER AS enrollment_reporting_arrests,
    group_referrals::INTEGER AS group_referrals,
    covered_referrals::INTEGER AS covered_referrals,
    schools_reporting_referrals::INTEGER AS schools_reporting_referrals,
    group_enrollment_reporting_referrals::INTEGER AS group_enrollment_reporting_referrals,
    enrollment_reporting_referrals::INTEGER AS enrollment_reporting_referrals,
    enrollment_share, arrest_share, referral_share,
    CASE WHEN arrest_enrollment_share <> 0 THEN arrest_share / arrest_enrollment_share END AS arrest_relative_rate,
    CASE WHEN referral_enrollment_share <> 0 THEN referral_share / referral_enrollment_share END AS referral_relative_rate
FROM shares;
