package scenario

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/prosim/prosim/internal/catalog"
	"github.com/prosim/prosim/internal/game"
	"github.com/prosim/prosim/internal/schema"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/yamlx"
)

//go:embed library/*.yaml
var builtinFS embed.FS

// BuiltinFiles are the YAML files of the built-in library (a run's manifest hashes them).
func BuiltinFiles() fs.FS { return builtinFS }

// Library is a set of scenarios with unique ids.
type Library struct {
	*catalog.Set[Scenario]
	used *sync.Map // ids Get found
}

// NewLibrary returns an empty library.
func NewLibrary() *Library { return newLibrary(catalog.New[Scenario]("scenario")) }

func newLibrary(s *catalog.Set[Scenario]) *Library { return &Library{s, new(sync.Map)} }

// Get returns the scenario with the given id, and remembers the id for Used.
func (l *Library) Get(id string) (Scenario, bool) {
	sc, ok := l.Set.Get(id)
	if ok {
		if _, seen := l.used.Load(id); !seen {
			l.used.Store(id, true)
		}
	}
	return sc, ok
}

// Used are the ids Get has found, sorted: the scenarios a study made on the library reads, so
// that the runner can say something about them (built-in amounts sized for yuan) without
// asking each study which it uses.
func (l *Library) Used() []string {
	var ids []string
	l.used.Range(func(k, _ any) bool {
		ids = append(ids, k.(string))
		return true
	})
	slices.Sort(ids)
	return ids
}

// Builtin returns the built-in library: every library/*.yaml file embedded in the binary (the
// Study 1 vignettes and the economic games). Each scenario's Source is "builtin". The files
// are read once per process (each call returns a library of its own).
func Builtin() (*Library, error) {
	s, err := builtin.Set()
	if err != nil {
		return nil, err
	}
	return newLibrary(s), nil
}

var builtin = catalog.Builtin[Scenario]{Kind: "scenario", FS: builtinFS,
	Load: func(data []byte, name string) ([]Scenario, error) {
		scs, err := load(data, name, nil, nil)
		if err != nil {
			return nil, err
		}
		return scs, nil
	},
	Mark: func(sc *Scenario) { sc.Source = "builtin" }}

// CatalogID and CatalogSource make a Scenario a catalog item.
func (sc Scenario) CatalogID() string     { return sc.ID }
func (sc Scenario) CatalogSource() string { return sc.Source }

// builtinGameParams are the parameters a game gives its scenarios: those of the built-in
// scenarios of the game (the games render a user's scenario with the built-in one's
// parameters and terms).
func builtinGameParams(game string) []string {
	gameParamsOnce.Do(func() {
		gameParams = map[string][]string{}
		l, err := Builtin()
		if err != nil {
			return // reported by every use of the built-in library
		}
		for _, sc := range l.List() {
			if sc.Kind == "game" {
				for k := range sc.Params {
					gameParams[sc.Game] = append(gameParams[sc.Game], k)
				}
			}
		}
	})
	return gameParams[game]
}

var (
	gameParamsOnce sync.Once
	gameParams     map[string][]string
)

// LoadFile adds the scenarios of a user YAML file (one scenario mapping, or a list of them).
// An id that is already in the library is an error at the id's line, with the file's other
// problems.
func (l *Library) LoadFile(path string) error {
	return l.AddFile(path, func(data []byte, name string) ([]Scenario, error) {
		return load(data, name, builtinGameParams, func(id string) (string, bool) {
			sc, ok := l.Set.Get(id)
			return sc.Source, ok
		})
	})
}

