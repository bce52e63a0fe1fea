package persona

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestBuiltinProsim104(t *testing.T) {
	ps, err := Builtin("prosim104")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 104 {
		t.Fatalf("got %d agents, want 104", len(ps))
	}
	want := Persona{ID: 1, Gender: Female, Age: 33, AgeBracket: "30-34", Marital: Married,
		IncomeQuintile: 4, AnnualIncome: 50220, Currency: "yuan", Education: EduCollege, Occupation: Unemployed,
		Traits: Traits{EmpathicConcern: 3.03, MoralIdentity: 4.08, SocialResponsibility: 3.67, AltruisticTendency: 3.06,
			Agreeableness: 3.45, Conscientiousness: 3.85, Neuroticism: 3.43, Openness: 4.11, Extraversion: 3.1}}
	if !reflect.DeepEqual(ps[0], want) {
		t.Errorf("agent 1:\n got %+v\nwant %+v", ps[0], want)
	}
	if p := ps[1]; p.Occupation != "civil servant" || p.Education != EduJuniorHigh || p.IncomeQuintile != 2 || p.AnnualIncome != 20442 {
		t.Errorf("agent 2 = %+v, want a civil servant with junior high, quintile 2, 20442 yuan a year", p)
	}
	// Quintiles follow the five distinct income figures (counts from the file).
	wantQ := map[int]int{1: 20, 2: 23, 3: 17, 4: 26, 5: 18}
	gotQ := map[int]int{}
	for i, p := range ps {
		if p.ID != i+1 {
			t.Fatalf("agent at index %d has id %d", i, p.ID)
		}
		gotQ[p.IncomeQuintile]++
		if strings.ContainsAny(p.Occupation, "ABCDEFGHIJKLMNOPQRSTUVWXYZ_") {
			t.Errorf("agent %d: occupation code leaked: %q", p.ID, p.Occupation)
		}
	}
	if !reflect.DeepEqual(gotQ, wantQ) {
		t.Errorf("quintile counts %v, want %v", gotQ, wantQ)
	}
	if _, err := Builtin("nope"); err == nil {
		t.Error("unknown built-in accepted")
	}
}

func TestLoadOriginalFile(t *testing.T) {
	// The original's file, loaded from disk, gives the same as the built-in copy.
	path := filepath.Join(t.TempDir(), "agents.json")
	if err := os.WriteFile(path, prosim104JSON, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := Builtin("prosim104")
	if !reflect.DeepEqual(got, want) {
		t.Error("Load of the original file differs from Builtin(prosim104)")
	}
}

func TestOccupationWords(t *testing.T) {
	for code, want := range map[string]string{
		"CivilServant": "civil servant", "Doctor": "doctor", "WaterEng": "water engineer",
		"SelfEmp": "self-employed", "BusDriver": "bus driver", "ITManager": "it manager",
	} {
		if got := occupationWords(code); got != want {
			t.Errorf("occupationWords(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	ps, err := Sample(300, 11, SampleOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, f func(*bytes.Buffer) error) string {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	paths := []string{
		write("people.csv", func(b *bytes.Buffer) error { return WriteCSV(b, ps) }),
		write("people.jsonl", func(b *bytes.Buffer) error { return WriteJSONL(b, ps) }),
		write("people.json", func(b *bytes.Buffer) error {
			data, err := json.MarshalIndent(ps, "", "  ")
			b.Write(data)
			return err
		}),
	}
	for _, p := range paths {
		got, err := Load(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !reflect.DeepEqual(got, ps) {
			t.Errorf("%s: round trip changed the population", filepath.Base(p))
		}
	}
}

func TestCSVColumnOrderAndDerivedBracket(t *testing.T) {
	// Columns may come in any order; an empty age_bracket is filled from age.
	in := "age,id,gender,age_bracket,marital,income_quintile,annual_income,currency,education,occupation," +
		"extraversion,openness,neuroticism,conscientiousness,agreeableness,altruistic_tendency,social_responsibility,moral_identity,empathic_concern\n" +
		"61,5,Male,,Widowed,1,9215,yuan,primary,retired,1,2,3,4,5,1.5,2.5,3.5,4.5\n"
	ps, err := ReadCSV(strings.NewReader(in), "x.csv")
	if err != nil {
		t.Fatal(err)
	}
	p := ps[0]
	if p.ID != 5 || p.Age != 61 || p.AgeBracket != "60-64" || p.Gender != Male || p.Marital != Widowed ||
		p.Traits.Extraversion != 1 || p.Traits.EmpathicConcern != 4.5 {
		t.Errorf("got %+v", p)
	}
}

func TestBadFiles(t *testing.T) {
	cases := map[string]string{
		"bad_age.csv":         `bad_age.csv:3:8: field age: "abc" is not a whole number`,
		"trait_range.csv":     `trait_range.csv:2:54: field empathic_concern: trait score 5.5 is outside 1..5`,
		"gender.csv":          `gender.csv:2:3: field gender: unknown gender "other"`,
		"dup_id.csv":          `dup_id.csv:3:1: field id: duplicate id 1 (first on line 2)`,
		"missing_col.csv":     `missing_col.csv:1:1: field currency: required column missing from the header`,
		"bracket.csv":         `bracket.csv:2:13: field age_bracket: "35-39" does not contain age 33`,
		"empty.csv":           `empty.csv: file is empty`,
		"header_only.csv":     `header_only.csv: no personas`,
		"bad.jsonl":           `bad.jsonl:2:27: field age: "33" is a string, not a whole number`,
		"missing.jsonl":       `missing.jsonl:1:181: field traits.openness: missing`,
		"unknown.jsonl":       `unknown.jsonl:1:9: field nmae: unknown field`,
		"unknown_trait.jsonl": `unknown_trait.jsonl:3:191: field traits.honesty: unknown trait`,
		"empty.jsonl":         `empty.jsonl: no personas`,
		"bad_original.json":   `bad_original.json:40: field EducationLevel: unknown education level "Masters"`,
		"truncated.json":      `truncated.json:3: invalid JSON`,
	}
	for file, want := range cases {
		_, err := Load(filepath.Join("testdata", file))
		if err == nil {
			t.Errorf("%s: loaded without error, want %q", file, want)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %q\nwant it to contain %q", file, err, want)
		}
	}
	if _, err := Load("people.txt"); err == nil || !strings.Contains(err.Error(), "unknown population file type") {
		t.Errorf("unknown extension: %v", err)
	}
}

func TestValidate(t *testing.T) {
	ps, _ := Sample(3, 1, SampleOptions{})
	if err := Validate(ps); err != nil {
		t.Fatal(err)
	}
	ps[2].ID = 1
	if err := Validate(ps); err == nil || !strings.Contains(err.Error(), "duplicate id 1") {
		t.Errorf("duplicate id: %v", err)
	}
	ps[2].ID = 3
	ps[1].Traits.Openness = 0.5
	if err := Validate(ps); err == nil || !strings.Contains(err.Error(), "field openness") {
		t.Errorf("trait out of range: %v", err)
	}
}
