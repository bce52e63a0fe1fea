package yamlx

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"

	"github.com/prosim/prosim/internal/textcut"
)

// ClipBytes is how much of a name or value from a file a message quotes.
const ClipBytes = 40

// Clip shortens a name or value from a file for a message: its first ClipBytes bytes (whole
// characters) and "...", so that a megabyte id is not echoed whole.
func Clip(s string) string { return textcut.Shorten(s, ClipBytes) }

// MaxErrors bounds the errors one file reports; the rest are counted ("and N more").
var MaxErrors = 50

// MaxProblems bounds the problems of one file that are looked for: past it a List takes no
// more and says that the rest of the file was not checked, so that a file of a million bad
// entries costs the time and memory of a thousand.
var MaxProblems = 1000

// Errors is every problem found in one file, sorted by position: up to MaxErrors, then the
// number left out. errors.As and errors.Is see the errors shown, the first first.
type Errors struct {
	File string
	Errs []*Error
	More int
	// Stopped says that checking stopped at MaxProblems: there may be more.
	Stopped bool
}

func (e *Errors) Error() string {
	var b strings.Builder
	n := strconv.Itoa(len(e.Errs) + e.More)
	if e.Stopped {
		n = "at least " + n
	}
	fmt.Fprintf(&b, "%s: %s problems:", e.File, n)
	for _, x := range e.Errs {
		b.WriteString("\n  ")
		b.WriteString(x.Error())
	}
	if e.More > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more (the first %d are shown)", e.More, len(e.Errs))
	}
	if e.Stopped {
		b.WriteString("\n  ... and more problems not checked (checking stops after " + strconv.Itoa(len(e.Errs)+e.More) + ")")
	}
	return b.String()
}

// Unwrap gives the errors shown, in order, for errors.As and errors.Is.
func (e *Errors) Unwrap() []error {
	out := make([]error, len(e.Errs))
	for i, x := range e.Errs {
		out[i] = x
	}
	return out
}

// List collects the problems of one file, so that a checker reports all of them at once
// rather than stopping at the first. The zero List is not usable: see NewList.
type List struct {
	file    string
	errs    []*Error
	more    int     // problems past MaxErrors, counted
	other   []error // problems that are not located in the file (reported after those that are)
	stopped bool    // MaxProblems were added: the others are dropped
}

// NewList is an empty list of the problems of file.
func NewList(file string) *List { return &List{file: file} }

// Add adds err (nil is ignored): an *Error, the errors of an *Errors of this file (or of a
// joined error holding them), or any other error (another file's *Errors), kept as it is. It
// returns whether err was not nil, so that a check can say "if l.Add(...) { skip what depends
// on it }".
func (l *List) Add(err error) bool {
	if err == nil {
		return false
	}
	var es *Errors
	var e *Error
	switch {
	case l.Full():
		l.stopped = true
	case errors.As(err, &es) && es == err && es.File != "" && es.File != l.file:
		l.other = append(l.other, es) // another file's list, told as that file's
	case errors.As(err, &es) && es == err:
		l.errs = append(l.errs, es.Errs...)
		l.more += es.More
		l.stopped = l.stopped || es.Stopped
	case errors.As(err, &e) && e == err:
		l.errs = append(l.errs, e)
	default:
		if j, ok := err.(*joined); ok {
			for _, x := range j.errs {
				l.Add(x)
			}
			return true
		}
		l.other = append(l.other, err)
	}
	if len(l.errs) >= 4*MaxErrors {
		l.trim() // a file of millions of bad lines is not held in memory
	}
	return true
}

// Len is the number of problems added (taken: see Full).
func (l *List) Len() int { return len(l.errs) + l.more + len(l.other) }

// Full says the list has MaxProblems: it takes no more.
func (l *List) Full() bool { return l.Len() >= MaxProblems }

// Enough is Full, for a check over many entries to ask before each: when it is, the list
// says that the rest were not checked, and the check stops.
func (l *List) Enough() bool {
	if l.Full() {
		l.stopped = true
		return true
	}
	return false
}

