package yamlx

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// fractions reports the numbers with a fraction written where a whole number is wanted (node
// decoded into a value of type t, the field at path): the decoder truncates them, 0.5 becoming
// 0 (then, for many fields, "use the default") without a word. 2.0 is a whole number.
func fractions(node ast.Node, t reflect.Type, path, name string, out *[]*Error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if custom(t) {
		return
	}
	switch n := node.(type) {
	case *ast.AnchorNode:
		fractions(n.Value, t, path, name, out)
	case *ast.TagNode:
		fractions(n.Value, t, path, name, out)
	case *ast.FloatNode:
		if n.Value != math.Trunc(n.Value) && isInt(t.Kind()) {
			*out = append(*out, fractionError(n.Token, path, name))
		}
	case *ast.StringNode:
		// "5e-1" is a string to the parser, and 0 to the decoder.
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f != math.Trunc(f) && isInt(t.Kind()) {
			*out = append(*out, fractionError(n.Token, path, name))
		}
	case *ast.MappingNode:
		for _, mv := range n.Values {
			fractionsIn(mv, t, path, name, out)
		}
	case *ast.MappingValueNode:
		fractionsIn(n, t, path, name, out)
	case *ast.SequenceNode:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return
		}
		for i, v := range n.Values {
			fractions(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), name, out)
		}
	}
}

func fractionError(tok *token.Token, path, name string) *Error {
	e := &Error{File: name, Field: path, Msg: "expected a whole number"}
	if tok != nil {
		e.Msg += ", got " + tok.Value
		if tok.Position != nil {
			e.Line, e.Col = tok.Position.Line, tok.Position.Column
		}
	}
	return e
}

// fractionsIn checks the value of one key of a mapping decoded into t.
func fractionsIn(mv *ast.MappingValueNode, t reflect.Type, path, name string, out *[]*Error) {
	key, ok := plainKey(mv)
	if !ok {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if ft, ok := yamlFields(t)[key]; ok {
			fractions(mv.Value, ft, join(path, key), name, out)
		}
	case reflect.Map:
		fractions(mv.Value, t.Elem(), join(path, key), name, out)
	}
}

// fractionRE finds what may be a number with a fraction (1.5, .5, 2., 5e-1), so that files and
// nodes without one are not walked.
var fractionRE = regexp.MustCompile(`[0-9]\.|\.[0-9]|[0-9][eE]-`)

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// wholeCheck is the problems fractions finds in node, decoded into v: nil, one, or a list.
func wholeCheck(node ast.Node, v any, name, path string) error {
	if node == nil || !fractionRE.MatchString(node.String()) {
		return nil
	}
	var out []*Error
	fractions(node, reflect.TypeOf(v), path, name, &out)
	l := NewList(name)
	for _, e := range out {
		l.Add(e)
	}
	return l.Err()
}
