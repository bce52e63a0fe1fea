// Package yamlx decodes prosim's YAML files strictly and reports problems the way a user
// needs them: file, line, column and field. Unknown fields, wrong types and duplicate keys
// are errors, never ignored.
package yamlx

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"

	"github.com/prosim/prosim/internal/textcut"
)

// Error is a problem at a place in a YAML file.
type Error struct {
	File  string
	Line  int // 1-based; 0 when unknown
	Col   int
	Field string // e.g. "conditions[1].policy"; empty when the problem is not one field's
	Msg   string
	// meant are the fields an unknown field was likely meant for, beside Field: its hint's
	// (none without a hint).
	meant []string
	// quoted says that the problem is a number written quoted (whole.go).
	quoted bool
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString("field " + bound(e.Field, maxFieldBytes) + ": ")
	}
	b.WriteString(bound(clipQuoted(e.Msg), maxMsgBytes))
	return b.String()
}

// quotedRE matches a Go-quoted string (%q) in a message.
var quotedRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// clipQuoted is msg with each value it quotes (%q) longer than ClipBytes cut as Quote cuts it:
// the loaders' messages quote a file's values ("unknown policy %q") of any length.
func clipQuoted(msg string) string {
	if len(msg) < 2*ClipBytes+40 { // no quote in it is long
		return msg
	}
	return quotedRE.ReplaceAllStringFunc(msg, func(q string) string {
		if s, err := strconv.Unquote(q); err == nil && len(s) > ClipBytes+len("...") { // not one Quote cut
			return Quote(s)
		}
		return q
	})
}

// maxFieldBytes and maxMsgBytes bound a message's field path and text: a 100,000-character key
// or a value quoted whole (a message that does not Quote it) would be printed whole (QA14 F4).
// A field path is a few keys; the longest message lists a few dozen names.
const (
	maxFieldBytes = 200
	maxMsgBytes   = 4096
)

// bound is s cut to about max bytes (whole characters), saying how long it was.
func bound(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return fmt.Sprintf("%s... (%d bytes)", textcut.Prefix(s, max), len(s))
}

// Quote is s quoted for a message: at most its first ClipBytes bytes, and then its length, so
// that a CSV given where a YAML file is expected (one string of a megabyte) is not echoed whole.
func Quote(s string) string {
	if len(s) <= ClipBytes {
		return strconv.Quote(s)
	}
	return fmt.Sprintf("%q (%d bytes)", Clip(s), len(s))
}

// Decode decodes data (named name in messages) into v, strictly.
func Decode(data []byte, name string, v any) error {
	d, err := ParseFile(data, name)
	if err != nil {
		return err
	}
	return d.decodeTop(d.Body(), v)
}

// DecodeFile reads and decodes the file at path.
func DecodeFile(path string, v any) error {
	data, err := ReadFile(path)
	if err != nil {
		return err
	}
	return Decode(data, path, v)
}

