package persona

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const traitHeader = "empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion"

func TestCSVEveryErrorAtOnce(t *testing.T) {
	// Three bad rows with four problems, and a bad header: all reported in one error, each
	// at its line and column.
	in := "id,gender,age,marital,annual_income,currency,education,occupation,nickname," + traitHeader + "\n" +
		"p01,female,33,married,50220,yuan,college,nurse,x,3,3,3,3,3,3,3,3,3\n" +
		"p02,other,abc,married,50220,yuan,college,nurse,x,3,3,3,3,3,3,3,3,3\n" +
		"p03,male,40,married,50220,yuan,wizardry,nurse,x,3,3,3,3,3,3,3,3,9\n" +
		"p01,male,40,married\n"
	_, err := ReadCSV(strings.NewReader(in), "people.csv")
	var fes *FileErrors
	if !errors.As(err, &fes) {
		t.Fatalf("want *FileErrors, got %T %v", err, err)
	}
	want := []string{
		`people.csv:1:67: field nickname: unknown column`,
		`people.csv:3:5: field gender: unknown gender "other"`,
		`people.csv:3:11: field age: "abc" is not a whole number`,
		`people.csv:4:32: field education: unknown education level "wizardry"`,
		`people.csv:4:65: field extraversion: trait score 9 is outside 1..5`,
		`people.csv:5: row has 4 fields, the header has 18`,
	}
	if len(fes.Errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(fes.Errs), len(want), err)
	}
	for i, w := range want {
		if got := fes.Errs[i].Error(); !strings.HasPrefix(got, w) {
			t.Errorf("error %d:\n got %s\nwant %s...", i, got, w)
		}
	}
	if !strings.HasPrefix(err.Error(), "people.csv: 6 problems:\n  people.csv:1:67") {
		t.Errorf("message:\n%s", err)
	}
}

func TestErrorLimit(t *testing.T) {
	defer func(n int) { MaxErrors = n }(MaxErrors)
	MaxErrors = 3
	var b strings.Builder
	b.WriteString("id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n")
	for i := 1; i <= 10; i++ {
		fmt.Fprintf(&b, "%d,robot,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n", i)
	}
	_, err := ReadCSV(strings.NewReader(b.String()), "p.csv")
	var fes *FileErrors
	if !errors.As(err, &fes) || len(fes.Errs) != 3 || fes.More != 7 {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "p.csv: 10 problems:") || !strings.Contains(err.Error(), "... and 7 more (the first 3 are shown)") {
		t.Errorf("message:\n%s", err)
	}
}

func TestTextIDsAndDerivedColumns(t *testing.T) {
	// The user's file: text ids, no age_bracket or income_quintile, education synonyms.
	in := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n" +
		"p01,Female,33,married,9000,yuan,postgraduate,nurse,3,3,3,3,3,3,3,3,3\n" +
		"p02,male,61,widowed,26000,yuan,High School,retired,3,3,3,3,3,3,3,3,3\n" +
		"p10,male,95,single,200000,yuan,junior-high,retired,3,3,3,3,3,3,3,3,3\n"
	ps, err := ReadCSV(strings.NewReader(in), "p.csv")
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		id           int
		src, bracket string
		q            int
		edu          string
	}
	want := []got{{1, "p01", "30-34", 1, EduCollege}, {2, "p02", "60-64", 2, EduSeniorHigh}, {3, "p10", "95+", 5, EduJuniorHigh}}
	for i, p := range ps {
		if g := (got{p.ID, p.SourceID, p.AgeBracket, p.IncomeQuintile, p.Education}); g != want[i] {
			t.Errorf("row %d: got %+v, want %+v", i+1, g, want[i])
		}
	}
	// 26000 is nearer the 2nd quintile mean (20442) than the 3rd (32195); the boundary is the midpoint.
	for _, c := range []struct {
		income float64
		q      int
	}{{14828, 1}, {14829, 2}, {26318, 2}, {26319, 3}, {72637, 4}, {72638, 5}} {
		ps := []Persona{{Currency: "yuan", AnnualIncome: c.income}}
		deriveQuintiles(ps, []row{{needQ: true}})
		if ps[0].IncomeQuintile != c.q {
			t.Errorf("%v yuan: quintile %d, want %d", c.income, ps[0].IncomeQuintile, c.q)
		}
	}
}