// trim sorts the problems by position and keeps the first MaxErrors, counting the others.
func (l *List) trim() {
	slices.SortStableFunc(l.errs, l.compare)
	if len(l.errs) > MaxErrors {
		l.more += len(l.errs) - MaxErrors
		l.errs = slices.Clip(l.errs[:MaxErrors])
	}
}

// compare orders problems by position, another file's (an included file) after this one's.
func (l *List) compare(a, b *Error) int {
	if a.File != b.File {
		switch {
		case a.File == l.file:
			return -1
		case b.File == l.file:
			return 1
		}
		return strings.Compare(a.File, b.File)
	}
	if a.Line != b.Line {
		return a.Line - b.Line
	}
	return a.Col - b.Col
}

// Err is nil when no problem was added, the problem itself when there is one, and else an
// *Errors of the file's located problems sorted by position (at most MaxErrors shown),
// joined with the others.
func (l *List) Err() error {
	// Stable: problems at one place keep the order they were found in.
	l.trim()
	shown, more := l.errs, l.more
	var located error
	switch {
	case len(shown) == 0 && more == 0:
	case len(shown) == 1 && more == 0 && !l.stopped:
		located = shown[0]
	default:
		located = &Errors{File: l.file, Errs: shown, More: more, Stopped: l.stopped}
	}
	return Join(append([]error{located}, l.other...)...)
}

// Elsewhere says whether err is located in another file than file (an *Error or *Errors
// naming one, wrapped or not; file "" for any): a check that reads another file reports such
// a problem as that file's, not as the message of the field naming the file, which would
// locate it twice ("exp.yaml:6:10: field network.graph: edges.csv:7:3: field target: ...").
func Elsewhere(err error, file string) bool {
	var es *Errors
	if errors.As(err, &es) {
		return es.File != "" && es.File != file
	}
	var e *Error
	return errors.As(err, &e) && e.File != "" && e.File != file
}

// Prefix is err named by what ("what: err"), unless err is nil or already located in a file
// (Elsewhere), whose place says what it is about.
func Prefix(what string, err error) error {
	if err == nil || Elsewhere(err, "") {
		return err
	}
	return fmt.Errorf("%s: %w", what, err)
}

// Join is the problems of several files, each file's list in turn (nil ones left out): one
// error, or nil. Its message is theirs, one after the other.
func Join(errs ...error) error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return &joined{errs: out}
}

// joined is errors of several files (or of one file and others it names), in turn.
type joined struct{ errs []error }

