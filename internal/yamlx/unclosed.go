package yamlx

import (
	"fmt"
	"regexp"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// The parser's messages for a flow mapping or list left open: where it noticed (the next
// line's key, a closer of the other kind), or, at the end of the file, where it was opened.
var unclosedMsgs = map[string]token.Type{
	"',' or '}' must be specified":              token.MappingStartType,
	"',' or ']' must be specified":              token.SequenceStartType,
	"could not find flow mapping end token '}'": token.MappingStartType,
	"sequence end token ']' not found":          token.SequenceStartType,
}

// placeUnclosed places a syntax error about a '{' or '[' left open where it was opened, which
// is where the fix goes: the parser notices only at the next line's key ("exp.yaml:6:1: field
// scenarios: ',' or '}' must be specified" for a '{' not closed on line 5). The place the
// parser noticed is kept in the message. e is left as it is when no such bracket is found.
func placeUnclosed(e *Error, data []byte) {
	open, ok := unclosedMsgs[e.Msg]
	if !ok || e.Line == 0 {
		return
	}
	// The brackets still open before the place noticed, innermost last.
	var stack []*token.Token
	for _, tk := range lexer.Tokenize(string(data)) {
		p := tk.Position
		if p == nil {
			continue
		}
		if p.Line > e.Line || p.Line == e.Line && p.Column >= e.Col {
			break
		}
		switch tk.Type {
		case token.MappingStartType, token.SequenceStartType:
			stack = append(stack, tk)
		case token.MappingEndType, token.SequenceEndType:
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		}
	}
	var opener *token.Token
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i].Type == open {
			opener = stack[i]
			break
		}
	}
	if opener == nil && (e.Msg == "could not find flow mapping end token '}'" || e.Msg == "sequence end token ']' not found") {
		// The parser placed it at the opener already; the file ends before any closer.
		e.Msg = fmt.Sprintf("the %s opened here is not closed (the file ends first)", bracket(open))
		return
	}
	if opener == nil {
		return
	}
	e.Msg = fmt.Sprintf("the %s opened here is not closed (noticed at %d:%d)", bracket(open), e.Line, e.Col)
	e.Line, e.Col = opener.Position.Line, opener.Position.Column
	e.Field = keyOnLine(data, e.Line)
}

func bracket(t token.Type) string {
	if t == token.MappingStartType {
		return "{"
	}
	return "["
}

// dupKeyRE is the parser's message for a key given twice in one mapping.
var dupKeyRE = regexp.MustCompile(`^mapping key (".*") already defined at \[(\d+):(\d+)\]$`)

// placeDuplicate words the parser's duplicate key message as prosim's others place things
// (`mapping key "seed" already defined at [3:1]` is `"seed" is given twice (first at 3:1)`).
func placeDuplicate(e *Error) {
	if m := dupKeyRE.FindStringSubmatch(e.Msg); m != nil {
		e.Msg = fmt.Sprintf("%s is given twice (first at %s:%s)", m[1], m[2], m[3])
	}
}