func TestDerivedQuintileByRankInOtherCurrencies(t *testing.T) {
	// Ten people in dollars: ranks 0..9 give quintiles 1,1,2,2,...,5,5; the tied pair's mid-rank 8.5 is in the 5th.
	var b strings.Builder
	b.WriteString("id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n")
	incomes := []int{10, 20, 30, 40, 50, 60, 70, 80, 90, 90}
	for i, x := range incomes {
		fmt.Fprintf(&b, "%d,male,40,married,%d,USD,college,nurse,3,3,3,3,3,3,3,3,3\n", i+1, x)
	}
	ps, err := ReadCSV(strings.NewReader(b.String()), "p.csv")
	if err != nil {
		t.Fatal(err)
	}
	want := []int{1, 1, 2, 2, 3, 3, 4, 4, 5, 5}
	for i, p := range ps {
		if p.IncomeQuintile != want[i] || p.SourceID != "" || p.ID != i+1 {
			t.Errorf("row %d: %+v, want quintile %d", i+1, p, want[i])
		}
	}
}

func TestDerivedQuintileOfTiedIncomes(t *testing.T) {
	// Bracketed survey incomes (QA7 repro-11): 100 people in five brackets of 19, 20, 20, 20
	// and 21. Each bracket takes the quintile of its mid-rank, so the top bracket is the
	// highest fifth; sharing the lowest rank put it in the 4th and left the 5th empty.
	var b strings.Builder
	b.WriteString("id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n")
	brackets := []struct{ income, count, q int }{{15000, 19, 1}, {30000, 20, 2}, {45000, 20, 3}, {60000, 20, 4}, {90000, 21, 5}}
	want := map[int]int{}
	id := 0
	for _, br := range brackets {
		want[br.income] = br.q
		for range br.count {
			id++
			fmt.Fprintf(&b, "%d,male,40,married,%d,USD,college,nurse,3,3,3,3,3,3,3,3,3\n", id, br.income)
		}
	}
	ps, err := ReadCSV(strings.NewReader(b.String()), "p.csv")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if q := want[int(p.AnnualIncome)]; p.IncomeQuintile != q {
			t.Fatalf("agent %d earning %v: quintile %d, want %d", p.ID, p.AnnualIncome, p.IncomeQuintile, q)
		}
	}
	// Everyone tied: the middle quintile (from n = 5 on).
	for _, n := range []int{5, 6, 100, 1001} {
		if q := rankQuintile(0, n, n); q != 3 {
			t.Errorf("rankQuintile(0, %d, %d) = %d, want 3", n, n, q)
		}
	}
}

func TestTextIDErrors(t *testing.T) {
	in := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n" +
		"p01,female,33,married,9000,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		",female,33,married,9000,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"p01,female,33,married,9000,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n"
	_, err := ReadCSV(strings.NewReader(in), "p.csv")
	for _, w := range []string{"p.csv:3:1: field id: is empty", "p.csv:4:1: field id: duplicate id p01 (first on line 2)"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in:\n%v", w, err)
		}
	}
}

func TestAgentsCSVReadsBack(t *testing.T) {
	// results/agents.csv names the id agent_id and may add a study's columns (registered):
	// it reads back as the population that wrote it.
	RegisterAgentsColumn("test_degree")
	ps, _ := Sample(5, 3, SampleOptions{})
	ps[2].SourceID = "p03"
	var b bytes.Buffer
	if err := WriteCSV(&b, ps); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	lines[0] = strings.Replace(lines[0], "id,", "agent_id,", 1) + ",test_degree"
	for i := 1; i < len(lines); i++ {
		lines[i] += ",4"
	}
	got, err := ReadCSV(strings.NewReader(strings.Join(lines, "\n")), "agents.csv")
	if err != nil {
		t.Fatal(err)
	}
	for i := range ps {
		if got[i] != ps[i] {
			t.Errorf("agent %d: got %+v, want %+v", i+1, got[i], ps[i])
		}
	}
	// Outside an agents.csv (id, not agent_id) the study's column is unknown, as any other.
	lines[0] = strings.Replace(lines[0], "agent_id,", "id,", 1)
	if _, err := ReadCSV(strings.NewReader(strings.Join(lines, "\n")), "p.csv"); err == nil || !strings.Contains(err.Error(), "field test_degree: unknown column") {
		t.Errorf("got %v", err)
	}
}

