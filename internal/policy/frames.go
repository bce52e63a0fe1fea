package policy

import (
	"embed"
	"fmt"
	"io/fs"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/prosim/prosim/internal/catalog"
	"github.com/prosim/prosim/internal/scenario"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/yamlx"
)

//go:embed library/*.yaml
var builtinFS embed.FS

// BuiltinFiles are the YAML files of the built-in library (a run's manifest hashes them).
func BuiltinFiles() fs.FS { return builtinFS }

// Channels are the ways the behavioural model reads a frame.
var Channels = []string{"none", "moral", "social", "enforce", "economic"}

// Library is a set of policy frames with unique ids.
type Library struct {
	*catalog.Set[Frame]
}

// NewLibrary returns an empty library.
func NewLibrary() *Library { return &Library{catalog.New[Frame]("policy")} }

// Builtin returns the built-in frames (none, moral, social, enforce, economic): every
// library/*.yaml file embedded in the binary. Each frame's Source is "builtin". The files are
// read once per process (each call returns a library of its own).
func Builtin() (*Library, error) {
	s, err := builtin.Set()
	if err != nil {
		return nil, err
	}
	return &Library{s}, nil
}

var builtin = catalog.Builtin[Frame]{Kind: "policy", FS: builtinFS, Load: Load,
	Mark: func(f *Frame) { f.Source = "builtin" }}

// CatalogID and CatalogSource make a Frame a catalog item.
func (f Frame) CatalogID() string     { return f.ID }
func (f Frame) CatalogSource() string { return f.Source }

// Scenarios are the scenario ids a frame's texts may be keyed by: IDs, and those Maybe says a
// scenario file with problems of its own may define (nil: none).
type Scenarios struct {
	IDs   []string
	Maybe func(id string) bool
}

// LoadFile adds the frames of a user YAML file (one frame mapping, or a list of them). An id
// that is already in the library, or a texts key that names none of scen, is an error at its
// line, with the file's other problems: a misspelt key would show the default text instead.
func (l *Library) LoadFile(path string, scen Scenarios) error {
	return l.AddFile(path, func(data []byte, name string) ([]Frame, error) {
		return load(data, name, func(id string) (string, bool) {
			f, ok := l.Get(id)
			return f.Source, ok
		}, &scen)
	})
}

// Text is the frame's text for a scenario: its own text for the scenario, else Default, rendered
// with {{.amount}} (Amount) and {{.currency}}. A frame with neither gives "" when its channel is
// none (the no-policy condition), and an error otherwise, since showing nothing would silently
// turn a policy condition into a control.
func (f Frame) Text(scenarioID string, currency string) (string, error) {
	text, ok := f.Texts[scenarioID]
	if !ok {
		text = f.Default
	}
	if strings.TrimSpace(text) == "" {
		if f.Channel == "none" {
			return "", nil
		}
		return "", fmt.Errorf("policy %s (%s) has no text for scenario %s and no default text", f.ID, f.Source, scenarioID)
	}
	t, err := scenario.Template(f.ID, text)
	if err != nil {
		return "", fmt.Errorf("policy %s (%s): %v", f.ID, f.Source, err)
	}
	var b strings.Builder
	if err := t.Execute(&b, data(&f.Amount, currency)); err != nil {
		return "", fmt.Errorf("policy %s (%s), text for %s: %v", f.ID, f.Source, scenarioID, err)
	}
	return strings.TrimSpace(b.String()), nil
}

// HasText reports whether the frame says something specific to the scenario or has a default.
func (f Frame) HasText(scenarioID string) bool {
	return strings.TrimSpace(f.Texts[scenarioID]) != "" || strings.TrimSpace(f.Default) != ""
}

func data(amount *float64, currency string) map[string]any {
	d := map[string]any{"currency": currency}
	if amount != nil {
		d["amount"] = scenario.Number(*amount)
	}
	return d
}

// frameYAML is Frame as written: pointers tell an unset amount or strength from a zero one.
type frameYAML struct {
	ID       string            `yaml:"id"`
	Title    string            `yaml:"title"`
	Channel  string            `yaml:"channel"`
	Amount   *float64          `yaml:"amount"`
	Strength *float64          `yaml:"strength"`
	Default  string            `yaml:"default"`
	Texts    map[string]string `yaml:"texts"`
}

// Load decodes and checks the frames of one YAML file, named name in errors. The file holds one
// frame mapping or a list of them. Strength is 1 when not set (an explicit 0 is kept: a frame
// shown with no effect in the behavioural model). Every frame's Source is set to name.
func Load(data []byte, name string) ([]Frame, error) { return load(data, name, nil, nil) }