func (j *joined) Error() string {
	s := make([]string, len(j.errs))
	for i, e := range j.errs {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

func (j *joined) Unwrap() []error { return j.errs }

// DecodeAll decodes data (named name in messages) into v strictly, as Decode does, but a file
// with several wrong values or unknown fields reports them all (an *Errors): each mapping
// and list with a problem is decoded again key by key, entry by entry, to find every one.
// Syntax errors and the limits of CheckLimits are reported alone.
func DecodeAll(data []byte, name string, v any) error {
	d, err := ParseFile(data, name)
	if err != nil {
		return err
	}
	return d.DecodeAll(v, nil)
}

// DecodeNodeAll is DecodeNode reporting every problem, as DecodeAll; path is the node's
// place in the file ("tpp"), which the problems' fields start with.
func DecodeNodeAll(node ast.Node, data []byte, name, path string, v any) error {
	_, err := decodeNodeAll(node, data, name, path, v)
	return err
}

// decodeNodeAll is DecodeNodeAll that also gives, when node has problems, the rest of it
// (a value of v's type less the fields and entries they are placed at, as DecodeSound
// decodes it), or an invalid value when the walk could not make it.
func decodeNodeAll(node ast.Node, data []byte, name, path string, v any) (reflect.Value, error) {
	err := DecodeNode(node, data, name, v)
	if err == nil || len(ast.Filter(ast.AliasType, node)) > 0 {
		return reflect.Value{}, err
	}
	return decodeErrors(node, data, name, path, reflect.TypeOf(v), err)
}

// decodeErrors finds every problem of decoding node into a value of type t (a pointer),
// given first, the error of decoding it whole. rest is what of node decodes, made by the
// walk as it goes (each part it decodes is kept), so that DecodeSound need not decode the
// node again without its problems: a pointer of type t, invalid when the walk did not take
// the node apart wholly.
func decodeErrors(node ast.Node, data []byte, name, path string, t reflect.Type, first error) (rest reflect.Value, err error) {
	c := collector{data: data, name: name, whole: hasFraction(data) || hasQuotedNumber(data), complete: true}
	rest = reflect.New(t.Elem())
	c.failed(node, t.Elem(), path, first, rest.Elem()) // not decoded again: first is its decoding's problem
	l := NewList(name)
	for _, e := range c.errs {
		l.Add(e)
	}
	if l.Len() == 0 {
		return reflect.Value{}, first
	}
	// The whole decode's error is among those found, unless the walk missed it.
	// A custom decoder's error has no place until the walk gives it its node's: it is found
	// by its message then (it was listed twice, once without a place).
	if fe, ok := first.(*Error); ok && !slices.ContainsFunc(c.errs, func(e *Error) bool {
		return e.Line == fe.Line && e.Col == fe.Col || fe.Line == 0 && e.Msg == fe.Msg
	}) {
		l.Add(fe)
		c.complete = false // a problem the walk did not place: what it kept may hold it
	}
	if !c.complete {
		rest = reflect.Value{}
	}
	return rest, l.Err()
}

type collector struct {
	data []byte
	name string
	errs []*Error
	// whole says the file may hold a fraction or a quoted number (wholeCheck), which each
	// part decoded is checked for.
	whole bool
	// complete says every node with a problem was taken apart to its problems, or left out
	// whole: what the walk kept is the rest (decodeErrors).
	complete bool
}

var unmarshalerTypes = []reflect.Type{
	reflect.TypeFor[yaml.BytesUnmarshaler](), reflect.TypeFor[yaml.InterfaceUnmarshaler](),
	reflect.TypeFor[yaml.NodeUnmarshaler](), reflect.TypeFor[interface{ UnmarshalText([]byte) error }](),
}

// custom says whether values of t decode themselves (then their problem is reported whole).
func custom(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	for _, u := range unmarshalerTypes {
		if p.Implements(u) || t.Implements(u) {
			return true
		}
	}
	return false
}

// decode is DecodeNode for the walk: the fraction and quoted-number check only when the file
// may hold one.
func (c *collector) decode(node ast.Node, v any) error {
	if err := nodeToValue(node, v); err != nil {
		return convert(err, c.data, c.name, node)
	}
	if !c.whole {
		return nil
	}
	return wholeCheck(node, v, c.name, "")
}

// nodeToValue decodes node into v strictly: every decode of yamlx.
func nodeToValue(node ast.Node, v any) error {
	if decoded != nil {
		decoded(node)
	}
	return yaml.NodeToValue(node, v, yaml.Strict())
}

// decoded is told of each node decoded (a test's count of the decodes).
var decoded func(ast.Node)

// walk decodes node (the field at path, written as in messages: "conditions[1].weight") into
// dst, a settable value of type t (of the field's own type: a pointer is made when a value is
// kept); when that fails, it decodes each of the mapping's values (or list's entries) on its
// own, to report each one that fails, and keeps those that do not. A list is taken apart at
// once: its entries are what decoding it whole decodes.
func (c *collector) walk(node ast.Node, t reflect.Type, path string, dst reflect.Value) {
	// A field of pointer type is decoded into its element: the decoder reports nothing for a
	// pointer to a pointer (QA12 #9: budget: {usd: ten} and seed: x were each found only when
	// they were a file's first problem).
	if _, null := node.(*ast.NullNode); null {
		// A value or entry written null (or left empty) is the zero value, nil for a pointer,
		// as decoding it whole makes it; decoded alone into a mapping's type, it was a
		// problem ("expected a mapping, got no value") beside others.
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if _, seq := node.(*ast.SequenceNode); seq && t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && !custom(t) {
		c.descend(node, t, path, settle(dst))
		return
	}
	v := reflect.New(t)
	if err := c.decode(node, v.Interface()); err != nil {
		c.failed(node, t, path, err, dst)
		return
	}
	settle(dst).Set(v.Elem())
}

// settle is dst with its pointers made (a pointer field is set when a value of it is kept).
func settle(dst reflect.Value) reflect.Value {
	for dst.Kind() == reflect.Pointer {
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		dst = dst.Elem()
	}
	return dst
}

// failed reports the problems of node (the field at path, of type t), whose decoding failed
// with err: each of its parts' (descend), or err when none is found apart. What of node is
// sound is kept in dst when its problems are found in its parts; a node that is a problem
// whole is left out (a pointer left nil).
func (c *collector) failed(node ast.Node, t reflect.Type, path string, err error, dst reflect.Value) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	before := len(c.errs)
	part := reflect.New(t)
	c.descend(node, t, path, part.Elem())
	if len(c.errs) > before {
		settle(dst).Set(part.Elem())
		return
	}
	e, ok := err.(*Error)
	if !ok {
		e = &Error{File: c.name, Msg: err.Error()}
	}
	if e.Line == 0 {
		// A custom decoder's error (a duration, a size) carries no place: it is the node's
		// (QA12 #9: "exp4.yaml: field backends[0].timeout: ..." without line and column).
		if tok := node.GetToken(); tok != nil && tok.Position != nil {
			e.Line, e.Col = tok.Position.Line, tok.Position.Column
		}
	}
	if path != "" {
		e.Field = path // the whole path, not only the key on the error's line
	}
	c.errs = append(c.errs, e)
}

// descend reports the problems of node's parts and keeps in dst (of type t) those that decode;
// it reports nothing for a node it cannot take apart (anchors, aliases, merge keys, custom
// decoders), which is then reported whole.
func (c *collector) descend(node ast.Node, t reflect.Type, path string, dst reflect.Value) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if custom(t) {
		return
	}
	// A part it cannot take apart after others with problems leaves what it kept short of
	// the rest (which is then decoded again); before them, the node is reported whole.
	before := len(c.errs)
	incomplete := func() {
		if len(c.errs) > before {
			c.complete = false
		}
	}
	switch n := node.(type) {
	case *ast.MappingNode:
		switch t.Kind() {
		case reflect.Struct:
			fields, index := yamlFields(t), yamlIndex(t)
			seen := map[string]bool{}
			var given []string // the keys the mapping writes, for an unknown one's hint
			for _, mv := range n.Values {
				if key, ok := plainKey(mv); ok {
					given = append(given, key)
				}
			}
			for _, mv := range n.Values {
				key, ok := plainKey(mv)
				if !ok {
					incomplete()
					return
				}
				ft, known := fields[key]
				if seen[key] || !known {
					if !known {
						tok := mv.Key.GetToken()
						msg, meant := unknownField(key, fields, given)
						e := &Error{File: c.name, Line: tok.Position.Line, Col: tok.Position.Column, Field: join(path, key), Msg: msg}
						// Without a hint (colour: red), the key stands for no field: a field the
						// mapping leaves out is missing, and told so in the same pass.
						if meant != "" {
							e.meant = []string{meant}
						}
						c.errs = append(c.errs, e)
					}
					continue
				}
				seen[key] = true
				c.walk(mv.Value, ft, join(path, key), dst.Field(index[key]))
			}
		case reflect.Map:
			if t.Key().Kind() != reflect.String {
				return
			}
			if dst.IsNil() {
				dst.Set(reflect.MakeMapWithSize(t, len(n.Values)))
			}
			for _, mv := range n.Values {
				key, ok := plainKey(mv)
				if !ok {
					incomplete()
					return
				}
				at := len(c.errs)
				v := reflect.New(t.Elem()).Elem()
				c.walk(mv.Value, t.Elem(), join(path, key), v)
				if !placedAt(c.errs[at:], join(path, key)) { // else left out, as DecodeSound leaves it
					dst.SetMapIndex(reflect.ValueOf(key).Convert(t.Key()), v)
				}
			}
		}
	case *ast.SequenceNode:
		if t.Kind() != reflect.Slice || t.Elem().Kind() == reflect.Uint8 {
			return
		}
		dst.Set(reflect.MakeSlice(t, len(n.Values), len(n.Values)))
		for i, v := range n.Values {
			c.walk(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), dst.Index(i))
		}
	}
}