// convert is the decoder's err in the user's words, placed in the file; root is the node that
// was decoded (nil for a syntax error), where the value a type error found is looked up.
func convert(err error, data []byte, name string, root ast.Node) error {
	out := &Error{File: name}
	var ye yaml.Error
	if errors.As(err, &ye) {
		// Not err.Error(): go-yaml's Error prints the tokens around the error by concatenating
		// strings, quadratic in the file's tokens (40,000 ids in one inline list took 27 s).
		out.Msg = ye.GetMessage()
		if tok := ye.GetToken(); tok != nil && tok.Position != nil {
			out.Line, out.Col = tok.Position.Line, tok.Position.Column
		}
	} else {
		out.Msg = err.Error()
	}
	var ne *yaml.UnexpectedNodeTypeError
	if errors.As(err, &ne) {
		// The parser's words for a value of another shape where a block of fields or a list
		// belongs (backend: builtin for backend: {provider: builtin}).
		want := ne.Expected.YAMLName()
		switch ne.Expected {
		case ast.MappingType:
			want = "a mapping (key: value lines, or {key: value, ...})"
		case ast.SequenceType:
			want = "a list (- item lines, or [a, b, ...])"
		}
		out.Msg = fmt.Sprintf("expected %s, got %s", want, found(root, ne.Token, nodeWord(ne.Actual)))
	}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		if te.StructFieldName != nil {
			f := *te.StructFieldName
			if i := strings.LastIndex(f, "."); i >= 0 {
				f = f[i+1:]
			}
			out.Field = f
		}
		out.Msg = fmt.Sprintf("expected %s, got %s", kindWord(te.DstType), found(root, te.Token, kindWord(te.SrcType)))
	}
	var oe *yaml.OverflowError
	if errors.As(err, &oe) {
		out.Msg = fmt.Sprintf("%s is too large a number for this field", oe.SrcNum)
		if strings.HasPrefix(oe.SrcNum, "-") {
			out.Msg = fmt.Sprintf("%s: a negative number where a whole number from 0 is wanted", oe.SrcNum)
		}
	}
	var ue *yaml.UnknownFieldError
	if errors.As(err, &ue) && ue.Token != nil {
		out.Field = Clip(ue.Token.Value)
		out.Msg = "unknown field (check its spelling and indentation)"
	}
	if out.Line > 0 {
		if k := keyOnLine(data, out.Line); k != "" {
			out.Field = Clip(k)
		}
	}
	return out
}

// found is the value a type error found, in the user's words: a scalar quoted after its kind
// (a string "three"), a list or mapping by its size (a list of 3 items, a mapping of 2 keys:
// a, b), never the token it begins with ("[", "{", "-", a block of text's "|"). tok is the value's token, found
// among root's nodes; kind is the decoder's word for it, used when the node is not found.
func found(root ast.Node, tok *token.Token, kind string) string {
	n := nodeOf(root, tok)
	switch x := n.(type) {
	case *ast.TagNode:
		n = x.Value
	case *ast.AnchorNode:
		n = x.Value
	}
	switch x := n.(type) {
	case *ast.StringNode:
		return "a string " + Quote(x.Value)
	case *ast.LiteralNode: // a block of text (| or >): its text, not the mark
		if x.Value != nil {
			return "a string " + Quote(x.Value.Value)
		}
	case *ast.IntegerNode:
		return "the whole number " + Clip(x.GetToken().Value)
	case *ast.FloatNode:
		return "the number " + Clip(x.GetToken().Value)
	case *ast.BoolNode:
		return Clip(x.GetToken().Value)
	case *ast.NullNode:
		return "no value"
	case *ast.SequenceNode:
		switch len(x.Values) {
		case 0:
			return "an empty list"
		case 1:
			return "a list of 1 item"
		}
		return fmt.Sprintf("a list of %d items", len(x.Values))
	case *ast.MappingNode, *ast.MappingValueNode:
		vs := MappingValues(x)
		keys := make([]string, 0, 3)
		for _, mv := range vs[:min(len(vs), 3)] {
			keys = append(keys, Clip(KeyName(mv.Key)))
		}
		if len(vs) > 3 {
			keys = append(keys, "...")
		}
		if len(vs) == 1 {
			return "a mapping of 1 key: " + keys[0]
		}
		return fmt.Sprintf("a mapping of %d keys: %s", len(vs), strings.Join(keys, ", "))
	}
	if tok == nil {
		return kind
	}
	switch tok.Type {
	case token.SequenceStartType, token.SequenceEntryType, token.MappingStartType, token.MappingValueType, token.MappingKeyType:
		return kind // a list's or mapping's first token says nothing of it
	}
	if tok.Value == "" {
		return kind
	}
	return kind + " " + Quote(tok.Value)
}

// nodeOf is the outermost node of root whose token is tok (a block mapping shares its first
// entry's), nil when none is.
func nodeOf(root ast.Node, tok *token.Token) ast.Node {
	if root == nil || tok == nil {
		return nil
	}
	v := &tokenFinder{tok: tok}
	ast.Walk(v, root)
	return v.node
}

type tokenFinder struct {
	tok  *token.Token
	node ast.Node
}

func (v *tokenFinder) Visit(n ast.Node) ast.Visitor {
	if v.node != nil {
		return nil
	}
	if n.GetToken() == v.tok {
		v.node = n
		return nil
	}
	return v
}

