package yamlx

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/token"
)

// Limits on what prosim reads as YAML, checked before parsing: the YAML parser's time and
// memory grow much faster than the input on deep nesting (a 200 KB file of nested lists took
// minutes and gigabytes before failing), and a file of millions of aliases expands
// exponentially. No experiment, scenario or policy file comes near these.
var (
	// MaxFileBytes bounds the size of a YAML file (16 MB).
	MaxFileBytes int64 = 16 << 20
	// MaxDepth bounds how deeply lists and mappings nest.
	MaxDepth = 64
	// MaxAliases bounds how many aliases (*name) a file uses.
	MaxAliases = 64
)

// ReadFile reads the file at path, up to MaxFileBytes (a larger file, or a device such as
// /dev/zero, is an error saying the limit), with a leading UTF-8 byte order mark removed.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > MaxFileBytes {
		return nil, &Error{File: path, Msg: fmt.Sprintf("file is larger than the limit of %s", sizeWord(MaxFileBytes))}
	}
	return StripBOM(data), nil
}

func sizeWord(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

var bom = []byte("\ufeff")

// StripBOM removes a leading UTF-8 byte order mark (some editors on Windows write one), which
// would otherwise become part of the first key.
func StripBOM(data []byte) []byte { return bytes.TrimPrefix(data, bom) }

// CheckLimits reports, as a located error, a file over MaxFileBytes, nested deeper than
// MaxDepth or with more than MaxAliases aliases. It only tokenizes (linear in the input).
func CheckLimits(data []byte, name string) error {
	if int64(len(data)) > MaxFileBytes {
		return &Error{File: name, Msg: fmt.Sprintf("file is larger than the limit of %s", sizeWord(MaxFileBytes))}
	}
	if !bytes.ContainsAny(data, "[{-:*") {
		return nil
	}
	flow := 0
	var block []int // columns of the open block collections
	aliases := 0
	lastLine := 0
	content := false                          // a token of the current document has been seen
	docs, second := 0, (*token.Position)(nil) // documents with content; the header of the second
	for _, tk := range lexer.Tokenize(string(data)) {
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
			aliases++
			if aliases > MaxAliases {
				return &Error{File: name, Line: tk.Position.Line, Col: tk.Position.Column, Msg: fmt.Sprintf("more than %d aliases (*name): not read", MaxAliases)}
			}
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
			return &Error{File: name, Line: tk.Position.Line, Col: tk.Position.Column, Msg: fmt.Sprintf("lists and mappings nested more than %d deep: not read", MaxDepth)}
		}
	}
	if docs > 1 && second != nil {
		return &Error{File: name, Line: second.Line, Col: second.Column,
			Msg: fmt.Sprintf("the file has %d YAML documents (separated by ---); prosim reads one per file: write several entries as one list (- id: ...)", docs)}
	}
	return nil
}
