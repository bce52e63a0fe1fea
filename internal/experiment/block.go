package experiment

import (
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/prosim/prosim/internal/persona"
	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/yamlx"
)

// Block is a study's own configuration: the experiment file's top-level key named after the
// study (`tpp:` for `study: tpp`, `network:`, `games:`, `toy:` for a plugin study), decoded
// strictly into the type the study registered, so that this package knows no study's
// settings. The block of another registered study is an error ("only for study: network"),
// and an unknown top-level key too.
type Block interface {
	// Check validates the block and fills its defaults. doc locates errors by field path,
	// e.g. doc.Errorf("toy.days", ...); doc may be nil. Check is called when the study's key
	// is absent too (on the zero block: Given says which), so that it may fill defaults or ask
	// for the block. It is called once the population's and conditions' checks find no
	// problem, and beside values of the wrong type anywhere in the file (the block's own, the
	// population's, the conditions'), left out: a check that reads such a field asks
	// Experiment.Decoded.
	Check(e *Experiment, doc *yamlx.Doc) error
}

// Optional behaviours of a Block.
type (
	// Inputs is implemented by a block naming files the run reads (network: graph.file):
	// Bundle copies each non-empty one into the run directory's inputs/ and records the copy.
	// Check resolves them against the experiment file's directory (see InputFile).
	Inputs interface{ Inputs() []*string }
	// ConditionFields is implemented by a block that owns fields of the generic conditions
	// (network: "inequity", see Condition.Inequity): only its study may give them, and its
	// Check decodes and checks them.
	ConditionFields interface{ ConditionFields() []string }
	// InputsChecker is implemented by a block whose input files can be read to check them
	// (network: the edge list). Load calls it, after a Check without problems in the block
	// (checked without its values of the wrong type, left zero: an input field among them is
	// empty, and not read; see Decoded), when the experiment or another file it names has
	// problems, so that every file's are reported at once, and when there is a population
	// file (whose problems must not hide the inputs');
	// otherwise the run reads the files and reports theirs. A block keeps what CheckInputs
	// read for its run, so that a large file is parsed once. population reads the experiment's
	// population (nil when it cannot), for checks against it (an edge list's ids) when the
	// inputs have problems already: it is read only then, all problems being reported at once.
	InputsChecker interface {
		CheckInputs(population func() []persona.Persona) error
	}
	// PopulationChecker is implemented by a block with checks against a population file's
	// agents (network: an inequity's k and target list's ids), which the study makes when the
	// run reads the file. Load calls it when it reads the file to report problems beside
	// others (see InputsChecker), and the file reads fine: also after a Check with problems,
	// checking what of the block is sound, so that these problems come in the same pass.
	PopulationChecker interface {
		CheckPopulation(doc *yamlx.Doc, agents []persona.Persona) error
	}
)

var (
	blockMu sync.RWMutex
	blocks  = map[string]func() Block{}
)

// RegisterBlock makes study's config block known: the key `study:` of the experiment file.
// newBlock returns a new zero block, a pointer the YAML is decoded into. RegisterBlock panics
// on a duplicate, and on a study named as a field every experiment has (population, ...).
func RegisterBlock(study string, newBlock func() Block) {
	blockMu.Lock()
	defer blockMu.Unlock()
	if _, dup := blocks[study]; dup {
		panic("experiment: RegisterBlock called twice for " + study)
	}
	if slices.Contains(commonKeys(), study) {
		panic("experiment: RegisterBlock: " + study + " is a field of every experiment file")
	}
	blocks[study] = newBlock
}

func blockOf(study string) (func() Block, bool) {
	blockMu.RLock()
	defer blockMu.RUnlock()
	f, ok := blocks[study]
	return f, ok
}

// commonKeys are the top-level keys of Experiment.
func commonKeys() []string {
	var out []string
	t := reflect.TypeFor[Experiment]()
	for i := range t.NumField() {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" && k != "-" {
			out = append(out, k)
		}
	}
	return out
}

