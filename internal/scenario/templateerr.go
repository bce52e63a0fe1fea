package scenario

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// TemplateError is the error of a template that does not parse (err, from Template) in the
// field at path, whose value is text. An action left open ({{.nope}) is said so, placed at its
// {{; another mistake keeps text/template's words, placed at the template's line. The place is
// the file's own line and column where the value stands in the file as written (a plain or
// quoted scalar on one line, a literal | block); elsewhere (escapes, a folded > block) it is
// the value's.
func (l *Locator) TemplateError(path, text string, err error) error {
	e := l.Errorf(path, "%s", TemplateProblem(text, err))
	off := -1
	if p, _, open := unclosed(text); open {
		off = p
	} else if m := templateLineRE.FindStringSubmatch(err.Error()); m != nil {
		if n, _ := strconv.Atoi(m[1]); n > 1 {
			off = lineStart(text, n)
		}
	}
	if off >= 0 {
		if line, col, found := l.within(path, text, off); found {
			e.Line, e.Col = line, col
		}
	}
	return e
}

// TemplateProblem words the error err of parsing template text as TemplateError does,
// without its place: for a text that is not in a scenario file (an inequity's).
func TemplateProblem(text string, err error) string {
	if _, snippet, open := unclosed(text); open {
		if ref := strings.TrimRight(snippet, "} "); refRE.MatchString(ref) {
			return fmt.Sprintf("%q is not closed: write %s}}", snippet, ref)
		}
		return fmt.Sprintf("%q is not closed (a parameter is written {{.name}})", snippet)
	}
	msg := TemplateMsg(err)
	if msg == "unexpected EOF" {
		msg = "the text ends inside an {{if}}, {{range}} or {{with}}: close it with {{end}}"
	}
	return "bad template: " + msg
}

// refRE is the beginning of a parameter's reference, {{.name or {{ .name.
var refRE = regexp.MustCompile(`^\{\{ *\.[A-Za-z_][A-Za-z0-9_]*$`)

// templateLineRE finds the line within the template of a text/template parse error
// ("template: NAME:LINE: ...").
var templateLineRE = regexp.MustCompile(`^template: [^:]*:(\d+):`)

// unclosed finds the first action whose {{ has no }} before the next {{ or the end: its
// offset and its text as written, up to its first } or else its first space.
func unclosed(text string) (int, string, bool) {
	for i := 0; ; {
		j := strings.Index(text[i:], "{{")
		if j < 0 {
			return 0, "", false
		}
		p := i + j
		rest := text[p+2:]
		c, n := strings.Index(rest, "}}"), strings.Index(rest, "{{")
		if c >= 0 && (n < 0 || c < n) {
			i = p + 2 + c + 2
			continue
		}
		s := text[p:]
		if k := strings.IndexByte(s, '\n'); k >= 0 {
			s = s[:k]
		}
		if k := strings.IndexByte(s[2:], '}'); k >= 0 {
			s = s[:2+k+1]
		} else if k := strings.IndexFunc(strings.TrimLeft(s[2:], " "), unicode.IsSpace); k >= 0 {
			s = s[:len(s)-len(strings.TrimLeft(s[2:], " "))+k]
		}
		if r := []rune(s); len(r) > 40 {
			s = string(r[:40]) + "..."
		}
		return p, s, true
	}
}

// lineStart is the offset of line n (1-based) of text.
func lineStart(text string, n int) int {
	off := 0
	for range n - 1 {
		k := strings.IndexByte(text[off:], '\n')
		if k < 0 {
			return -1
		}
		off += k + 1
	}
	return off
}

// within is the line and column in the file of offset off of the value text of the field at
// path, when the file holds the value as written up to there; found is false elsewhere.
func (l *Locator) within(path, text string, off int) (line, col int, found bool) {
	before := text[:off]
	at := func(line, col int, src string) (int, int, bool) {
		lines := l.lines()
		if line < 1 || line > len(lines) {
			return 0, 0, false
		}
		rs := []rune(lines[line-1])
		if col < 1 || col-1 > len(rs) || !strings.HasPrefix(string(rs[col-1:]), src) {
			return 0, 0, false
		}
		return line, col + utf8.RuneCountInString(src), true
	}
	switch n := l.node(path).(type) {
	case *ast.StringNode:
		tok := n.GetToken()
		if tok == nil || tok.Position == nil || strings.Contains(before, "\n") {
			return 0, 0, false
		}
		col := tok.Position.Column
		switch tok.Type {
		case token.DoubleQuoteType, token.SingleQuoteType:
			col++ // past the quote; an escape before off fails the comparison
		}
		return at(tok.Position.Line, col, before)
	case *ast.LiteralNode:
		if n.Start == nil || n.Start.Type != token.LiteralType || n.Start.Position == nil {
			return 0, 0, false // a folded block joins lines
		}
		// Each line of a literal block is a line of the file, after its indentation.
		k := strings.LastIndexByte(before, '\n')
		line := n.Start.Position.Line + 1 + strings.Count(before, "\n")
		lines := l.lines()
		if line > len(lines) {
			return 0, 0, false
		}
		src := lines[line-1]
		indent := len(src) - len(strings.TrimLeft(src, " "))
		return at(line, indent+1, before[k+1:])
	}
	return 0, 0, false
}