// LoadFileSound is LoadFile for the checks of an experiment that names the file: a file with
// problems still adds the scenarios that have none of their own (another entry's problems
// are not theirs), so that what is checked against them (the experiment's scenario ids, their
// rendering) is told with the file's problems in one pass. The library is then for checking
// only: the file's problems are returned, and a run needs the file whole.
func (l *Library) LoadFileSound(path string) error {
	var sound []Scenario
	err := l.AddFile(path, func(data []byte, name string) ([]Scenario, error) {
		scs, err := load(data, name, builtinGameParams, func(id string) (string, bool) {
			sc, ok := l.Set.Get(id)
			return sc.Source, ok
		})
		if err != nil {
			sound = scs
		}
		return scs, err
	})
	if err != nil && len(sound) > 0 {
		_ = l.Add(sound...) // their ids were checked against the library (taken): no clash
	}
	return err
}

// Taken is the message for an id a file defines that a library has already, from source.
func Taken(kind, id, source string) string {
	if source == "builtin" {
		return fmt.Sprintf("id %q is already a built-in %s (see `prosim scenarios`): choose another", id, kind)
	}
	return fmt.Sprintf("id %q is already defined in %s", id, orUnknown(source))
}

// takenBy is taken(id) for a non-empty id, false when taken is nil.
func takenBy(taken func(string) (string, bool), id string) (string, bool) {
	if taken == nil || id == "" {
		return "", false
	}
	return taken(id)
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown source)"
	}
	return s
}

// Load decodes and checks the scenarios of one YAML file, named name in errors. The file holds
// one scenario mapping or a list of them. Every scenario's Source is set to name. Every
// problem of the file is reported at once (a *yamlx.Errors; one alone as its *yamlx.Error).
func Load(data []byte, name string) ([]Scenario, error) {
	scs, err := load(data, name, builtinGameParams, nil)
	if err != nil {
		return nil, err
	}
	return scs, nil
}

// load is Load with the parameters a game supplies to its scenarios (nil: none; the built-in
// library is loaded so, each of its scenarios defining its own), and taken, which gives the
// source of an id a library has already (nil: none). With the file's problems, it returns the
// scenarios that have none of their own (LoadFileSound), if the file decoded.
func load(data []byte, name string, gameParams func(game string) []string, taken func(id string) (string, bool)) ([]Scenario, error) {
	loc, err := NewLocator(data, name)
	if err != nil {
		return nil, err
	}
	if loc.IsEmpty() {
		return nil, &yamlx.Error{File: name, Msg: "file has no scenario (only comments or nothing)"}
	}
	var scs []Scenario
	prefix := func(i int) string { return fmt.Sprintf("[%d].", i) }
	if !loc.IsList() {
		prefix = func(int) string { return "" }
	}
	// Model blocks are read from the file itself, so that an unknown key with a word value is
	// told as misspelt with the other decoding problems, not as a wrong type (QA9 repro-7), a
	// game's block as one it takes not, and a value out of range with the type errors.
	unknown, ranges := loc.modelProblems(prefix)
	// Values of the wrong type are told with the checks' problems: the rest of the file is
	// decoded without them (DecodeSound) and checked, but for what reads them (errs3 #4).
	var decoded func(path string) bool
	var ok bool
	if loc.IsList() {
		decoded, ok, err = loc.DecodeSound(&scs)
		if err == nil && len(scs) == 0 {
			return nil, &yamlx.Error{File: name, Msg: "the list of scenarios is empty"}
		}
	} else {
		var sc Scenario
		decoded, ok, err = loc.DecodeSound(&sc)
		scs = []Scenario{sc}
	}
	if !ok {
		return nil, replaceProblems(name, err, unknown, ranges)
	}
	l := yamlx.NewList(name)
	if err != nil {
		l.Add(replaceProblems(name, err, unknown, nil)) // check tells the ranges of the rest
	} else {
		for _, e := range unknown {
			l.Add(e)
		}
	}
	seen := map[string]int{}
	for i := range scs {
		sc := &scs[i]
		sc.Source = name
		p := prefix(i)
		var supplied []string
		if sc.Kind == "game" && gameParams != nil {
			supplied = gameParams(sc.Game)
		}
		l.Add(check(*sc, p, loc, supplied, decoded))
		if !decoded(p + "id") {
			// Its id is not known: not compared with the others.
		} else if j, ok := seen[sc.ID]; ok && sc.ID != "" {
			line, _ := loc.Line(prefix(j) + "id")
			l.Add(loc.Errorf(p+"id", "duplicate id %q (first defined on line %d)", sc.ID, line))
		} else {
			seen[sc.ID] = i
			if src, ok := takenBy(taken, sc.ID); ok {
				l.Add(loc.Errorf(p+"id", "%s", Taken("scenario", sc.ID, src)))
			}
		}
		sc.place(p, loc)
	}
	if err := l.Err(); err != nil {
		return soundOnes(scs, prefix, err), err
	}
	return scs, nil
}