// nodeWord is a YAML node type in the user's words.
func nodeWord(t ast.NodeType) string {
	switch t {
	case ast.MappingType, ast.MappingValueType:
		return "a mapping"
	case ast.SequenceType:
		return "a list"
	case ast.StringType, ast.LiteralType:
		return "a string"
	case ast.IntegerType:
		return "a whole number"
	case ast.FloatType:
		return "a number"
	case ast.BoolType:
		return "true or false"
	case ast.NullType:
		return "no value"
	}
	return "a " + t.YAMLName()
}

// syntaxError is the parser's err, placed in the file (a bracket left open: where it was opened).
func syntaxError(err error, data []byte, name string) error {
	out := convert(err, data, name, nil)
	if e, ok := out.(*Error); ok {
		placeUnclosed(e, data)
		placeDuplicate(e)
	}
	return out
}

// keyOnLine is the mapping key written on a line ("  - weight: [1]" gives "weight"): the
// decoder reports Go struct field names, but users know their YAML keys.
func keyOnLine(data []byte, line int) string {
	lines := strings.Split(string(data), "\n")
	if line > len(lines) {
		return ""
	}
	m := keyRE.FindStringSubmatch(lines[line-1])
	if m == nil {
		return ""
	}
	return m[1] + m[2] + m[3] // the one that matched: a quoted key is named without its quotes
}

var keyRE = regexp.MustCompile(`^\s*(?:-\s+)*(?:"([A-Za-z_][\w.-]*)"|'([A-Za-z_][\w.-]*)'|([A-Za-z_][\w.-]*))\s*:`)

func kindWord(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping"
	case reflect.Pointer:
		return kindWord(t.Elem())
	}
	return t.String()
}

// Doc is a parsed YAML file kept so that checks made after decoding can point at the line of
// the field they complain about.
type Doc struct {
	name string
	data []byte
	file *ast.File
	// plain is the top level with its aliases expanded (Plain), made on first use.
	plain     ast.Node
	plainDone bool
}

// Parse parses data for locating fields. It does not decode.
func Parse(data []byte, name string) (*Doc, error) {
	data = StripBOM(data)
	f, limit, syntax := parseLimited(data, name)
	switch {
	case limit != nil:
		return nil, limit
	case syntax != nil:
		return nil, syntaxError(syntax, data, name)
	}
	return &Doc{name: name, data: data, file: f}, nil
}

// ParseFile is Parse for a file that is decoded too (Doc.DecodeAll), as Decode reads it: a
// blank file is an error ("file is empty"). The one parse serves the decoding, the location
// of errors found later (Errorf) and the decoding of parts (DecodeAt, DecodeNodeAll).
func ParseFile(data []byte, name string) (*Doc, error) {
	data = StripBOM(data)
	f, limit, syntax := parseLimited(data, name)
	switch {
	case limit != nil:
		return nil, limit
	case blank(data):
		return nil, &Error{File: name, Msg: "file is empty"}
	case syntax != nil:
		return nil, syntaxError(syntax, data, name)
	}
	return &Doc{name: name, data: data, file: f}, nil
}

func blank(data []byte) bool { return len(bytes.TrimSpace(data)) == 0 }

// Body is the top level of the file's document, nil when it has none.
func (d *Doc) Body() ast.Node {
	if d == nil || d.file == nil || len(d.file.Docs) == 0 {
		return nil
	}
	return d.file.Docs[0].Body
}

// Plain is Body with its aliases, anchors and merge keys expanded (the body itself when it
// has none): what is decoded, so that a part decodes on its own and every problem of a file
// with aliases is found. Errors are placed in the file (an aliased value's at its anchor).
func (d *Doc) Plain() ast.Node {
	if d == nil {
		return nil
	}
	if d.plainDone {
		return d.plain
	}
	d.plainDone = true
	d.plain = d.Body()
	// An anchor or alias is written with & or *: a file without either is not walked.
	if d.plain != nil && bytes.ContainsAny(d.data, "&*") && (len(ast.Filter(ast.AliasType, d.plain)) > 0 || len(ast.Filter(ast.AnchorType, d.plain)) > 0) {
		d.plain = expand(d.plain)
	}
	return d.plain
}