// placedAt says whether a problem of errs is placed at the field at path itself (not inside it).
func placedAt(errs []*Error, path string) bool {
	return slices.ContainsFunc(errs, func(e *Error) bool { return e.Field == path })
}

// plainKey is a mapping value's key when it is a plain scalar (not a merge key << or an alias).
func plainKey(mv *ast.MappingValueNode) (string, bool) {
	if mv == nil || mv.Key == nil || mv.Value == nil || mv.Key.GetToken() == nil || mv.Key.GetToken().Position == nil {
		return "", false
	}
	switch mv.Key.(type) {
	case *ast.MergeKeyNode, *ast.AliasNode:
		return "", false
	}
	return KeyName(mv.Key), true
}

// KeyName is a mapping key as the decoder reads it: a quoted key without its quotes
// ("model": is the field model, not "\"model\""), another as written.
func KeyName(key ast.Node) string {
	if s, ok := key.(*ast.StringNode); ok {
		return s.Value
	}
	return strings.TrimSpace(key.String())
}

// yamlFields maps a struct's YAML keys to their field types (not to be changed: it is made
// once a type, as the walks ask it for each of a long list's entries).
func yamlFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldTypes.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	out := map[string]reflect.Type{}
	for k, i := range yamlIndex(t) {
		out[k] = t.Field(i).Type
	}
	fieldTypes.Store(t, out)
	return out
}