// soundOnes are the scenarios of a list none of whose problems err is placed at (prefix(i) is
// the i-th's path); none when a problem is not placed in an entry (a single-scenario file's,
// or more problems than are shown).
func soundOnes(scs []Scenario, prefix func(int) string, err error) []Scenario {
	var es *yamlx.Errors
	var errs []*yamlx.Error
	var e *yamlx.Error
	switch {
	case errors.As(err, &es) && es == err && es.More == 0 && !es.Stopped:
		errs = es.Errs
	case errors.As(err, &e) && e == err:
		errs = []*yamlx.Error{e}
	default:
		return nil
	}
	bad := map[string]bool{}
	for _, x := range errs {
		i := strings.IndexByte(x.Field, ']')
		if !strings.HasPrefix(x.Field, "[") || i < 0 {
			return nil
		}
		bad[x.Field[:i+1]+"."] = true
	}
	var out []Scenario
	for i, sc := range scs {
		if p := prefix(i); p != "" && !bad[p] {
			out = append(out, sc)
		}
	}
	return out
}

// place records where the scenario's templates are in its file, so that a template that
// fails when rendered (with a game's terms, say) is reported at its line.
func (sc *Scenario) place(prefix string, loc *Locator) {
	sc.at = &origin{prefix: prefix, pos: map[string][2]int{}}
	keys := []string{"text", "question", "cost"}
	for i := range sc.Variants {
		keys = append(keys, fmt.Sprintf("variants[%d].text", i), fmt.Sprintf("variants[%d].question", i))
	}
	for i := range sc.Response.Fields {
		keys = append(keys, fmt.Sprintf("response.fields[%d].max", i), fmt.Sprintf("response.fields[%d]", i))
	}
	for _, k := range keys {
		if line, col := loc.Line(prefix + k); line > 0 {
			sc.at.pos[k] = [2]int{line, col}
		}
	}
}

var (
	paramRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// The behavioural model's vignette parameters and their ranges.
	modelKeys = map[string][2]float64{"base": {1, 7}, "cost": {0, 1}, "money": {0, 1}, "visibility": {0, 1}, "need": {0, 1}}
)