// IsMapping says whether the file's top level is a mapping (key: value lines), as every
// prosim YAML file but a list of scenarios or policy frames is.
func (d *Doc) IsMapping() bool {
	switch d.Body().(type) {
	case *ast.MappingNode, *ast.MappingValueNode:
		return true
	}
	return false
}

// AST is the parsed file (nil when d is nil).
func (d *Doc) AST() *ast.File {
	if d == nil {
		return nil
	}
	return d.file
}

// decodeTop decodes body, the file's top level (or what DecodeAll leaves of it), into v as
// Decode does: a file without a document decodes to the zero value.
func (d *Doc) decodeTop(body ast.Node, v any) error {
	if body == nil {
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && !rv.IsNil() {
			rv.Elem().SetZero()
		}
		return nil
	}
	if err := nodeToValue(body, v); err != nil {
		return convert(err, d.data, d.name, body)
	}
	if hasFraction(d.data) || hasQuotedNumber(d.data) {
		return wholeCheck(body, v, d.name, "")
	}
	return nil
}

// DecodeAll decodes the file into v strictly, every problem reported, as the function
// DecodeAll does, from the file as parsed. The fields omit names (nil: none), by their path as
// in messages ("network", "conditions[1].inequity"), are left out as if their lines were
// blank: a study's block, decoded on its own (DecodeNodeAll), or a field of the study's that
// it decodes from the file itself (DecodeAt), which is then not decoded twice.
func (d *Doc) DecodeAll(v any, omit func(path string) bool) error {
	_, err := d.decodeAll(v, omit)
	return err
}

// decodeAll is DecodeAll that also gives, when the file has problems, the rest of it as the
// walk that found them kept it (decodeErrors), or an invalid value.
func (d *Doc) decodeAll(v any, omit func(path string) bool) (reflect.Value, error) {
	body, empty := d.without(omit)
	if empty {
		return reflect.Value{}, &Error{File: d.name, Msg: "file is empty"}
	}
	err := d.decodeTop(body, v)
	if err == nil || body == nil {
		return reflect.Value{}, err
	}
	if len(ast.Filter(ast.AliasType, body)) > 0 {
		return reflect.Value{}, err // a part decoded alone would miss the anchors its aliases name
	}
	return decodeErrors(body, d.data, d.name, "", reflect.TypeOf(v), err)
}

// DecodeSound is DecodeAll that, when the file has problems, decodes the rest of it into v, so
// that the checks of what is sound can run beside them: every field a problem is placed at is
// left out (an unknown field, a value of the wrong type; a list's entry is made null, so that
// the others keep their places). undecoded are those fields, by their path as in messages, and
// the field each unknown one was likely meant for (its hint's: "backend.provider" beside
// "backend.type"), which checks must not read: an absent or zero value there is a consequence
// of the problem, not another. An unknown key without a hint (colour: red) stands for no
// field: a required field its mapping leaves out is told missing beside it, in one pass. ok says that v holds the rest; it is false, and v as DecodeAll
// leaves it, when a problem is not placed at a field of this file (a file of values of the
// wrong type at its top level, aliases that stop its fields being decoded apart, more problems
// than are shown) or the rest does not decode either.
func (d *Doc) DecodeSound(v any, omit func(path string) bool) (undecoded []string, ok bool, err error) {
	rest, err := d.decodeAll(v, omit)
	if err == nil {
		return nil, true, nil
	}
	undecoded, left, nulls, placed := d.placed(err, "")
	rv := reflect.ValueOf(v)
	if !placed || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, false, err
	}
	if !rest.IsValid() || rest.Type() != rv.Type() {
		// The walk did not keep the rest: decoded again, without the problems.
		body, empty := d.cut(func(p string) bool { return left[p] || omit != nil && omit(p) }, nulls)
		rest = reflect.New(rv.Elem().Type())
		if !empty {
			if d.decodeTop(body, rest.Interface()) != nil {
				return nil, false, err
			}
		}
	}
	rv.Elem().Set(rest.Elem())
	return undecoded, true, err
}

