package policy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/scenario"
)

func TestBuiltin(t *testing.T) {
	l, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range l.List() {
		ids = append(ids, f.ID)
	}
	if got := strings.Join(ids, ","); got != "economic,enforce,moral,none,social" {
		t.Fatalf("built-in frames %s", got)
	}
	sl, err := scenario.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range l.List() {
		if f.Source != "builtin" || f.Strength != 1 {
			t.Errorf("%s: source %q strength %g", f.ID, f.Source, f.Strength)
		}
		if f.Channel != f.ID {
			t.Errorf("built-in frame %s has channel %s", f.ID, f.Channel)
		}
		for _, sc := range sl.List() {
			if sc.Kind != "vignette" {
				continue
			}
			if f.ID != "none" {
				if _, ok := f.Texts[sc.ID]; !ok {
					t.Errorf("frame %s has no text of its own for vignette %s", f.ID, sc.ID)
				}
			}
			text, err := f.Text(sc.ID, "yuan")
			if err != nil {
				t.Errorf("%s/%s: %v", f.ID, sc.ID, err)
				continue
			}
			if (text == "") != (f.ID == "none") {
				t.Errorf("%s/%s: text %q", f.ID, sc.ID, text)
			}
			if strings.Contains(text, "{{") || strings.Contains(text, "<no value>") {
				t.Errorf("%s/%s: unrendered %q", f.ID, sc.ID, text)
			}
			if _, err := scenario.Compose(sc, nil, "yuan", text); err != nil {
				t.Errorf("%s/%s: %v", f.ID, sc.ID, err)
			}
		}
		// Every frame has a default for scenarios it does not name (user scenarios).
		if _, err := f.Text("some_user_scenario", "yuan"); err != nil {
			t.Errorf("%s: %v", f.ID, err)
		}
	}
	en, _ := l.Get("enforce")
	if txt, _ := en.Text("donating", "yuan"); !strings.Contains(txt, "compulsory donation of 1000 yuan") {
		t.Errorf("enforce/donating = %q", txt)
	}
	ec, _ := l.Get("economic")
	if txt, _ := ec.Text("volunteering", "dollars"); !strings.Contains(txt, "stipend of 100 dollars") {
		t.Errorf("economic/volunteering = %q", txt)
	}
	ec.Amount = 250 // an experiment may change the amount
	if txt, _ := ec.Text("volunteering", "yuan"); !strings.Contains(txt, "250 yuan") {
		t.Errorf("changed amount not shown: %q", txt)
	}
}

func TestTextErrors(t *testing.T) {
	f := Frame{ID: "x", Channel: "moral", Texts: map[string]string{"a": "Be good."}, Source: "x.yaml"}
	if _, err := f.Text("b", "yuan"); err == nil || !strings.Contains(err.Error(), "no text for scenario b") {
		t.Errorf("missing text error = %v", err)
	}
	if got, err := (Frame{ID: "n", Channel: "none"}).Text("b", "yuan"); got != "" || err != nil {
		t.Errorf("none frame = %q, %v", got, err)
	}
}

func TestLoadFileAndClash(t *testing.T) {
	l, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if err := l.LoadFile("testdata/good.yaml", Scenarios{IDs: []string{"volunteering"}}); err != nil {
		t.Fatal(err)
	}
	f, ok := l.Get("praise")
	if !ok || f.Strength != 1 || f.Source != "testdata/good.yaml" {
		t.Fatalf("praise = %+v", f)
	}
	half, _ := l.Get("half_stipend")
	if half.Strength != 0.5 || half.Amount != 50 {
		t.Fatalf("half_stipend = %+v", half)
	}
	zero, _ := l.Get("placebo")
	if zero.Strength != 0 {
		t.Fatalf("explicit strength 0 not kept: %g", zero.Strength)
	}
	if txt, _ := half.Text("volunteering", "yuan"); txt != "You will get 50 yuan for the day." {
		t.Fatalf("half_stipend text %q", txt)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "moral.yaml")
	if err := os.WriteFile(p, []byte("id: moral\nchannel: moral\ndefault: Be good.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := l.LoadFile(p, Scenarios{}); err == nil || !strings.Contains(err.Error(), p+`:1:5: field id: id "moral" is already a built-in policy frame`) {
		t.Fatalf("clash error = %v", err)
	}
}

// Each bad file's first line is "# want: <regexp>", matched against the error after "file:".
func TestBadFiles(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad_*.yaml")
	if len(files) < 8 {
		t.Fatalf("only %d bad files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, _ := os.ReadFile(f)
			first, _, _ := strings.Cut(string(data), "\n")
			want := strings.TrimPrefix(first, "# want: ")
			_, err := Load(data, f)
			if err == nil {
				t.Fatalf("no error, want %s", want)
			}
			if !regexp.MustCompile("^" + regexp.QuoteMeta(f) + ":" + want).MatchString(err.Error()) {
				t.Fatalf("error %q\n does not match %s:%s", err, f, want)
			}
		})
	}
}

// Several YAML documents in one file are an error, not the first document read alone.
func TestLoadRejectsSeveralDocuments(t *testing.T) {
	src := "id: a\nchannel: moral\ndefault: A.\n---\nid: b\nchannel: moral\ndefault: B.\n"
	_, err := Load([]byte(src), "pol.yaml")
	if err == nil || !strings.Contains(err.Error(), "pol.yaml:4") || !strings.Contains(err.Error(), "2 YAML documents") {
		t.Fatalf("want an error at pol.yaml:4 (the --- of the second document) about 2 documents, got %v", err)
	}
}

// A texts key that names no scenario is an error at its line, with the closest id: the frame
// would show its default text with that scenario instead (QA9 repro-4). A key a scenario file
// with problems may define is left to that file's errors.
func TestTextsKeyNamesAScenario(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pol.yaml")
	if err := os.WriteFile(p, []byte("id: blood_leave\nchannel: economic\namount: 5\ndefault: \"Generic.\"\ntexts:\n  blod_drive: \"Specific.\"\n  pending: \"Other.\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	scen := Scenarios{IDs: []string{"blood_drive", "volunteering"}, Maybe: func(id string) bool { return id == "pending" }}
	l := NewLibrary()
	err := l.LoadFile(p, scen)
	want := p + `:6:3: field texts.blod_drive: no scenario blod_drive in the library or the scenario files (did you mean blood_drive?)`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	scen.IDs = append(scen.IDs, "blod_drive")
	if err := NewLibrary().LoadFile(p, scen); err != nil {
		t.Fatalf("keys naming scenarios: %v", err)
	}
}

// The built-in frames' texts name built-in scenarios.
func TestBuiltinTextsNameBuiltinScenarios(t *testing.T) {
	frames, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	scen, err := scenario.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range frames.List() {
		for k := range f.Texts {
			if _, ok := scen.Get(k); !ok {
				t.Errorf("frame %s: texts.%s names no built-in scenario", f.ID, k)
			}
		}
	}
}