// check reports every problem of one scenario (p is its path in the file: "[2]." or "").
// supplied are the parameters its game gives its templates beside its own params. decoded
// says which fields of the file were decoded: a check that reads one that was not (a value of
// the wrong type, left out) is skipped, lest it report its zero value.
func check(sc Scenario, p string, loc *Locator, supplied []string, decoded func(path string) bool) error {
	l := yamlx.NewList(loc.name)
	unknownGame := false // its templates' parameters are not known: told with the game
	switch {
	case !decoded(p + "id"):
	case sc.ID == "":
		l.Add(loc.Errorf(p+"id", "id is required"))
	default:
		if why := table.IDProblem(sc.ID); why != "" {
			l.Add(loc.Errorf(p+"id", "id %s", why))
		}
	}
	switch {
	case !decoded(p+"kind") || !decoded(p+"game"):
		unknownGame = true // what its templates may name is not known
	case sc.Kind == "vignette":
		if sc.Game != "" {
			l.Add(loc.Errorf(p+"game", "a vignette has no game (game is for kind: game)"))
		}
	case sc.Kind == "game":
		switch {
		case sc.Game == "":
			l.Add(loc.ErrorAt(p+"kind", p+"game", "kind game needs game: the name of its payoff rules (e.g. tpp, dictator)"))
		case !slices.Contains(game.Games(), sc.Game):
			msg := fmt.Sprintf("unknown game %q (want %s)", yamlx.Clip(sc.Game), strings.Join(game.Games(), ", "))
			if g := game.GameOf(sc.Game); g != "" {
				msg += fmt.Sprintf("; %s is a scenario of game %s", sc.Game, g)
			}
			l.Add(loc.Errorf(p+"game", "%s", msg))
			unknownGame = true
		}
	case sc.Kind == "":
		l.Add(loc.Errorf(p+"kind", "kind is required (vignette or game)"))
	default:
		l.Add(loc.Errorf(p+"kind", "unknown kind %q (want vignette or game)", sc.Kind))
	}
	// What a template may refer to: the scenario's parameters, its game's, and the currency.
	params := []string{"currency"}
	for k := range sc.Params {
		params = append(params, k)
	}
	params = append(params, supplied...)
	slices.Sort(params)
	params = slices.Compact(params)
	if unknownGame || !decoded(p+"params") {
		params = nil
	}
	tmpl := func(path, text string) {
		l.Add(checkTemplate(loc, path, sc.ID, text, params))
	}
	switch {
	case !decoded(p + "text"):
	case strings.TrimSpace(sc.Text) == "":
		l.Add(loc.Errorf(p+"text", "text is required"))
	default:
		tmpl(p+"text", sc.Text)
	}
	switch {
	case !decoded(p + "question"):
	case strings.TrimSpace(sc.Question) == "":
		l.Add(loc.Errorf(p+"question", "question is required"))
	default:
		tmpl(p+"question", sc.Question)
	}
	if sc.Cost != "" {
		tmpl(p+"cost", sc.Cost)
	}
	for i, v := range sc.Variants {
		vp := fmt.Sprintf("%svariants[%d].", p, i)
		if !decoded(strings.TrimSuffix(vp, ".")) {
			continue // its fields are read against each other and the other variants'
		}
		switch why := table.IDProblem(v.ID); {
		case why != "":
			l.Add(loc.Errorf(vp+"id", "variant id %s", why))
		case v.ID == Original:
			l.Add(loc.Errorf(vp+"id", "%q names the scenario's own wording; give the variant another id", Original))
		default:
			if j := slices.IndexFunc(sc.Variants[:i], func(w Variant) bool { return w.ID == v.ID }); j >= 0 {
				l.Add(loc.Errorf(vp+"id", "variant id %q is used twice (also variants[%d])", v.ID, j))
			}
		}
		if strings.TrimSpace(v.Text) == "" {
			l.Add(loc.Errorf(vp+"text", "text is required (the situation in other words)"))
		} else {
			tmpl(vp+"text", v.Text)
		}
		if v.Question != "" {
			tmpl(vp+"question", v.Question)
		}
	}
	for _, k := range sortedKeys(sc.Params) {
		if !paramRE.MatchString(k) || k == "currency" {
			l.Add(loc.Errorf(p+"params."+k, "parameter name %q must be a letter or '_' then letters, digits or '_', and not \"currency\"", k))
		}
		if v := sc.Params[k]; math.IsNaN(v) || math.IsInf(v, 0) {
			l.Add(loc.Errorf(p+"params."+k, "not a number"))
		}
	}
	if sc.Kind != "game" { // a vignette's, or one with a misspelt kind: told with it
		for _, k := range sortedKeys(sc.Model) {
			r, ok := modelKeys[k]
			if !ok {
				continue // reported by modelProblems
			}
			if msg := modelValueProblem(k, r, sc.Model[k]); msg != "" {
				l.Add(loc.Errorf(p+"model."+k, "%s", msg))
			}
		}
	}
	if !decoded(p + "response") {
		return l.Err() // its fields are read against each other
	}
	for _, err := range sc.Response.Problems() {
		l.Add(loc.Errorf(p+schemaPath(sc.Response, err), "%v", err))
	}
	// A field's name is a value of decisions.csv's field column.
	for i, f := range sc.Response.Fields {
		if f.Name != "" && table.ReadAsMissing(f.Name) {
			l.Add(loc.Errorf(fmt.Sprintf("%sresponse.fields[%d].name", p, i), "field name %q: %s", f.Name, table.MissingReason))
		}
	}
	// The prompt shows a likert scale's anchors as a pair: without one label it shows neither.
	for i, f := range sc.Response.Fields {
		if f.Kind != Likert {
			continue
		}
		for _, a := range []struct{ key, label, end, eg string }{
			{"low_label", f.LowLabel, "min", "not at all willing"}, {"high_label", f.HighLabel, "max", "extremely willing"}} {
			if strings.TrimSpace(a.label) == "" {
				l.Add(loc.Errorf(fmt.Sprintf("%sresponse.fields[%d].%s", p, i, a.key), "required for likert: the words for %s, e.g. %q (the prompt anchors the scale with both labels)", a.end, a.eg))
			}
		}
	}
	return l.Err()
}