// DecodeNodeSound is DecodeSound for node, the field at path of this file (a study's block,
// "network"), as DecodeNodeAll decodes it: with problems, the rest of it is decoded into v
// when every problem is placed at a field inside it.
func (d *Doc) DecodeNodeSound(node ast.Node, path string, v any) (undecoded []string, ok bool, err error) {
	rest, err := decodeNodeAll(node, d.data, d.name, path, v)
	if err == nil {
		return nil, true, nil
	}
	undecoded, left, nulls, placed := d.placed(err, path)
	rv := reflect.ValueOf(v)
	if !placed || rv.Kind() != reflect.Pointer || rv.IsNil() {
		return nil, false, err
	}
	if !rest.IsValid() || rest.Type() != rv.Type() {
		kept, _ := strip(node, path, func(p string) bool { return left[p] }, nulls)
		rest = reflect.New(rv.Elem().Type())
		if DecodeNode(kept, d.data, d.name, rest.Interface()) != nil {
			return nil, false, err
		}
	}
	rv.Elem().Set(rest.Elem())
	return undecoded, true, err
}

// placed reads err, the problems of decoding the field at path ("" the file), for DecodeSound:
// the fields they leave undecoded (with the fields unknown keys were meant for), the fields
// to leave out of the rest, and the list entries to make null, by their list's path. placed is
// false when a problem is not placed at a field of this file inside path, or more problems
// than are shown were found.
func (d *Doc) placed(err error, path string) (undecoded []string, left map[string]bool, nulls map[string][]int, placed bool) {
	var errs []*Error
	switch x := err.(type) {
	case *Error:
		errs = []*Error{x}
	case *Errors:
		if x.More > 0 || x.Stopped {
			return nil, nil, nil, false
		}
		errs = x.Errs
	default:
		return nil, nil, nil, false
	}
	left = map[string]bool{}
	nulls = map[string][]int{}
	for _, e := range errs {
		if e.File != d.name || e.Field == "" || e.Line == 0 || path != "" && !Within(e.Field, path) {
			return nil, nil, nil, false
		}
		undecoded = append(undecoded, e.Field)
		left[e.Field] = true
		// A list's entry ("conditions[1]") is made null; a key that only looks like one is
		// left out as a key too.
		if i := strings.LastIndexByte(e.Field, '['); i >= 0 && strings.HasSuffix(e.Field, "]") { // "[1]": a file that is a list
			if n, err := strconv.Atoi(e.Field[i+1 : len(e.Field)-1]); err == nil {
				nulls[e.Field[:i]] = append(nulls[e.Field[:i]], n)
			}
		}
		for _, m := range e.meant {
			i := strings.LastIndexByte(e.Field, '.')
			undecoded = append(undecoded, e.Field[:i+1]+m) // the unknown key's sibling
		}
	}
	return undecoded, left, nulls, true
}

// Within says whether the field at path is inside the field at outer, paths written as in
// messages ("backends[0].model" is inside "backends[0]" and "backends", not inside "backend";
// "[1].id" is inside "", a list file's top level).
func Within(path, outer string) bool {
	return len(path) > len(outer) && strings.HasPrefix(path, outer) && (path[len(outer)] == '.' || path[len(outer)] == '[')
}

// without is the file's top level with the fields omit names left out, and whether nothing but
// blank lines is left of the file then (the lines before its first key). The parse is not
// changed: the mappings and lists that lose a field are copied.
func (d *Doc) without(omit func(path string) bool) (ast.Node, bool) {
	return d.cut(omit, nil)
}

// cut is without that also makes null the entries of lists that nulls names (by the list's
// path: "conditions" -> [1]), so that the others keep their places.
func (d *Doc) cut(omit func(path string) bool, nulls map[string][]int) (ast.Node, bool) {
	body := d.Plain()
	if omit == nil && len(nulls) == 0 {
		return body, false
	}
	if omit == nil {
		omit = func(string) bool { return false }
	}
	rest, changed := strip(body, "", omit, nulls)
	if !changed {
		return body, false
	}
	if m, ok := body.(*ast.MappingNode); ok {
		if kept := rest.(*ast.MappingNode); len(kept.Values) == 0 {
			if blank(d.data[:lineStart(d.data, m.Values[0].Key.GetToken().Position.Line)]) {
				return nil, true
			}
		}
	}
	return rest, false
}