// owner is the registered study whose block owns the condition field key, or "".
func owner(key string) string {
	blockMu.RLock()
	defer blockMu.RUnlock()
	var names []string
	for n := range blocks {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if cf, ok := blocks[n]().(ConditionFields); ok && slices.Contains(cf.ConditionFields(), key) {
			return n
		}
	}
	return ""
}

// split is an experiment file's registered blocks.
type split struct {
	block Block    // the study's block (nil when the study registered none)
	given bool     // the study's key is in the file with a value
	other []string // keys of other studies' registered blocks found in the file
	err   error    // the problems of decoding the study's block
	// undecoded are the block's fields its problems left out (yamlx.Doc.DecodeNodeSound),
	// and sound says the rest of it was decoded (else its Check cannot run).
	undecoded []string
	sound     bool
}

// splitBlock finds the registered blocks in the file and decodes the study's own. The rest
// of the file decodes strictly without them (blockKey).
func splitBlock(doc *yamlx.Doc) split {
	var out split
	m, ok := doc.Plain().(*ast.MappingNode) // a block naming an anchor elsewhere decodes alone
	if !ok {
		return out
	}
	study := ""
	for _, mv := range m.Values {
		if keyOf(mv) == "study" {
			if s, ok := mv.Value.(*ast.StringNode); ok {
				study = s.Value
			}
		}
	}
	if newBlock, ok := blockOf(study); ok {
		out.block = newBlock()
	}
	for _, mv := range m.Values {
		key := keyOf(mv)
		if !blockKey(key) {
			continue
		}
		// A key without a value (`tpp:`) is as if absent.
		_, null := mv.Value.(*ast.NullNode)
		switch {
		case null:
		case key == study:
			// Its problems are reported with those of the rest of the file.
			out.undecoded, out.sound, out.err = doc.DecodeNodeSound(mv.Value, key, out.block)
			out.given = true
		default:
			out.other = append(out.other, key)
		}
	}
	return out
}

// blockKey says whether the top-level key is a registered study's block, which the rest of
// the file is decoded without.
func blockKey(key string) bool {
	_, registered := blockOf(key)
	return registered && key != "study"
}

func keyOf(mv *ast.MappingValueNode) string { return yamlx.KeyName(mv.Key) }

// checkBlocks reports other studies' blocks and condition fields, then checks the study's
// own block.
func (e *Experiment) checkBlocks(doc *yamlx.Doc) error {
	l := yamlx.NewList(doc.Name())
	for _, k := range e.other {
		l.Add(doc.Errorf(k, "only for study: %s", k))
	}
	for i, c := range e.Conditions {
		if c.Inequity == nil {
			continue
		}
		switch o := owner("inequity"); o {
		case e.Study:
		case "":
			l.Add(doc.Errorf(fmt.Sprintf("conditions[%d].inequity", i), "not used by study: %s", e.Study))
		default:
			l.Add(doc.Errorf(fmt.Sprintf("conditions[%d].inequity", i), "only for study: %s", o))
		}
	}
	if e.Block != nil && l.Len() == 0 && !e.blockUndecoded {
		err := e.Block.Check(e, doc)
		if e.blockPartial {
			// Checked without the fields its problems left out: what Check says of one of
			// those (a zero value "required" or "out of range") is a consequence, not a problem.
			err = e.withoutUndecoded(err)
		}
		l.Add(err)
		// Its input files are read beside the file's other problems when what of the block
		// was decoded is sound: its values of the wrong type are left out (an input field
		// among them is empty, and not read), and a problem Check places elsewhere (a
		// condition's inequity) is not the block's.
		e.blockOK = !e.problemIn(err, e.Study)
	}
	return l.Err()
}

// problemIn says whether err has a problem placed at the field key of this file or inside it,
// or one it cannot place (another file's, or more than are shown).
func (e *Experiment) problemIn(err error, key string) bool {
	switch x := err.(type) {
	case nil:
		return false
	case *yamlx.Error:
		return x.File != e.File || x.Field == "" || x.Field == key || within(x.Field, key)
	case *yamlx.Errors:
		if x.File != e.File || x.More > 0 || x.Stopped {
			return true
		}
		for _, y := range x.Errs {
			if e.problemIn(y, key) {
				return true
			}
		}
		return false
	case interface{ Unwrap() []error }:
		for _, y := range x.Unwrap() {
			if e.problemIn(y, key) {
				return true
			}
		}
		return false
	}
	return true
}