// modelValueProblem is what is wrong with the value v of model parameter k of range r, "" if
// nothing.
func modelValueProblem(k string, r [2]float64, v float64) string {
	switch {
	case !(v >= r[0] && v <= r[1]):
		return fmt.Sprintf("%s is outside %g..%g", strconv.FormatFloat(v, 'g', -1, 64), r[0], r[1])
	case k == "money" && v != 0 && v != 1:
		return fmt.Sprintf("money is 1 (the cost is money) or 0 (time or effort), got %g", v)
	}
	return ""
}

// modelKeyNames are modelKeys' names, sorted.
var modelKeyNames = slices.Sorted(maps.Keys(modelKeys))

// modelProblems are the problems of the model blocks of the file's scenarios (prefix(i) is
// the i-th's path), read from the file: as unknown, a game's block (at its key) and a key that
// is no model parameter (at the key); as ranges, a number out of its parameter's range, which
// check reports too once the file decodes.
func (l *Locator) modelProblems(prefix func(int) string) (unknown, ranges []*yamlx.Error) {
	n := 1
	if seq, ok := l.body().(*ast.SequenceNode); ok {
		n = len(seq.Values)
	}
	for i := range n {
		p := prefix(i)
		if k, ok := l.node(p + "kind").(*ast.StringNode); ok && k.Value == "game" {
			scenario := l.body()
			if p != "" {
				scenario = l.node(strings.TrimSuffix(p, "."))
			}
			for _, mv := range yamlx.MappingValues(scenario) {
				if mv.Key.GetToken().Value == "model" { // "model" too: the decoder reads it as model
					unknown = append(unknown, l.KeyErrorf(strings.TrimSuffix(p, "."), "model", "a game takes no model block: the block sets the behavioural model's rating of a vignette, and a game is played by its payoff rules (game)"))
				}
			}
			continue
		}
		for _, mv := range yamlx.MappingValues(l.node(p + "model")) {
			key := yamlx.KeyName(mv.Key)
			r, known := modelKeys[key]
			if !known {
				unknown = append(unknown, l.KeyErrorf(p+"model", key, "unknown model parameter %q%s; want %s", yamlx.Clip(key), yamlx.DidYouMean(key, modelKeyNames), strings.Join(modelKeyNames, ", ")))
				continue
			}
			switch mv.Value.(type) {
			case *ast.IntegerNode, *ast.FloatNode:
			default:
				continue // another type is the decoder's to report
			}
			var v float64
			if yaml.NodeToValue(mv.Value, &v) != nil {
				continue
			}
			if msg := modelValueProblem(key, r, v); msg != "" {
				ranges = append(ranges, l.Errorf(p+"model."+key, "%s", msg))
			}
		}
	}
	return unknown, ranges
}