// strip is node (the field at path) without the fields omit names, and with the list entries
// nulls names made null, and whether it lost any.
func strip(node ast.Node, path string, omit func(path string) bool, nulls map[string][]int) (ast.Node, bool) {
	switch n := node.(type) {
	case *ast.MappingNode:
		var kept []*ast.MappingValueNode
		for i, mv := range n.Values {
			p := join(path, KeyName(mv.Key))
			v, changed := mv.Value, false
			drop := omit(p)
			if !drop {
				v, changed = strip(mv.Value, p, omit, nulls)
			}
			if (drop || changed) && kept == nil {
				kept = append(make([]*ast.MappingValueNode, 0, len(n.Values)), n.Values[:i]...)
			}
			switch {
			case drop:
			case changed:
				c := *mv
				c.Value = v
				kept = append(kept, &c)
			case kept != nil:
				kept = append(kept, mv)
			}
		}
		if kept == nil {
			return node, false
		}
		c := *n
		c.Values = kept
		return &c, true
	case *ast.MappingValueNode: // a mapping of one entry, kept (a mapping of none is not made)
		v, changed := strip(n.Value, join(path, KeyName(n.Key)), omit, nulls)
		if !changed {
			return node, false
		}
		c := *n
		c.Value = v
		return &c, true
	case *ast.SequenceNode:
		var vals []ast.Node
		nulled := nulls[path]
		for i, v := range n.Values {
			if slices.Contains(nulled, i) {
				if vals == nil {
					vals = slices.Clone(n.Values)
				}
				vals[i] = null(v)
				continue
			}
			switch v.(type) {
			case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
			default:
				continue // a scalar has no field (a list of a million ids is passed over)
			}
			sv, changed := strip(v, fmt.Sprintf("%s[%d]", path, i), omit, nulls)
			if changed && vals == nil {
				vals = slices.Clone(n.Values)
			}
			if changed {
				vals[i] = sv
			}
		}
		if vals == nil {
			return node, false
		}
		c := *n
		c.Values = vals
		return &c, true
	}
	return node, false
}

// null is a null value in the place of node.
func null(node ast.Node) ast.Node {
	var pos *token.Position
	if tok := node.GetToken(); tok != nil {
		pos = tok.Position
	}
	return ast.Null(token.New("null", "null", pos))
}

// lineStart is the offset of line n (1-based) of data.
func lineStart(data []byte, n int) int {
	off := 0
	for ; n > 1; n-- {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return len(data)
		}
		off += i + 1
	}
	return off
}

// DecodeNodeAll is the function DecodeNodeAll for a node of this file.
func (d *Doc) DecodeNodeAll(node ast.Node, path string, v any) error {
	return DecodeNodeAll(node, d.data, d.name, path, v)
}

// Errorf makes an Error for the field at path, written as in messages: "conditions[1].policy".
// When the field is absent from the file (a missing required field), the nearest enclosing
// field that is present gives the line.
func (d *Doc) Errorf(path, format string, args ...any) *Error {
	e := &Error{Field: path, Msg: fmt.Sprintf(format, args...)}
	if d == nil || d.file == nil {
		return e
	}
	e.File = d.name
	for p := path; ; {
		if line, col, ok := d.locate(p); ok {
			e.Line, e.Col = line, col
			return e
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return e // a top-level field: the file is the place
		}
		p = p[:i]
	}
}

// locate is where an error about the field at path points, as Pos places it.
func (d *Doc) locate(path string) (int, int, bool) {
	node, ok := d.node(path)
	if !ok {
		return 0, 0, false
	}
	return Pos(node, d.file.Docs[0].Body, path, func(p string) ast.Node {
		n, _ := d.node(p)
		return n
	})
}

