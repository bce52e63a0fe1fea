package yamlx

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Limits on what prosim reads as YAML, checked before parsing: the YAML parser's time and
// memory grow much faster than the input on deep nesting (a 200 KB file of nested lists took
// minutes and gigabytes before failing), and a file of millions of aliases expands
// exponentially. No experiment, scenario or policy file comes near these.
var (
	// MaxFileBytes bounds the size of a YAML file (16 MiB).
	MaxFileBytes int64 = 16 << 20
	// MaxDepth bounds how deeply lists and mappings nest.
	MaxDepth = 64
	// MaxExpansion bounds how many values aliases (*name) add to a file once expanded: each
	// alias stands for a copy of its anchor's value, aliases inside included, so ten levels of
	// ten aliases each ("billion laughs") stand for 10^10 values in a few hundred bytes.
	MaxExpansion int64 = 100_000
	// MaxTokens bounds the YAML tokens of a file (keys, values, "-" and ":" each count): the
	// parser's tokens and nodes take hundreds of bytes each (450,000 listed agents hold 270 MB
	// once parsed, and an experiment's parse is kept for its run), and a 15 MB list of 900,000
	// scenarios (1.8 million tokens) took 1.4 GB and 12-20 s to read when files were parsed
	// several times. Half a million list entries (an inequity's agents) still pass.
	MaxTokens = 1_000_000
)

// ReadFile reads the file at path, up to MaxFileBytes (a larger file, or a device that does
// not end, is an error saying the limit), with a leading UTF-8 byte order mark removed; a
// file that is not UTF-8 text is an error (Text).
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > MaxFileBytes {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is larger than the limit of %s", SizeWord(MaxFileBytes))}
	}
	return StripBOM(data), nil
}

// SizeWord says a size for a message: in whole GiB or MiB (2^30, 2^20 bytes: the limits are
// powers of two, and "MB" is also read as 10^6 bytes), else in bytes.
func SizeWord(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// BOM is the UTF-8 byte order mark, which some editors and spreadsheets write at the start of
// a file.
const BOM = "\ufeff"

// StripBOM removes a leading UTF-8 byte order mark (some editors on Windows write one), which
// would otherwise become part of the first key.
func StripBOM(data []byte) []byte { return bytes.TrimPrefix(data, []byte(BOM)) }

// TrimBOM is StripBOM for a file's first line read as text (a spreadsheet's "CSV UTF-8"
// starts with one), which would otherwise become part of the first field.
func TrimBOM(line string) string { return strings.TrimPrefix(line, BOM) }

// CheckLimits reports, as a located error, a file over MaxFileBytes, of more than MaxTokens
// tokens (tokenBound), nested deeper than MaxDepth or whose aliases expand to more than
// MaxExpansion values. Once the token count is known to be bounded it tokenizes (linear in
// the input) and, when the file has aliases, parses it once the depth is known to be bounded
// (parsing does not expand aliases: decoding does).
func CheckLimits(data []byte, name string) error {
	tokens, aliases, err := lexLimited(data, name)
	if err != nil || !aliases {
		return err
	}
	parsed(name)
	f, err := parser.Parse(tokens, 0)
	if err != nil {
		return nil // the decoder reports the syntax error, located
	}
	return checkExpansion(f, name)
}

var (
	parsesMu sync.Mutex
	parses   = map[string]int{} // times each file was parsed, by name
)

func parsed(name string) {
	parsesMu.Lock()
	parses[name]++
	parsesMu.Unlock()
}

// Parses is the number of times the functions of this package parsed the file named name:
// for tests that a large file is parsed once.
func Parses(name string) int {
	parsesMu.Lock()
	defer parsesMu.Unlock()
	return parses[name]
}

// parseLimited is CheckLimits and the parse of data, which lexes it once: the parser takes the
// tokens the limits were checked on. limit is the problem CheckLimits reports, else syntax
// the parser's error (nil when limit is not), else f is the file.
func parseLimited(data []byte, name string) (f *ast.File, limit, syntax error) {
	tokens, aliases, err := lexLimited(data, name)
	if err != nil {
		return nil, err, nil
	}
	if tokens == nil {
		tokens = lexer.Tokenize(string(data))
	}
	parsed(name)
	if f, err = parser.Parse(tokens, 0); err != nil {
		return nil, nil, err // the decoder reports the syntax error, located
	}
	if aliases {
		if err := checkExpansion(f, name); err != nil {
			return nil, err, nil
		}
	}
	return f, nil, nil
}

// lexLimited checks the limits that need no parse (all but MaxExpansion) and returns data's
// tokens (nil when it has no indicator: the lexer was not run) and whether it has aliases.
func lexLimited(data []byte, name string) (tokens token.Tokens, aliases bool, err error) {
	if int64(len(data)) > MaxFileBytes {
		return nil, false, &Error{File: name, Msg: fmt.Sprintf("file is larger than the limit of %s", SizeWord(MaxFileBytes))}
	}
	if err := tokenBound(data, name); err != nil {
		return nil, false, err
	}
	if !bytes.ContainsAny(data, "[{-:*") {
		return nil, false, nil
	}
	flow := 0
	var block []int // columns of the open block collections
	lastLine := 0
	content := false                          // a token of the current document has been seen
	docs, second := 0, (*token.Position)(nil) // documents with content; the header of the second
	tokens = lexer.Tokenize(string(data))
	for _, tk := range tokens {
		if tk.Position == nil {
			continue
		}
		// Several YAML documents (separated by ---) would be decoded as the first alone,
		// the others dropped without a word: count them.
		switch {
		case tk.Type == token.DocumentHeaderType:
			if content && second == nil {
				second = tk.Position
			}
			content = false
		case tk.Type != token.CommentType && !content:
			content = true
			docs++
		}
		first := tk.Position.Line != lastLine
		lastLine = tk.Position.Line
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			flow = max(0, flow-1)
		case token.AliasType:
			aliases = true
		case token.CommentType:
			continue
		}
		if flow == 0 && (first || tk.Type == token.SequenceEntryType) {
			col := tk.Position.Column
			for len(block) > 0 && block[len(block)-1] >= col {
				block = block[:len(block)-1]
			}
			block = append(block, col)
		}
		if d := flow + len(block); d > MaxDepth {
			return nil, false, &Error{File: name, Line: tk.Position.Line, Col: tk.Position.Column, Msg: fmt.Sprintf("lists and mappings nested more than %d deep: not read", MaxDepth)}
		}
	}
	if docs > 1 && second != nil {
		return nil, false, &Error{File: name, Line: second.Line, Col: second.Column,
			Msg: fmt.Sprintf("the file has %d YAML documents (separated by ---); prosim reads one per file: write several entries as one list (- id: ...)", docs)}
	}
	return tokens, aliases, nil
}