// replaceProblems is the decoding error err with the problems of the fields of unknown (a
// wrong type of a misspelt key's value) replaced by those of unknown, and the problems of also
// added.
func replaceProblems(name string, err error, unknown, also []*yamlx.Error) error {
	if len(unknown) == 0 && len(also) == 0 {
		return err
	}
	var errs []*yamlx.Error
	var es *yamlx.Errors
	var e *yamlx.Error
	switch {
	case errors.As(err, &es) && es.More == 0 && !es.Stopped:
		errs = es.Errs
	case errors.As(err, &e) && e == err:
		errs = []*yamlx.Error{e}
	default:
		return err
	}
	l := yamlx.NewList(name)
	for _, x := range errs {
		if !slices.ContainsFunc(unknown, func(u *yamlx.Error) bool { return x.Field == u.Field || strings.HasPrefix(x.Field, u.Field+".") }) {
			l.Add(x)
		}
	}
	for _, u := range slices.Concat(unknown, also) {
		l.Add(u)
	}
	return l.Err()
}

// checkTemplate parses a scenario template (at path in the file) and checks, statically,
// that every parameter it refers to ({{.name}}) is one of params (nil: not known).
func checkTemplate(loc *Locator, path, id, text string, params []string) error {
	t, err := Template(id, text)
	if err != nil {
		return loc.TemplateError(path, text, err)
	}
	if params == nil {
		return nil
	}
	if msg := UnknownRefs(t, params, "scenario "+id); msg != "" {
		return loc.Errorf(path, "%s", msg)
	}
	return nil
}

// UnknownRefs says the parameters template t refers to that are not among params, the
// parameters of what (scenario X, the inequity text): "{{.amont}} is not a parameter of
// scenario X (it has {{.amount}}, {{.currency}})"; "" when it refers to none.
func UnknownRefs(t *template.Template, params []string, what string) string {
	var unknown []string
	for _, k := range Refs(t) {
		if !slices.Contains(params, k) {
			unknown = append(unknown, "{{."+k+"}}")
		}
	}
	if len(unknown) == 0 {
		return ""
	}
	verb := "is not a parameter"
	if len(unknown) > 1 {
		verb = "are not parameters"
	}
	return fmt.Sprintf("%s %s of %s (it has %s)", strings.Join(unknown, ", "), verb, what, "{{."+strings.Join(params, "}}, {{.")+"}}")
}

// TemplateMsg drops text/template's "template: name:" prefix, which repeats what the error
// location already says.
func TemplateMsg(err error) string {
	s := err.Error()
	if strings.HasPrefix(s, "template: ") {
		if i := strings.Index(s[len("template: "):], ": "); i >= 0 {
			return s[len("template: ")+i+2:]
		}
	}
	return s
}

// schemaPath points a Schema.Check error at the field it is about.
func schemaPath(s Schema, err error) string {
	msg := err.Error()
	if m := regexp.MustCompile(`^fields\[(\d+)\]`).FindStringSubmatch(msg); m != nil {
		return "response.fields[" + m[1] + "]"
	}
	if m := regexp.MustCompile(`^field "([^"]*)"`).FindStringSubmatch(msg); m != nil {
		for i, f := range s.Fields {
			if f.Name == m[1] {
				var k schema.KeyProblem
				if errors.As(err, &k) {
					return fmt.Sprintf("response.fields[%d].%s", i, k.Key)
				}
				return fmt.Sprintf("response.fields[%d]", i)
			}
		}
	}
	return "response"
}

func sortedKeys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Locator finds the line of a field in a YAML file for checks made after decoding, so that
// such errors read "file:line:col: field path: message" like decoding errors. (yamlx.Doc does
// the same for files whose top level is a mapping; library files may be lists.)
type Locator struct {
	name  string
	doc   *yamlx.Doc // the file parsed, once: it is decoded from it too (DecodeAll)
	file  *ast.File
	data  []byte   // the file, split into lines on first use (lines)
	split []string // its lines, once split
}

