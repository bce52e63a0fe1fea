package yamlx

import (
	"fmt"
	"math"
	"reflect"
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
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array || !mayHoldWhole(t.Elem()) {
			return
		}
		for i, v := range n.Values {
			fractions(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), name, out)
		}
	}
}

// mayHoldWhole is false for a type whose values fractions finds nothing in (text, true or
// false, a number with a fraction, any value, one that decodes itself), so that a list of a
// million of them is not walked.
func mayHoldWhole(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Float32, reflect.Float64, reflect.Interface:
		return false
	}
	return !custom(t)
}

func fractionError(tok *token.Token, path, name string) *Error {
	e := &Error{File: name, Field: path, Msg: "expected a whole number"}
	if tok != nil {
		e.Msg += ", got " + bound(tok.Value, ClipBytes)
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

// hasFraction says whether s has what may be a number with a fraction (1.5, .5, 2., 5e-1): a
// digit beside a '.', or a digit, 'e' or 'E' and '-' (the regular expression
// [0-9]\.|\.[0-9]|[0-9][eE]- matches, a hundred times faster on a large file).
func hasFraction[T string | []byte](s T) bool {
	for i := 0; i+1 < len(s); i++ {
		c, n := s[i], s[i+1]
		switch {
		case isDigit(c) && n == '.', c == '.' && isDigit(n):
			return true
		case isDigit(c) && (n == 'e' || n == 'E') && i+2 < len(s) && s[i+2] == '-':
			return true
		}
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isInt(k reflect.Kind) bool {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// wholeCheck is the problems fractions finds in node, decoded into v: nil, one, or a list.
// They are reported when node's text has a fraction (hasFraction): the walk comes first, as
// making the text of a large node costs more than walking it.
func wholeCheck(node ast.Node, v any, name, path string) error {
	if node == nil {
		return nil
	}
	var out []*Error
	fractions(node, reflect.TypeOf(v), path, name, &out)
	if len(out) == 0 || !hasFraction(node.String()) {
		return nil
	}
	l := NewList(name)
	for _, e := range out {
		l.Add(e)
	}
	return l.Err()
}
