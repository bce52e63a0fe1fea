/*
Package persona builds the populations prosim simulates: seeded samples,
imports from files (including the original study's 104 agents), and the
second-person persona text given to models.

# Sampling

Sample(n, seed, opt) draws n personas with IDs 1..n from one PCG stream
(seed, opt.Stream): the same arguments always give the same population, and
Sample(n) is a prefix of Sample(m) for m > n. Marginals follow the original
study:

  - gender: male .511, female .489.
  - age bracket: 17 brackets 18-19, 20-24, ..., 90-94, 95+ weighted by China's
    2020 census counts (18-19 is two fifths of 15-19); age uniform in the
    bracket, 95+ drawn as 95-99.
  - marital status: single .199, married .712, divorced .027, widowed .063
    (these sum to 1.001 and are rescaled to 1).
  - education (highest completed): none .04, primary .25, junior high .36,
    senior high .16, college or more .19.
  - income quintile: 1..5 with equal weights. AnnualIncome is the quintile's
    per-capita disposable income (ChinaQuintileIncome2023, yuan a year) or
    opt.QuintileIncome; a currency other than yuan needs its own figures.
  - traits: empathic concern, moral identity, social responsibility and
    altruistic tendency each Normal(3, 0.5); agreeableness N(3.69, .47),
    conscientiousness N(3.29, .59), neuroticism N(2.96, .67), openness
    N(3.57, .59), extraversion N(3.19, .66); all clipped to [1, 5] and rounded
    to 0.01 like the original's scores. Traits are independent of the rest.

Unlike the original, attributes are not independent where independence gives
impossible people. Marital status and education are drawn given the age
bracket, and the income quintile given education, from joint tables built by
iterative proportional fitting: a census-like seed table (e.g. the share of
widows rising with age; older cohorts less schooled) is scaled until its
margins equal the stated ones, so the marginals above hold exactly in
expectation while the cells follow the seed. Zero cells stay zero, which gives
the hard constraints:

  - nobody under 25 is widowed and nobody under 20 divorced; under 1% of
    18-19 year-olds are married (China's legal marriage age is 20/22);
  - nobody aged 18-19 has completed college;
  - income rises with education (college: about 35% in the top fifth and 8%
    in the bottom; no schooling the reverse).

Occupation follows the original's rules with requirements added: everyone
over 60 is "retired"; 18-20 year-olds who completed junior high are
"student" (at senior high or college); everyone else is "unemployed" with
probability .052 or else has one of 19 jobs, uniformly among those whose
minimum education and age they meet: factory worker, migrant worker, farmer,
construction worker, waiter (none or primary up); courier, trader,
self-employed (primary); driver, salesperson, real estate agent (junior high);
nurse (senior high, 20+); primary school teacher, civil servant, programmer,
engineer (college, 22+); consultant (college, 24+); doctor (college, 25+);
professor (college, 30+). Occupations are plain lower-case words.

# Files

Load(path) picks the format by extension; ReadCSV, ReadJSONL and ReadJSON read
from any io.Reader. WriteCSV and WriteJSONL write files these read back exactly.

  - .csv: a header row of the column names (Columns) in any order, then one row
    per persona; the id column may be named agent_id, as in a run's agents.csv,
    whose study columns (RegisterAgentsColumn) are then skipped.
  - .jsonl: one Persona JSON object per line (traits nested under "traits");
    blank lines are skipped.
  - .json: a JSON array of Persona objects, or the original study's agent file
    (detected by its "MaritalStatus"/"EducationLevel" keys).

docs/population.md is the user's reference: required and optional columns,
allowed values, education synonyms. In short: age_bracket and income_quintile
may be left out and are computed (the bracket of the age; in yuan the quintile
whose 2023 national mean is nearest, otherwise the rank in the file); text ids
(e.g. "p01") make ids the file positions 1..n and are kept as SourceID; unknown
columns or keys are errors. Every problem of a file is reported at once (up to
MaxErrors, as a *FileErrors; a single one as its *FieldError), each naming the
file, line, column and field, e.g.

	people.csv:14:9: field age: "abc" is not a whole number

# The original study's agents

Builtin("prosim104") returns the original's 104 agents (an embedded copy of
its agent file) with the same IDs, ages, brackets and trait scores, converted:
its "MonthlyIncome" figures are annual quintile means, so they become
AnnualIncome in yuan, and the quintile is the rank among the file's five
distinct figures (9215 .. 95055; files with other than five use the 2023
table); occupation codes become words ("CivilServant" -> "civil servant",
"Worker" -> "factory worker", "HouseAgent" -> "real estate agent", "WaterEng"
-> "water engineer", others split at capitals). Its implausible combinations
(a widowed 18-year-old, professors with junior-high schooling) are kept, so
results compare agent for agent.

# Persona text

Render(p, opt) writes second person: age, marital status and gender; education;
occupation; monthly income (annual/12, rounded) with the yearly figure and the
quintile as "lowest fifth" .. "highest fifth"; then one sentence per trait
with what it means and a level word from Level: z = (score-mean)/sd against
the trait's reference distribution above, z <= -2 "very low", <= -1 "low",
< +1 "moderate", < +2 "high", else "very high". RenderOptions adds the score
and/or the reference average.
*/
package persona