// lines are the file's lines, to place a mistake within a value (TemplateError): split on
// first use, since only a template's error reads them.
func (l *Locator) lines() []string {
	if l.split == nil {
		l.split = strings.Split(string(l.data), "\n")
	}
	return l.split
}

// NewLocator parses data (named name in errors) for locating fields and for decoding
// (DecodeAll): the file is parsed once. Its limits, an empty file and a syntax error are
// errors, told as the decoder tells them.
func NewLocator(data []byte, name string) (*Locator, error) {
	data = yamlx.StripBOM(data)
	doc, err := yamlx.ParseFile(data, name)
	if err != nil {
		return nil, err
	}
	return &Locator{name: name, doc: doc, file: doc.AST(), data: data}, nil
}

// DecodeAll decodes the file into v as yamlx.DecodeAll does, from the parse the locator has.
func (l *Locator) DecodeAll(v any) error { return l.doc.DecodeAll(v, nil) }

// DecodeSound decodes the file into v as yamlx.Doc.DecodeSound does: with problems, the rest
// of it when ok. decoded says whether the field at path ("[1].amount") was decoded: a check
// that reads one that was not would report its zero value.
func (l *Locator) DecodeSound(v any) (decoded func(path string) bool, ok bool, err error) {
	undecoded, ok, err := l.doc.DecodeSound(v, nil)
	return func(path string) bool {
		for _, f := range undecoded {
			if f == path || yamlx.Within(f, path) || yamlx.Within(path, f) {
				return false
			}
		}
		return true
	}, ok, err
}

func (l *Locator) body() ast.Node {
	if len(l.file.Docs) == 0 || l.file.Docs[0].Body == nil {
		return nil
	}
	body := l.file.Docs[0].Body
	for {
		switch n := body.(type) {
		case *ast.TagNode:
			body = n.Value
			continue
		case *ast.AnchorNode:
			body = n.Value
			continue
		}
		return body
	}
}

// IsEmpty reports whether the file holds only comments.
func (l *Locator) IsEmpty() bool {
	switch l.body().(type) {
	case nil, *ast.CommentGroupNode:
		return true
	}
	return false
}

// IsList reports whether the file's top level is a list.
func (l *Locator) IsList() bool {
	_, ok := l.body().(*ast.SequenceNode)
	return ok
}

// FileIDs are the ids a scenario or policy file defines, as written, read even when the file
// has other problems (wrong types, checks) so that ids named elsewhere can be checked against
// it; complete is false when some entry's id cannot be read (the file does not parse, or an
// entry has no id). An id of the wrong type gives the words written in it (id: [snow_shovel]
// and id: {name: snow_shovel} give snow_shovel, id: 3 gives 3), and so does an entry that is
// not a mapping (- snow_shovel): what it may define once it is written right, and no other id.
func FileIDs(path string) (ids []string, complete bool) {
	data, err := yamlx.ReadFile(path)
	if err != nil {
		return nil, false
	}
	loc, err := NewLocator(data, path)
	if err != nil {
		return nil, false
	}
	entries := []ast.Node{loc.body()}
	if seq, ok := loc.body().(*ast.SequenceNode); ok {
		entries = seq.Values
	}
	complete = true
	for i, entry := range entries {
		switch entry.(type) {
		case *ast.MappingNode, *ast.MappingValueNode, *ast.TagNode, *ast.AnchorNode, nil:
		default:
			// An entry that is not a mapping (- snow_shovel) has no id: its words are what it
			// may define once written as one.
			words := scalarWords(entry)
			complete = complete && len(words) > 0
			ids = append(ids, words...)
			continue
		}
		p := "id"
		if loc.IsList() {
			p = fmt.Sprintf("[%d].id", i)
		}
		switch n := loc.node(p).(type) {
		case *ast.StringNode:
			if n.Value == "" {
				complete = false
			} else {
				ids = append(ids, n.Value)
			}
		case nil, *ast.NullNode:
			complete = false
		default:
			words := scalarWords(n)
			complete = complete && len(words) > 0
			ids = append(ids, words...)
		}
	}
	return ids, complete
}

