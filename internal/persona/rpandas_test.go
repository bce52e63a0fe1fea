package persona

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Files as R and pandas write them (QA14): copies of the QA's reproduction files in
// testdata/rpandas, each a valid population of 16 to 20 people.

func TestBOMQuotedHeader(t *testing.T) {
	// R write.csv(fileEncoding="UTF-8-BOM") and pandas to_csv(encoding="utf-8-sig",
	// quoting=QUOTE_ALL/NONNUMERIC): a BOM, then "id". It was `1:4: bare " in non-quoted-field`.
	for _, f := range []string{"bom_q.csv", "bom.jsonl"} {
		ps, err := Load(filepath.Join("testdata/rpandas", f))
		if err != nil || len(ps) < 16 {
			t.Errorf("%s: %d personas, %v", f, len(ps), err)
		}
	}
	// pandas' to_json (traits at the top level) is read past its BOM: it was `1:1: not JSON`.
	_, err := Load("testdata/rpandas/bom.json")
	if want := "testdata/rpandas/bom.json:1:"; err == nil || !strings.Contains(err.Error(), want) ||
		!strings.Contains(err.Error(), `the trait scores go in a "traits" object`) {
		t.Errorf("bom.json: %v", err)
	}
	// The BOM is not a column: line 1's columns are counted from the byte after it.
	head := "id,nickname,gender,age,marital,annual_income,currency,education,occupation,empathic_concern,moral_identity,social_responsibility,altruistic_tendency,agreeableness,conscientiousness,neuroticism,openness,extraversion\n"
	for _, in := range []string{head, "\ufeff" + head, "\ufeff" + `"id","nickname"` + head[len("id,nickname"):]} {
		_, err := ReadCSV(strings.NewReader(in+"1,x,male,30,single,100,yuan,college,cook,3,3,3,3,3,3,3,3,3\n"), "p.csv")
		want := "p.csv:1:4: field nickname: unknown column"
		if strings.HasPrefix(in, "\ufeff\"") {
			want = "p.csv:1:6: field nickname: unknown column"
		}
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q...: got %v, want %s", in[:12], err, want)
		}
	}
	// A JSON error on line 1 is placed as without the BOM too.
	_, err = ReadJSONL(strings.NewReader("\ufeff{\"id\": 1, \"nick\": 2}\n"), "p.jsonl")
	if err == nil || !strings.Contains(err.Error(), "p.jsonl:1:11: field nick: unknown field") {
		t.Errorf("JSONL with a BOM: %v", err)
	}
}

func TestTSVEmptyCell(t *testing.T) {
	// A tab-separated file with empty source_id (every row) or age_bracket (one row) cells:
	// encoding/csv's TrimLeadingSpace joined the cell after an empty one (QA14 F2).
	for _, f := range []string{"tabs.tsv", "tabs_oneempty.tsv"} {
		ps, err := Load(filepath.Join("testdata/rpandas", f))
		if err != nil || len(ps) != 20 {
			t.Fatalf("%s: %d personas, %v", f, len(ps), err)
		}
		if ps[0].Gender != "male" || ps[0].Age != 50 || ps[0].SourceID != "" {
			t.Errorf("%s: first persona %+v", f, ps[0])
		}
	}
	// A comma file keeps skipping the space after ',' so that `, "quoted"` is a quoted value.
	in := "id, gender, age, marital, annual_income, currency, education, occupation, empathic_concern, moral_identity, social_responsibility, altruistic_tendency, agreeableness, conscientiousness, neuroticism, openness, extraversion\n" +
		`1, "male", 30, single, 100, yuan, college, "cook, chef", 3, 3, 3, 3, 3, 3, 3, 3, 3` + "\n"
	ps, err := ReadCSV(strings.NewReader(in), "p.csv")
	if err != nil || ps[0].Occupation != "cook, chef" {
		t.Errorf("`, \"quoted\"`: %v %+v", err, ps)
	}
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestJSONNaN(t *testing.T) {
	// Python's json.dump writes NaN and Infinity; encoding/json said `invalid character 'N'`,
	// in a one-line JSON file with no column (QA14 F6).
	obj := `{"id": 1, "gender": "male", "age": 30, "marital": "single", "income_quintile": %s, "annual_income": 100, "currency": "yuan", "education": "college", "occupation": "cook", "traits": {"empathic_concern": %s, "moral_identity": 3, "social_responsibility": 3, "altruistic_tendency": 3, "agreeableness": 3, "conscientiousness": 3, "neuroticism": 3, "openness": 3, "extraversion": 3}}`
	for _, c := range []struct{ q, ec, want string }{
		{"NaN", "3", `p:1:%d: field income_quintile: NaN is not JSON, which has no NaN or Infinity (Python's json.dump writes them for a missing or infinite float): write null, or leave the field out`},
		{"1", "-Infinity", `p:1:%d: field traits.empathic_concern: -Infinity is not JSON, which has no NaN or Infinity (Python's json.dump writes them for a missing or infinite float): this field needs a number`},
		{"1", "Infinity", `p:1:%d: field traits.empathic_concern: Infinity is not JSON`},
	} {
		line := strings.Replace(strings.Replace(obj, "%s", c.q, 1), "%s", c.ec, 1)
		lit := c.q
		if c.q == "1" {
			lit = c.ec
		}
		for _, f := range []struct {
			in  string
			col int
		}{
			{"[" + line + "]", 2 + strings.Index(line, lit)},
			{line + "\n", 1 + strings.Index(line, lit)},
		} {
			var err error
			if strings.HasPrefix(f.in, "[") {
				_, err = ReadJSON(strings.NewReader(f.in), "p")
			} else {
				_, err = ReadJSONL(strings.NewReader(f.in), "p")
			}
			want := strings.Replace(c.want, "%d", itoa(f.col), 1)
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s in %.1s: got\n%v\nwant\n%s", lit, f.in, err, want)
			}
		}
	}
}

var itoa = strconv.Itoa
