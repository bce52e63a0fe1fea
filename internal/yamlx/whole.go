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
		switch f, err := strconv.ParseFloat(n.Value, 64); {
		case err == nil && quoted(n.Token) && (isInt(t.Kind()) || isFloat(t.Kind())):
			// The decoder reads replicates: "3" as 3: a number is written bare, as YAML means
			// it, and "3" is text (errs3 #5).
			*out = append(*out, quotedError(n.Token, t, path, name))
		case err == nil && f != math.Trunc(f) && isInt(t.Kind()):
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
	case reflect.String, reflect.Bool, reflect.Interface:
		return false
	}
	return !custom(t)
}

func isFloat(k reflect.Kind) bool { return k == reflect.Float32 || k == reflect.Float64 }

// quoted says that tok is a quoted scalar ("3" or '3').
func quoted(tok *token.Token) bool {
	return tok != nil && (tok.Type == token.DoubleQuoteType || tok.Type == token.SingleQuoteType)
}

// quotedError is the problem of a number written quoted where a number (of type t) is wanted.
func quotedError(tok *token.Token, t reflect.Type, path, name string) *Error {
	e := &Error{File: name, Field: path, Msg: fmt.Sprintf("expected %s, not the string %s (write it without quotes)", kindWord(t), Quote(tok.Value)), quoted: true}
	if tok.Position != nil {
		e.Line, e.Col = tok.Position.Line, tok.Position.Column
	}
	return e
}

// hasQuotedNumber says whether s may have a quoted number: a quote mark before a digit, a
// sign or a '.' (a scan of the bytes, so that a file without one is not walked).
func hasQuotedNumber[T string | []byte](s T) bool {
	for i := 0; i+1 < len(s); i++ {
		if c, n := s[i], s[i+1]; (c == '"' || c == '\'') && (isDigit(n) || n == '-' || n == '+' || n == '.') {
			return true
		}
	}
	return false
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
// A fraction is reported when node's text has one (hasFraction: not .nan): the walk comes
// first, as making the text of a large node costs more than walking it.
func wholeCheck(node ast.Node, v any, name, path string) error {
	if node == nil {
		return nil
	}
	var out []*Error
	fractions(node, reflect.TypeOf(v), path, name, &out)
	if len(out) == 0 {
		return nil
	}
	l := NewList(name)
	text := -1 // whether node's text has a fraction, once asked
	for _, e := range out {
		if e.quoted {
			l.Add(e)
			continue
		}
		if text < 0 {
			text = 0
			if hasFraction(node.String()) {
				text = 1
			}
		}
		if text == 1 {
			l.Add(e)
		}
	}
	return l.Err()
}