// scalarWords are the scalar values written in node, in order (a mapping's values, not its
// keys).
func scalarWords(node ast.Node) []string {
	var out []string
	var walk func(ast.Node)
	walk = func(n ast.Node) {
		switch x := n.(type) {
		case *ast.StringNode:
			if x.Value != "" {
				out = append(out, x.Value)
			}
		case ast.ScalarNode:
			if _, null := x.(*ast.NullNode); !null {
				if tok := x.GetToken(); tok != nil && tok.Value != "" {
					out = append(out, tok.Value)
				}
			}
		case *ast.SequenceNode:
			for _, v := range x.Values {
				walk(v)
			}
		case *ast.MappingNode:
			for _, mv := range x.Values {
				walk(mv.Value)
			}
		case *ast.MappingValueNode:
			walk(x.Value)
		case *ast.TagNode:
			walk(x.Value)
		}
	}
	walk(node)
	return out
}

// Line returns the line and column of the field at path ("[1].response.fields[0].kind"); 0, 0
// when the field is not in the file.
func (l *Locator) Line(path string) (int, int) {
	node := l.node(path)
	if node == nil {
		return 0, 0
	}
	tok := node.GetToken()
	if tok == nil || tok.Position == nil {
		return 0, 0
	}
	return tok.Position.Line, tok.Position.Column
}

// node is the value of the field at path, nil when the field is not in the file.
func (l *Locator) node(path string) ast.Node {
	ps := "$"
	if !strings.HasPrefix(path, "[") {
		ps += "."
	}
	yp, err := yaml.PathString(ps + path)
	if err != nil {
		return nil
	}
	node, err := yp.FilterFile(l.file)
	if err != nil {
		return nil
	}
	return node
}

// Errorf is an error at the field at path; a field absent from the file (a missing required
// one) is placed at the nearest enclosing field that is present.
func (l *Locator) Errorf(path, format string, args ...any) *yamlx.Error {
	return l.ErrorAt(path, path, format, args...)
}

// KeyErrorf is an error about the key key of the mapping at path (a key naming no scenario,
// say), placed at the key rather than its value; where the key is not found, as Errorf.
// Path "" is the file's top-level mapping (a single-scenario file's).
func (l *Locator) KeyErrorf(path, key, format string, args ...any) *yamlx.Error {
	m, field := l.body(), key
	if path != "" {
		m, field = l.node(path), path+"."+key
	}
	if k := yamlx.Key(m, key); k != nil {
		if tok := k.GetToken(); tok.Position != nil {
			return &yamlx.Error{File: l.name, Line: tok.Position.Line, Col: tok.Position.Column, Field: field, Msg: fmt.Sprintf(format, args...)}
		}
	}
	return l.Errorf(field, format, args...)
}

// ErrorAt is an error about field, placed at the line of the field at path.
func (l *Locator) ErrorAt(path, field, format string, args ...any) *yamlx.Error {
	e := &yamlx.Error{File: l.name, Field: field, Msg: fmt.Sprintf(format, args...)}
	for p := path; ; {
		if line, col := l.errorPos(p); line > 0 {
			e.Line, e.Col = line, col
			break
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 && p != "" {
			i = 0 // a field of a single-scenario file: the file's mapping
		}
		if i < 0 {
			e.Line, e.Col = 1, 1
			break
		}
		p = p[:i]
	}
	return e
}

// errorPos is where an error about the field at path points (0, 0 when the field is not in the
// file; path "" is the file's top level), as yamlx.Pos places it.
func (l *Locator) errorPos(path string) (int, int) {
	var n ast.Node
	if path == "" {
		n = l.body()
	} else {
		n = l.node(path)
	}
	if n == nil {
		return 0, 0
	}
	line, col, _ := yamlx.Pos(n, l.body(), path, l.node)
	return line, col
}