// checkExpansion counts the values the file's aliases stand for, each anchor's size computed
// once (an anchor is defined before its aliases), and refuses the file at the alias that
// passes MaxExpansion.
func checkExpansion(f *ast.File, name string) error {
	x := expansion{anchors: map[string]int64{}}
	for _, d := range f.Docs {
		x.size(d)
		if x.at != nil {
			return &Error{File: name, Line: x.at.Line, Col: x.at.Column,
				Msg: fmt.Sprintf("aliases (*name) here and before expand to more than %d values: not read", MaxExpansion)}
		}
	}
	return nil
}

type expansion struct {
	anchors map[string]int64 // anchor name -> values its value stands for, aliases expanded
	added   int64            // values added by aliases so far
	at      *token.Position  // the alias that passed the limit
}

// size is the number of values node stands for once its aliases are expanded (saturating
// past MaxExpansion: the walk stops at the first alias over the limit).
func (x *expansion) size(node ast.Node) int64 {
	if node == nil || x.at != nil {
		return 0
	}
	switch n := node.(type) {
	case *ast.DocumentNode:
		return x.size(n.Body)
	case *ast.MappingNode:
		t := int64(1)
		for _, v := range n.Values {
			t = sat(t + x.size(v))
		}
		return t
	case *ast.MappingValueNode:
		return sat(x.size(n.Key) + x.size(n.Value))
	case *ast.MappingKeyNode:
		return x.size(n.Value)
	case *ast.SequenceNode:
		t := int64(1)
		for _, v := range n.Values {
			t = sat(t + x.size(v))
		}
		return t
	case *ast.SequenceEntryNode:
		return x.size(n.Value)
	case *ast.TagNode:
		return x.size(n.Value)
	case *ast.AnchorNode:
		v := x.size(n.Value)
		if n.Name != nil {
			x.anchors[n.Name.GetToken().Value] = v
		}
		return v
	case *ast.AliasNode:
		v := int64(1)
		if n.Value != nil {
			if a, ok := x.anchors[n.Value.GetToken().Value]; ok {
				v = a
			}
		}
		x.added = sat(x.added + v)
		if x.added > MaxExpansion {
			if tk := n.GetToken(); tk != nil && tk.Position != nil {
				x.at = tk.Position
			} else {
				x.at = &token.Position{}
			}
		}
		return v
	}
	return 1
}