// Pos is where an error about the field at path, whose node is n, points: its value, but for
// a mapping the key naming it, or else where it begins (a list entry's first key, a flow
// mapping's '{'), as for the decoder's errors. A block mapping's own token is its first key's
// ':'. root is the document's top level and node finds the node of a field's path (nil when
// absent): the caller's own lookup, so a caller unwrapping tags or anchors keeps doing so.
func Pos(n, root ast.Node, path string, node func(path string) ast.Node) (line, col int, ok bool) {
	if vs := MappingValues(n); len(vs) > 0 {
		if m, ok := n.(*ast.MappingNode); !ok || !m.IsFlowStyle {
			n = vs[0].Key // a flow mapping's token is its '{'
		}
		if i := strings.LastIndexAny(path, ".["); path != "" && (i < 0 || path[i] == '.') {
			parent, name := root, path
			if i >= 0 {
				name = path[i+1:]
				if i > 0 {
					parent = node(path[:i])
				}
			}
			if k := Key(parent, name); k != nil {
				n = k
			}
		}
	}
	tok := n.GetToken()
	if tok == nil || tok.Position == nil {
		return 0, 0, false
	}
	return tok.Position.Line, tok.Position.Column, true
}

// Key is the key node named name in mapping m (the last, should the file repeat it), nil
// when absent.
func Key(m ast.Node, name string) ast.Node {
	var key ast.Node
	for _, mv := range MappingValues(m) {
		if tok := mv.Key.GetToken(); tok != nil && tok.Value == name {
			key = mv.Key
		}
	}
	return key
}

// MappingValues are the entries of a mapping node (a one-entry mapping is its entry), nil
// for another node.
func MappingValues(n ast.Node) []*ast.MappingValueNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m.Values
	case *ast.MappingValueNode:
		return []*ast.MappingValueNode{m}
	}
	return nil
}

func (d *Doc) node(path string) (ast.Node, bool) {
	if d == nil || d.file == nil {
		return nil, false
	}
	root := "$."
	if strings.HasPrefix(path, "[") {
		root = "$" // a file whose top level is a list
	}
	p, err := yaml.PathString(root + path)
	if err != nil {
		return nil, false
	}
	node, err := p.FilterFile(d.file)
	if err != nil || node == nil {
		return nil, false
	}
	return node, true
}

// Node is the node of the field at path (written as in messages: "conditions[1].inequity"),
// false when the file has no such field (or d is nil).
func (d *Doc) Node(path string) (ast.Node, bool) { return d.node(path) }

// DecodeAt decodes the field at path (written as in messages: "conditions[1].inequity") into
// v, strictly, with errors placed in the file as Decode places them. found is false, and v
// untouched, when the file has no such field (or d is nil).
func (d *Doc) DecodeAt(path string, v any) (found bool, err error) {
	node, ok := d.node(path)
	if !ok {
		return false, nil
	}
	return true, DecodeNode(node, d.data, d.name, v)
}

// Has reports whether the file gives the field at path (written as in messages:
// "network.graph.k"), whatever its value: a zero written there is not the field left out.
// False when d is nil.
func (d *Doc) Has(path string) bool {
	_, ok := d.node(path)
	return ok
}

// Name is the file name given to Parse.
func (d *Doc) Name() string {
	if d == nil {
		return ""
	}
	return d.name
}

// File is one YAML file of an embedded library.
type File struct {
	Name string // path inside the file system, for error messages
	Data []byte
}

// Files reads every *.yaml file of directory dir of fsys, in name order: the built-in
// scenario and policy libraries are such directories embedded in the binary.
func Files(fsys fs.FS, dir string) ([]File, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var out []File
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		name := path.Join(dir, e.Name())
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		out = append(out, File{Name: name, Data: data})
	}
	return out, nil
}

// DecodeNode decodes one node of a parsed file (data, named name) into v, strictly, with
// errors placed in the file as Decode places them.
func DecodeNode(node ast.Node, data []byte, name string, v any) error {
	if err := nodeToValue(node, v); err != nil {
		return convert(err, data, name, node)
	}
	return wholeCheck(node, v, name, "")
}