// withoutUndecoded is err without its problems placed at a field of this file that was not
// decoded, or inside one.
func (e *Experiment) withoutUndecoded(err error) error {
	at := func(x *yamlx.Error) bool {
		if x.File != e.File || x.Field == "" {
			return false
		}
		for f := range e.undecoded {
			if f == x.Field || within(x.Field, f) {
				return true
			}
		}
		return false
	}
	l := yamlx.NewList(e.File)
	var walk func(error)
	walk = func(err error) {
		switch x := err.(type) {
		case nil:
		case *yamlx.Error:
			if !at(x) {
				l.Add(x)
			}
		case *yamlx.Errors:
			if x.File != e.File {
				l.Add(x)
				return
			}
			kept := &yamlx.Errors{File: x.File, More: x.More, Stopped: x.Stopped}
			for _, y := range x.Errs {
				if !at(y) {
					kept.Errs = append(kept.Errs, y)
				}
			}
			l.Add(kept)
		case interface{ Unwrap() []error }:
			for _, y := range x.Unwrap() {
				walk(y)
			}
		default:
			l.Add(x)
		}
	}
	walk(err)
	return l.Err()
}

// Decoded says that the field at path (written as in messages: "network.rounds") was decoded
// from the file: no problem of decoding it (a value of the wrong type, a misspelt key meant for
// it) is placed at it, at a field inside it, or at a field it is inside. A study's Check runs
// beside such problems of its block: a check that reads a field that was not decoded (its
// zero value, or the default it leads to) against another is skipped.
func (e *Experiment) Decoded(path string) bool { return e.decoded(path) }

// Given says whether the experiment file gives its study's block (a key with a value).
func (e *Experiment) Given() bool { return e.given }

// InputFile resolves the file path *p of field against the experiment file's directory and
// checks that it can be read; the error is located at field.
func (e *Experiment) InputFile(doc *yamlx.Doc, field string, p *string) error {
	*p = resolve(e.Dir, *p)
	if _, err := os.Stat(*p); err != nil {
		return doc.Errorf(field, "cannot read %s: %v", *p, unwrapPathErr(err))
	}
	return nil
}

// ValidName says whether s is a valid name of an experiment, condition or game: ASCII
// letters, digits, '-', '_' or '.', starting with a letter or digit, and not a word R or
// pandas read as a missing value (NA, None, null, NaN, ...).
func ValidName(s string) bool { return nameRE.MatchString(s) && !table.ReadAsMissing(s) }

// BadName is the problem with name, which ValidName refused. It says ASCII: names become run
// ids and file names, which must mean the same on every system.
func BadName(name string) string {
	if table.ReadAsMissing(name) {
		return fmt.Sprintf("%q: %s", name, table.MissingReason)
	}
	return fmt.Sprintf("%q: use ASCII letters (a-z, A-Z), digits, '-', '_' or '.' only, starting with a letter or digit", yamlx.Clip(name))
}

// marshalBlock writes the block under its study's key, for the resolved config.
func (e *Experiment) marshalBlock() ([]byte, error) {
	if e.Block == nil {
		return nil, nil
	}
	return yaml.MarshalWithOptions(map[string]Block{e.Study: e.Block}, yaml.Indent(2), yaml.IndentSequence(true))
}

// cloneBlock is a deep copy of the checked block (through its YAML, which is what the
// resolved config keeps of it).
func (e *Experiment) cloneBlock() (Block, error) {
	newBlock, ok := blockOf(e.Study)
	if !ok || e.Block == nil {
		return e.Block, nil
	}
	b, err := yaml.Marshal(e.Block)
	if err != nil {
		return nil, err
	}
	c := newBlock()
	if err := yaml.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("copying the %s block: %w", e.Study, err)
	}
	return c, nil
}
