package report

// pageHTML is the report page. Everything it needs is inline: no script, font, image or
// style sheet is fetched.
const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>{{.State}} {{.SchoolYear}}: support staff, police and arrests by district</title>
<style>
:root { --ink:#1f2933; --muted:#52606d; --line:#d9e2ec; --bg:#f7f9fb; --warn:#b91c1c; --accent:#1f5f99; }
* { box-sizing: border-box; }
body { margin:0; font-family:"Liberation Sans", Arial, Helvetica, sans-serif; color:var(--ink); background:#fff; line-height:1.45; }
header { background:var(--accent); color:#fff; padding:28px 40px 22px; }
header h1 { margin:0 0 6px; font-size:28px; font-weight:700; }
header p { margin:0; font-size:15px; opacity:.92; }
main { max-width:1200px; margin:0 auto; padding:24px 40px 48px; }
section { margin:28px 0; }
h2 { font-size:20px; margin:0 0 10px; border-bottom:2px solid var(--line); padding-bottom:6px; }
.notes { display:grid; grid-template-columns:repeat(auto-fit,minmax(260px,1fr)); gap:14px; }
.note { background:var(--bg); border:1px solid var(--line); border-radius:6px; padding:12px 16px; font-size:14px; }
.note h3 { margin:0 0 6px; font-size:14px; text-transform:uppercase; letter-spacing:.04em; color:var(--muted); }
.note ul { margin:0; padding-left:18px; }
figure { margin:0 0 28px; border:1px solid var(--line); border-radius:6px; padding:14px 16px 10px; }
figure svg { display:block; width:100%; height:auto; }
figcaption { font-size:14px; color:var(--muted); margin-top:6px; }
figcaption strong { color:var(--ink); font-size:16px; display:block; margin-bottom:2px; }
.table-wrap { overflow-x:auto; border:1px solid var(--line); border-radius:6px; }
table { border-collapse:collapse; width:100%; font-size:12px; }
caption { text-align:left; padding:10px 12px; font-weight:700; font-size:15px; }
th, td { padding:5px 7px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th { background:var(--bg); position:sticky; top:0; font-weight:700; vertical-align:bottom; white-space:normal; }
th:first-child, td:first-child { text-align:left; white-space:normal; min-width:170px; }
tbody tr:nth-child(even) { background:#fbfcfd; }
td.over { color:var(--warn); font-weight:700; }
td.na { color:#9aa5b1; font-style:italic; }
footer { font-size:12px; color:var(--muted); border-top:1px solid var(--line); padding:14px 40px; }
</style>
</head>
<body>
<header>
<h1>{{.State}} school districts, {{.SchoolYear}}</h1>
<p>Support staff against recommended ratios, police in schools, police contract costs, and arrests and referrals by student group: {{len .Districts}} districts.</p>
</header>
<main>
<section aria-labelledby="about">
<h2 id="about">About these figures</h2>
<div class="notes">
<div class="note"><h3>Sources</h3>
<p>District staffing and incident counts as published in the Civil Rights Data Collection (CRDC) layout, and the districts' police contracts, as ingested into the lake.</p>
{{with .Sources}}<ul>{{range .}}<li><code>{{.}}</code></li>{{end}}</ul>{{end}}
</div>
<div class="note"><h3>Standards</h3>
<ul>
<li>School counselor: {{.Standards.Counselor}} students per FTE (ASCA)</li>
<li>School nurse: {{.Standards.Nurse}} (NASN)</li>
<li>School psychologist: {{.Standards.Psychologist}} (NASP)</li>
<li>School social worker: {{.Standards.SocialWorker}} (SSWAA)</li>
</ul>
{{with .CostsNote}}<p>{{.}}</p>{{end}}
</div>
<div class="note"><h3>Missing data</h3>
<p>Figures a source does not report, or suppresses, are unknown and shown as <em>n/a</em>, never as zero. A district figure summed over schools covers only the schools that reported it; a ratio or rate covers only the schools that reported both its count and their enrollment, and the table says so where fewer than all schools reported. A police contract counts for the school year when its term overlaps July 1 to June 30 of that year.</p>
</div>
</div>
</section>

<section aria-labelledby="charts">
<h2 id="charts">Charts</h2>
{{range .Figures}}
<figure id="{{.ID}}" aria-labelledby="{{.ID}}-caption">
{{if .SVG}}{{.SVG}}{{else}}<p>{{.Empty}}</p>{{end}}
<figcaption id="{{.ID}}-caption"><strong>{{.Title}}</strong>{{.Caption}}</figcaption>
</figure>
{{end}}
</section>

<section aria-labelledby="table">
<h2 id="table">The figures behind the charts</h2>
<div class="table-wrap">
<table>
<caption>Districts of {{.State}}, {{.SchoolYear}}</caption>
<thead><tr>
<th scope="col">District (NCES ID)</th><th scope="col">Enrollment</th>
<th scope="col">Students per counselor ({{.Standards.Counselor}})</th>
<th scope="col">per nurse ({{.Standards.Nurse}})</th>
<th scope="col">per psychologist ({{.Standards.Psychologist}})</th>
<th scope="col">per social worker ({{.Standards.SocialWorker}})</th>
<th scope="col">Support-staff gap (FTE)</th><th scope="col">Sworn officers (FTE)</th>
<th scope="col">Security guards (FTE)</th><th scope="col">Schools with police, no counselor</th>
<th scope="col">Arrests</th><th scope="col">Arrests per 1,000</th><th scope="col">Referrals per 1,000</th>
<th scope="col">Police contract</th><th scope="col">District cost</th><th scope="col">Cost per student</th>
</tr></thead>
<tbody>
{{- $std := .Standards}}
{{range .Rows}}<tr>
<th scope="row">{{.Name}} <small>({{.NCESID}})</small></th>
<td{{if missing .Enrollment}} class="na"{{end}}>{{int .Enrollment}}</td>
<td class="{{if over .StudentsPerCounselor $std.Counselor}}over{{else if missing .StudentsPerCounselor}}na{{end}}">{{num 0 .StudentsPerCounselor}}{{with cover .SchoolsReportingCounselors .Schools "counselors"}}<br><small>{{.}}</small>{{end}}</td>
<td class="{{if over .StudentsPerNurse $std.Nurse}}over{{else if missing .StudentsPerNurse}}na{{end}}">{{num 0 .StudentsPerNurse}}{{with cover .SchoolsReportingNurses .Schools "nurses"}}<br><small>{{.}}</small>{{end}}</td>
<td class="{{if over .StudentsPerPsychologist $std.Psychologist}}over{{else if missing .StudentsPerPsychologist}}na{{end}}">{{num 0 .StudentsPerPsychologist}}{{with cover .SchoolsReportingPsychologists .Schools "psychologists"}}<br><small>{{.}}</small>{{end}}</td>
<td class="{{if over .StudentsPerSocialWorker $std.SocialWorker}}over{{else if missing .StudentsPerSocialWorker}}na{{end}}">{{num 0 .StudentsPerSocialWorker}}{{with cover .SchoolsReportingSocialWorkers .Schools "social workers"}}<br><small>{{.}}</small>{{end}}</td>
<td{{if missing .SupportGapFTE}} class="na"{{end}}>{{num 1 .SupportGapFTE}}</td>
<td{{if missing .SwornOfficersFTE}} class="na"{{end}}>{{num 1 .SwornOfficersFTE}}</td>
<td{{if missing .SecurityGuardsFTE}} class="na"{{end}}>{{num 1 .SecurityGuardsFTE}}</td>
<td{{if missing .SchoolsWithPoliceNoCounselor}} class="na"{{end}}>{{int .SchoolsWithPoliceNoCounselor}}</td>
<td{{if missing .Arrests}} class="na"{{end}}>{{int .Arrests}}</td>
<td{{if missing .ArrestsPer1000}} class="na"{{end}}>{{num 1 .ArrestsPer1000}}{{with cover .SchoolsReportingArrests .Schools "arrests"}}<br><small>{{.}}</small>{{end}}</td>
<td{{if missing .ReferralsPer1000}} class="na"{{end}}>{{num 1 .ReferralsPer1000}}{{with cover .SchoolsReportingReferrals .Schools "referrals"}}<br><small>{{.}}</small>{{end}}</td>
<td{{if missing .ContractStatus}} class="na"{{end}}>{{str .ContractStatus}}{{if notInForce .ContractInForce}}<br><small>none in force this year</small>{{end}}</td>
<td{{if missing .DistrictCost}} class="na"{{end}}>{{dollars .DistrictCost}}</td>
<td{{if missing .ContractCostPerStudent}} class="na"{{end}}>{{dollars .ContractCostPerStudent}}</td>
</tr>
{{end}}</tbody>
</table>
</div>
</section>

<section aria-labelledby="groups">
<h2 id="groups">Student groups, statewide</h2>
<div class="table-wrap">
<table>
<caption>Shares and relative rates by student group, {{.State}} {{.SchoolYear}}</caption>
<thead><tr><th scope="col">Group</th><th scope="col">Enrollment</th><th scope="col">Share of enrollment</th>
<th scope="col">Arrests</th><th scope="col">Share of arrests</th><th scope="col">Arrest relative rate</th>
<th scope="col">Referrals</th><th scope="col">Share of referrals</th><th scope="col">Referral relative rate</th></tr></thead>
<tbody>
{{range .GroupRows}}<tr><th scope="row">{{.Label}}</th>
<td>{{int .Enrollment}}</td><td>{{pct .EnrollmentShare}}</td>
<td>{{int .Arrests}}</td><td>{{pct .ArrestShare}}</td><td>{{num 2 .ArrestRate}}</td>
<td>{{int .Referrals}}</td><td>{{pct .ReferralShare}}</td><td>{{num 2 .ReferralRate}}</td></tr>
{{end}}</tbody>
</table>
</div>
</section>
</main>
<footer>Generated by districtlake {{.Generated}}{{with .RunID}}, run {{.}}{{end}}. Every figure is also in the lake's <code>comparison</code> and <code>comparison_groups</code> datasets.</footer>
</body>
</html>
`