var fieldTypes, fieldIndexes sync.Map // reflect.Type -> yamlFields', yamlIndex's

// yamlIndex maps a struct's YAML keys to their fields' indexes (not to be changed).
func yamlIndex(t reflect.Type) map[string]int {
	if m, ok := fieldIndexes.Load(t); ok {
		return m.(map[string]int)
	}
	out := map[string]int{}
	defer fieldIndexes.Store(t, out)
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch k {
		case "-":
			continue
		case "":
			k = strings.ToLower(f.Name)
		}
		out[k] = i
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// unknownField is the problem of an unknown key among a struct's fields: the closest field's
// name when one is near (QA13: replicats, polcy got no hint), else a word on spelling and
// indentation (a known key indented under the wrong block).
// unknownField is the message for key, unknown among a mapping's fields, where the mapping
// writes the keys given; and the field it was likely meant for ("" for none), when the mapping
// does not write that one too.
func unknownField(key string, fields map[string]reflect.Type, given []string) (msg, meant string) {
	if s, ok := synonyms[key]; ok && fields[s.field] != nil && !slices.Contains(given, s.field) {
		return "unknown field (did you mean " + s.field + "?" + s.note + ")", s.field
	}
	if hint := DidYouMean(key, slices.Sorted(maps.Keys(fields))); hint != "" {
		meant = strings.TrimSuffix(strings.TrimPrefix(hint, " (did you mean "), "?)")
		if slices.Contains(given, meant) {
			meant = "" // written too: the unknown key was not meant for it
		}
		return "unknown field" + hint, meant
	}
	return "unknown field (check its spelling and indentation)", ""
}

// synonyms are keys other tools use for a field prosim names otherwise, which no edit distance
// finds (type for provider): an unknown key among them hints at the field, when the mapping
// has that field and does not write it already.
var synonyms = map[string]struct{ field, note string }{
	"type":       {"provider", ""},
	"kind":       {"provider", ""},
	"name":       {"provider", ""},
	"model_name": {"model", ""},
	"api_key":    {"api_key_env", " API keys come from the environment, never from the file: api_key_env names the variable that holds the key"},
}