func TestJSONEveryErrorWithColumn(t *testing.T) {
	in := `[
  {"id": "a", "gender": "female", "age": 33, "marital": "married", "annual_income": 9000, "currency": "yuan", "education": "college", "occupation": "nurse",
   "traits": {"empathic_concern": 3, "moral_identity": 3, "social_responsibility": 3, "altruistic_tendency": 3, "agreeableness": 3, "conscientiousness": 3, "neuroticism": 3, "openness": 3, "extraversion": 3}},
  {"id": "b", "gender": "female", "age": "33", "marital": "married", "annual_income": 9000, "currency": "yuan", "education": "college", "occupation": "nurse",
   "traits": {"empathic_concern": 3, "moral_identity": 3, "social_responsibility": 3, "altruistic_tendency": 3, "agreeableness": 3, "conscientiousness": 3, "neuroticism": 3, "openness": 7, "extraversion": 3}}
]`
	_, err := ReadJSON(strings.NewReader(in), "p.json")
	for _, w := range []string{`p.json:4:35: field age: "33" is a string`, `p.json:5:175: field traits.openness: trait score 7 is outside 1..5`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("want %q in:\n%v", w, err)
		}
	}
	// Without the errors: text ids, derived columns.
	in = strings.Replace(strings.Replace(in, `"33"`, `40`, 1), `"openness": 7`, `"openness": 2`, 1)
	ps, err := ReadJSON(strings.NewReader(in), "p.json")
	if err != nil {
		t.Fatal(err)
	}
	if ps[1].ID != 2 || ps[1].SourceID != "b" || ps[1].AgeBracket != "40-44" || ps[1].IncomeQuintile != 1 {
		t.Errorf("got %+v", ps[1])
	}
}

func TestJSONNullIsNotZero(t *testing.T) {
	obj := `{"id": 1, "source_id": null, "gender": "female", "age": 33, "age_bracket": null, "marital": "married", "income_quintile": null, "annual_income": 50220, "currency": "yuan", "education": "college", "occupation": "nurse", "traits": {"empathic_concern": 3, "moral_identity": 3, "social_responsibility": 3, "altruistic_tendency": 3, "agreeableness": 3, "conscientiousness": 3, "neuroticism": 3, "openness": 3, "extraversion": 3}}`
	// A computed or optional column that is null is left out: computed.
	ps, err := ReadJSONL(strings.NewReader(obj), "p.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	if p := ps[0]; p.AgeBracket != "30-34" || p.IncomeQuintile != 4 || p.SourceID != "" {
		t.Errorf("got %+v", p)
	}
	// A required one is an error, never 0 or "".
	for _, c := range []struct{ from, to, want string }{
		{`"age": 33`, `"age": null`, `p.jsonl:1:50: field age: null: want a whole number`},
		{`"annual_income": 50220`, `"annual_income": null`, `field annual_income: null: want a number`},
		{`"openness": 3`, `"openness": null`, `field traits.openness: null: want a number`},
		{`"occupation": "nurse"`, `"occupation": null`, `field occupation: null: want text (a string)`},
		{`"id": 1`, `"id": null`, `p.jsonl:1:2: field id: null: want a whole number or a text id`},
	} {
		in := strings.Replace(obj, c.from, c.to, 1)
		_, err := ReadJSONL(strings.NewReader(in), "p.jsonl")
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "outside") {
			t.Errorf("%s: got %v, want %q", c.to, err, c.want)
		}
	}
	// The original study's records too.
	in := bytes.Replace(prosim104JSON, []byte(`"Age": 33`), []byte(`"Age": null`), 1)
	if bytes.Equal(in, prosim104JSON) {
		t.Fatal("agent 1 has no \"Age\": 33")
	}
	if _, err := ReadJSON(bytes.NewReader(in), "a.json"); err == nil || !strings.Contains(err.Error(), "field Age: null: want a number") {
		t.Errorf("original: got %v", err)
	}
}