// load is Load with taken, which gives the source of an id a library has already (nil: none),
// and the scenarios texts may name (nil: not checked).
func load(data []byte, name string, taken func(id string) (string, bool), scen *Scenarios) ([]Frame, error) {
	loc, err := scenario.NewLocator(data, name)
	if err != nil {
		return nil, err
	}
	if loc.IsEmpty() {
		return nil, &yamlx.Error{File: name, Msg: "file has no policy frame (only comments or nothing)"}
	}
	var raw []frameYAML
	prefix := func(i int) string { return fmt.Sprintf("[%d].", i) }
	// Values of the wrong type and unknown keys are reported with the checks of the rest of
	// the file, which do not read them (decoded).
	l := yamlx.NewList(name)
	var decoded func(string) bool
	if loc.IsList() {
		var ok bool
		decoded, ok, err = loc.DecodeSound(&raw)
		if !ok {
			return nil, err
		}
		l.Add(err)
		if len(raw) == 0 && err == nil {
			return nil, &yamlx.Error{File: name, Msg: "the list of policy frames is empty"}
		}
	} else {
		var one frameYAML
		var ok bool
		decoded, ok, err = loc.DecodeSound(&one)
		if !ok {
			return nil, err
		}
		l.Add(err)
		raw = []frameYAML{one}
		prefix = func(int) string { return "" }
	}
	var out []Frame
	seen := map[string]int{}
	for i, r := range raw {
		p := prefix(i)
		f, err := check(r, p, loc, scen, decoded)
		l.Add(err)
		if j, ok := seen[f.ID]; ok && f.ID != "" {
			line, _ := loc.Line(prefix(j) + "id")
			l.Add(loc.Errorf(p+"id", "duplicate id %q (first defined on line %d)", f.ID, line))
		} else {
			seen[f.ID] = i
			if taken != nil && f.ID != "" {
				if src, ok := taken(f.ID); ok {
					l.Add(loc.Errorf(p+"id", "%s", scenario.Taken("policy frame", f.ID, src)))
				}
			}
		}
		f.Source = name
		out = append(out, f)
	}
	if err := l.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// check reports every problem of one frame (p is its path in the file: "[2]." or ""). decoded
// says which fields were decoded: a check that reads one that was not is skipped.
func check(r frameYAML, p string, loc *scenario.Locator, scen *Scenarios, decoded func(path string) bool) (Frame, error) {
	f := Frame{ID: r.ID, Title: r.Title, Channel: r.Channel, Default: r.Default, Texts: r.Texts, Strength: 1}
	l := yamlx.NewList("")
	switch {
	case !decoded(p + "id"):
	case r.ID == "":
		l.Add(loc.Errorf(p+"id", "id is required"))
	default:
		if why := table.IDProblem(r.ID); why != "" {
			l.Add(loc.Errorf(p+"id", "id %s", why))
		}
	}
	switch {
	case !decoded(p + "channel"):
	case r.Channel == "":
		l.Add(loc.Errorf(p+"channel", "channel is required (one of %s)", strings.Join(Channels, ", ")))
	case !contains(Channels, r.Channel):
		l.Add(loc.Errorf(p+"channel", "unknown channel %q (want one of %s)", r.Channel, strings.Join(Channels, ", ")))
	case r.Channel != "none" && strings.TrimSpace(r.Default) == "" && len(r.Texts) == 0 && decoded(p+"default") && decoded(p+"texts"):
		l.Add(loc.ErrorAt(p+"channel", p+"default", "a %s frame needs a default text or texts per scenario", r.Channel))
	}
	if r.Strength != nil {
		if s := *r.Strength; math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
			l.Add(loc.Errorf(p+"strength", "strength must be a number >= 0, got %g", s))
		}
		f.Strength = *r.Strength
	}
	if r.Amount != nil {
		if a := *r.Amount; math.IsNaN(a) || math.IsInf(a, 0) || a < 0 {
			l.Add(loc.Errorf(p+"amount", "amount must be a number >= 0, got %g", a))
		}
		f.Amount = *r.Amount
	}
	// Check every text now, so that a bad template or an {{.amount}} without an amount is
	// reported with its line when the file is loaded, not in the middle of a run: its
	// references statically, then by rendering it (a function's error, say).
	try := func(path, text string) error {
		t, err := scenario.Template(r.ID, text)
		if err != nil {
			return loc.TemplateError(path, text, err)
		}
		for _, k := range scenario.Refs(t) {
			switch {
			case k == "currency":
			case k == "amount" && r.Amount == nil && !decoded(p+"amount"):
				return nil // the amount is reported: the text is not rendered without it
			case k == "amount" && r.Amount == nil:
				return loc.Errorf(path, "the text uses {{.amount}} but the frame sets no amount")
			case k != "amount":
				return loc.Errorf(path, "the text uses {{.%s}}; a policy text knows only {{.amount}} and {{.currency}}", k)
			}
		}
		if err := t.Execute(new(strings.Builder), data(r.Amount, "yuan")); err != nil {
			return loc.Errorf(path, "bad template: %s", err)
		}
		return nil
	}
	if r.Default != "" {
		l.Add(try(p+"default", r.Default))
	}
	keys := make([]string, 0, len(r.Texts))
	for k := range r.Texts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch {
		case !table.IDShaped(k):
			l.Add(loc.KeyErrorf(p+"texts", k, "%q is not a scenario id (lower case letters, digits, '-' or '_')", k))
		case scen != nil && !slices.Contains(scen.IDs, k) && (scen.Maybe == nil || !scen.Maybe(k)):
			l.Add(loc.KeyErrorf(p+"texts", k, "no scenario %s in the library or the scenario files%s", k, yamlx.DidYouMean(k, scen.IDs)))
		case strings.TrimSpace(r.Texts[k]) == "":
			l.Add(loc.Errorf(p+"texts."+k, "text is empty (leave the scenario out to use the default)"))
		default:
			l.Add(try(p+"texts."+k, r.Texts[k]))
		}
	}
	return f, l.Err()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