// sat caps a count just past MaxExpansion, so sums cannot overflow.
func sat(n int64) int64 { return min(n, MaxExpansion+1) }

// tokenBound refuses a file that may have more than MaxTokens tokens, from a scan of its
// bytes: the YAML lexer makes every token of a document before the first can be counted (a
// one-line list of 1.2 million entries took 8.9 s and 620 MB to refuse), the scan takes
// milliseconds and no memory. It counts from above, each token that may start at a byte:
// the indicators , [ ] { } : " ' and tabs (every one: a "12:30" counts three), - and ?
// followed by a space, a line end or a flow indicator, the first byte of each stretch
// between those and line ends (one scalar at most, however many words), a word starting
// with & or * (an anchor or alias and its name: two), | or > (a block text's header and
// content: three), ! or # (one), and every byte of a line from a % @ ` or control character on (a
// directive, or characters YAML reserves: "50%" makes the rest of its line count a token a
// byte). Quotes and comments are not followed (what
// reads as one may not be one), so a comma in a text counts too: the count passes the
// lexer's where texts are full of punctuation or values are quoted (["a", "b"] counts twice
// as many), and is exact for short plain keys and values (a "- x" line counts two).
// FuzzCountTokens checks that it is never below the lexer's.
func tokenBound(data []byte, name string) error {
	if n, line, col := countTokens(data, MaxTokens); n > MaxTokens {
		return &Error{File: name, Line: line, Col: col,
			Msg: fmt.Sprintf("more than %d YAML tokens (keys, values, and - : , [ ] { } each count): not read; no prosim file comes near", MaxTokens)}
	}
	return nil
}

// countTokens is tokenBound's count of data's tokens, stopping past limit at the line and
// column of the byte that passed it.
func countTokens(data []byte, limit int) (n, line, col int) {
	line, lineStart, bol := 1, 0, 0 // bol: where the line starts, after a \n or a lone \r
	start := true                   // the next byte that is not a space starts a stretch
	word := true                    // the previous byte was a space, an indicator or the line's start
	words := false                  // each byte of the rest of the line counts
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch c {
		case '\n', '\r': // a lone \r ends a line too
			if c == '\n' {
				line, lineStart = line+1, i+1
			}
			bol, start, word, words = i+1, true, true, false
			continue
		case ' ':
			word = true
			continue
		}
		ind := false
		if i == bol && i+3 <= len(data) && (string(data[i:i+3]) == "---" || string(data[i:i+3]) == "...") {
			c, i, ind = ',', i+2, true // a document's header or end: one indicator
		}
		switch c {
		case ',', '[', ']', '{', '}', ':', '"', '\'', '\t': // a tab where YAML wants none is a token of its own
			ind = true
		case '-', '?':
			ind = i+1 == len(data) || isBreak(data[i+1])
		}
		add := 0
		switch {
		case c == '&' || c == '*':
			add = 2
		case c == '!':
			add = 1
		case c == '|' || c == '>': // a block text's content may make two tokens ("" and "\n")
			add = 3
		case !word:
		case c == '#':
			add = 1
		}
		if c == '%' || c == '@' || c == '`' || c < ' ' && c != '\t' || c == 0x7f { // a directive, or characters YAML reserves
			words = true
		}
		if words {
			add = max(add, 1)
		}
		switch {
		case ind:
			add, start = 1, true
		case add > 0:
			// its own tokens, before the stretch's scalar
		case start:
			add, start = 1, false
		}
		word = ind
		if n += add; n > limit {
			return n, line, utf8.RuneCount(data[lineStart:i]) + 1
		}
	}
	return n, 0, 0
}

// isBreak says that c ends a "-" or "?" indicator: a space, a line end or a flow indicator.
func isBreak(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', ',', '[', ']', '{', '}':
		return true
	}
	return false
}