func TestErrorsInFileOrder(t *testing.T) {
	// Duplicate ids are found after every row: they are listed at their lines all the same,
	// also when the list is cut at MaxErrors.
	defer func(n int) { MaxErrors = n }(MaxErrors)
	head := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n"
	in := head +
		"1,female,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"1,female,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"2,robot,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"3,robot,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"3,female,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n"
	want := []string{
		"p.csv:3:1: field id: duplicate id 1",
		"p.csv:4:3: field gender: unknown gender",
		"p.csv:5:3: field gender: unknown gender",
		"p.csv:6:1: field id: duplicate id 3",
	}
	for _, max := range []int{50, 3} {
		MaxErrors = max
		_, err := ReadCSV(strings.NewReader(in), "p.csv")
		var fes *FileErrors
		if !errors.As(err, &fes) || len(fes.Errs) != min(max, 4) || fes.More != 4-len(fes.Errs) {
			t.Fatalf("MaxErrors %d: got %v", max, err)
		}
		for i, fe := range fes.Errs {
			if !strings.HasPrefix(fe.Error(), want[i]) {
				t.Errorf("MaxErrors %d, error %d: got %s, want %s...", max, i, fe, want[i])
			}
		}
	}
	// A missing id column is one error, not one more for every row.
	MaxErrors = 50
	_, err := ReadCSV(strings.NewReader(strings.ReplaceAll(head, "id,", "")+"female,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n"), "p.csv")
	if err == nil || err.Error() != "p.csv:1:1: field id: required column missing from the header" {
		t.Errorf("no id column: got %v", err)
	}
	_, err = ReadJSONL(strings.NewReader(`{"gender": "female", "age": 33, "marital": "married", "annual_income": 1, "currency": "yuan", "education": "college", "occupation": "nurse", "traits": {"empathic_concern": 3, "moral_identity": 3, "social_responsibility": 3, "altruistic_tendency": 3, "agreeableness": 3, "conscientiousness": 3, "neuroticism": 3, "openness": 3, "extraversion": 3}}`), "p.jsonl")
	if err == nil || err.Error() != "p.jsonl:1:1: field id: missing" {
		t.Errorf("no id key: got %v", err)
	}
}

func TestDuplicateIDWrittenTwoWays(t *testing.T) {
	in := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n" +
		"7,female,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"007,female,33,married,1,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n"
	if _, err := ReadCSV(strings.NewReader(in), "p.csv"); err == nil || err.Error() != "p.csv:3:1: field id: duplicate id 007 (first on line 2)" {
		t.Errorf("got %v", err)
	}
}

// Spreadsheet exports (QA7 repro-10): a tab-separated file is read (.csv or .tsv), a
// ';'-separated one is refused in one line, and column names are matched in any case.
func TestSpreadsheetDelimitersAndHeaderCase(t *testing.T) {
	header := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader
	row := "1,Female,34,married,60000,yuan,University,teacher,3.1,4,3.5,3.2,3.3,3.9,2.1,3.7,3.0"
	dir := t.TempDir()
	tab := strings.ReplaceAll(header+"\n"+row+"\n", ",", "\t")
	for _, name := range []string{"tab.csv", "tab.tsv"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(tab), 0o644); err != nil {
			t.Fatal(err)
		}
		if ps, err := Load(p); err != nil || len(ps) != 1 || ps[0].Occupation != "teacher" || ps[0].Traits.EmpathicConcern != 3.1 {
			t.Errorf("%s: %v, %v", name, ps, err)
		}
	}
	semi := strings.ReplaceAll(header+"\n"+row+"\n", ",", ";")
	if _, err := ReadCSV(strings.NewReader(semi), "semi.csv"); err == nil || !strings.HasPrefix(err.Error(), "semi.csv:1:1: the header separates its columns with ';'") || strings.Contains(err.Error(), "\n") {
		t.Errorf("semi: %v, want one line about the ';' delimiter", err)
	}
	caps := strings.Replace(header, "id,gender,age", "ID,Gender,Age", 1)
	if ps, err := ReadCSV(strings.NewReader(caps+"\n"+row+"\n"), "caps.csv"); err != nil || ps[0].Age != 34 {
		t.Errorf("caps: %v, %v", ps, err)
	}
	if _, err := ReadCSV(strings.NewReader("Id,"+header+"\n1,"+row+"\n"), "twice.csv"); err == nil || !strings.Contains(err.Error(), "twice.csv:1:4: field id: column appears twice in the header") {
		t.Errorf("Id and id: %v", err)
	}
}

// Messages in one form (QA7 repro-14): an empty number cell "is empty" as an empty text cell
// is; a cut JSONL line is placed at its end, and other broken JSON at the bad character.
func TestEmptyCellsAndBrokenJSONLines(t *testing.T) {
	csv := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n" +
		"1,male,,single,,,college,nurse,3,3,3,3,3,3,3,3,3\n"
	_, err := ReadCSV(strings.NewReader(csv), "p.csv")
	for _, w := range []string{"p.csv:2:8: field age: is empty", "p.csv:2:16: field annual_income: is empty", "p.csv:2:17: field currency: is empty"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
	_, err = ReadJSONL(strings.NewReader("{\"id\": 4, \"gender\": \"female\"\n{\"id\": x}\n"), "p.jsonl")
	for _, w := range []string{"p.jsonl:1:29: unexpected end of the line: the object is not closed", "p.jsonl:2:8: not JSON: invalid character 'x'"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
}

// A text id R or pandas read as a missing value is refused: it is agents.csv's source_id, the
// key users join their own data on (QA9 repro-10); it is a missing id (QA14 F7).
func TestTextIDReadAsMissing(t *testing.T) {
	in := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n" +
		"p01,Female,33,married,9000,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"NA,male,61,widowed,26000,yuan,college,retired,3,3,3,3,3,3,3,3,3\n"
	_, err := ReadCSV(strings.NewReader(in), "p.csv")
	if err == nil || !strings.Contains(err.Error(), `p.csv:3:1: field id: "NA" is a missing value (R/pandas): this column needs a value`) {
		t.Errorf("error = %v", err)
	}
}

// A file's own source_id R or pandas read as a missing value is not kept as text: agents.csv
// would carry it as the key users join on (QA10 repro-9: 1,NA and 2,None were accepted). It is
// read as missing, as R wrote it: an empty source_id (QA14 F7: it was refused, "choose another name").
func TestSourceIDReadAsMissing(t *testing.T) {
	in := "id,source_id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n" +
		"1,NA,Female,33,married,9000,yuan,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"2,None,male,61,widowed,26000,yuan,college,retired,3,3,3,3,3,3,3,3,3\n" +
		"3,,male,40,married,26000,yuan,college,retired,3,3,3,3,3,3,3,3,3\n" +
		"4,s4,male,40,married,26000,yuan,college,retired,3,3,3,3,3,3,3,3,3\n"
	ps, err := ReadCSV(strings.NewReader(in), "p.csv")
	if err != nil || len(ps) != 4 || ps[0].SourceID != "" || ps[1].SourceID != "" || ps[2].SourceID != "" || ps[3].SourceID != "s4" {
		t.Errorf("source_ids NA, None, empty, s4: %v %+v", err, ps)
	}
	ps, err = ReadJSONL(strings.NewReader(strings.Replace(okJSONL, `"id": 1,`, `"id": 1, "source_id": "null",`, 1)), "p.jsonl")
	if err != nil || ps[0].SourceID != "" {
		t.Errorf("jsonl: %v %+v", err, ps)
	}
}

// A currency R or pandas read as a missing value is refused at its cell: agents.csv carried NA,
// read back as missing (QA11); it is a missing value where one is needed (QA14 F7).
func TestCurrencyReadAsMissing(t *testing.T) {
	in := "id,gender,age,marital,annual_income,currency,education,occupation," + traitHeader + "\n" +
		"1,Female,33,married,9000,NA,college,nurse,3,3,3,3,3,3,3,3,3\n" +
		"2,male,61,widowed,26000, null ,college,retired,3,3,3,3,3,3,3,3,3\n" +
		"3,male,40,married,26000,yuan,college,retired,3,3,3,3,3,3,3,3,3\n"
	_, err := ReadCSV(strings.NewReader(in), "p.csv")
	for _, w := range []string{`p.csv:2:26: field currency: "NA" is a missing value (R/pandas): this column needs a value`,
		`p.csv:3:26: field currency: "null" is a missing value (R/pandas)`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("missing %q in %v", w, err)
		}
	}
	if err != nil && strings.Contains(err.Error(), "p.csv:4:") {
		t.Errorf("yuan is refused: %v", err)
	}
	_, err = ReadJSONL(strings.NewReader(`{"id": 1, "currency": "NaN", "gender": "female"}`+"\n"), "p.jsonl")
	if err == nil || !strings.Contains(err.Error(), `field currency: "NaN" is a missing value (R/pandas): this field needs a value`) {
		t.Errorf("jsonl: %v", err)
	}
}

// A JSONL line with the traits at the top level, as a CSV has them, says where they belong
// rather than calling each an unknown field.
func TestJSONLFlatTraitsSayWhereTheyGo(t *testing.T) {
	in := `{"id": 1, "gender": "female", "age": 33, "marital": "married", "annual_income": 9000, "currency": "yuan", "education": "college", "occupation": "nurse", "empathic_concern": 3, "moral_identity": 3, "social_responsibility": 3, "altruistic_tendency": 3, "agreeableness": 3, "conscientiousness": 3, "neuroticism": 3, "openness": 3, "extraversion": 3}` + "\n"
	_, err := ReadJSONL(strings.NewReader(in), "p.jsonl")
	if err == nil {
		t.Fatal("no error")
	}
	want := "p.jsonl:1:154: field empathic_concern: the trait scores go in a \"traits\" object, not at the top level: {..., \"traits\": {\"empathic_concern\": ...}}"
	if err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	// With a traits object, a trait left outside it is named as such.
	in = strings.Replace(in, `"empathic_concern": 3,`, `"traits": {"empathic_concern": 3},`, 1)
	_, err = ReadJSONL(strings.NewReader(in), "p.jsonl")
	if err == nil || !strings.Contains(err.Error(), `field moral_identity: a trait score at the top level: it goes in the "traits" object`) || strings.Contains(err.Error(), "unknown field") {
		t.Errorf("got %v", err)
	}
}

// A key given twice in a JSON persona is refused at its second place, at the top level and in
// the traits object, as a CSV column given twice is (QA15 F6: "age": 40, "age": 41 read as 41).
func TestJSONKeyTwice(t *testing.T) {
	in := strings.Replace(okJSONL, `"age": 30,`, `"age": 40, "age": 41,`, 1) +
		strings.Replace(strings.Replace(okJSONL, `"openness": 3,`, `"openness": 3, "open\u006eess": 4,`, 1), `"id": 1`, `"id": 2`, 1) +
		strings.Replace(okJSONL, `"id": 1`, `"id": 3, "note": {"age": 1, "age": 2}`, 1)
	_, err := ReadJSONL(strings.NewReader(in), "p.jsonl")
	if err == nil {
		t.Fatal("read a persona with a key twice")
	}
	msg := err.Error()
	for _, want := range []string{
		"p.jsonl:1:40: field age: key appears twice in the object",
		"p.jsonl:2:", "field traits.openness: key appears twice",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q; want %q", msg, want)
		}
	}
	for _, l := range strings.Split(msg, "\n") {
		if strings.Contains(l, "p.jsonl:3:") && strings.Contains(l, "twice") {
			t.Errorf("a nested object other than traits was checked: %q", l)
		}
	}
	if _, err := ReadJSONL(strings.NewReader(okJSONL), "p.jsonl"); err != nil {
		t.Errorf("a persona with each key once: %v", err)
	}
}
