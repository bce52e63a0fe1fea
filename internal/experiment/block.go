package experiment

import (
	"bytes"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"

	"github.com/prosim/prosim/internal/yamlx"
)

// Block is a study's own configuration: the experiment file's top-level key named after the
// study (`toy:` for `study: toy`), decoded strictly into the type the study registered, so
// a study added as a plugin brings its settings without changing this package.
type Block interface {
	// Check validates the block and fills its defaults. doc locates errors by field path,
	// e.g. doc.Errorf("toy.days", ...); doc may be nil.
	Check(e *Experiment, doc *yamlx.Doc) error
}

var (
	blockMu sync.RWMutex
	blocks  = map[string]func() Block{}
)

// RegisterBlock makes study's config block known. The built-in studies' blocks (tpp,
// network, games) are fields of Experiment and are not registered here.
func RegisterBlock(study string, newBlock func() Block) {
	blockMu.Lock()
	defer blockMu.Unlock()
	if _, dup := blocks[study]; dup {
		panic("experiment: RegisterBlock called twice for " + study)
	}
	blocks[study] = newBlock
}

func blockOf(study string) (func() Block, bool) {
	blockMu.RLock()
	defer blockMu.RUnlock()
	f, ok := blocks[study]
	return f, ok
}

// splitBlock finds the registered block of the file's study, decodes it, and returns the
// file with the block's lines blanked (so the rest decodes strictly and keeps its line
// numbers). Without a registered block it returns data unchanged.
func splitBlock(data []byte, name string) (Block, []byte, error) {
	f, err := parser.ParseBytes(data, 0)
	if err != nil || len(f.Docs) == 0 {
		return nil, data, nil // the strict decode reports the syntax error, located
	}
	m, ok := f.Docs[0].Body.(*ast.MappingNode)
	if !ok {
		return nil, data, nil
	}
	study := ""
	for _, mv := range m.Values {
		if keyOf(mv) == "study" {
			if s, ok := mv.Value.(*ast.StringNode); ok {
				study = s.Value
			}
		}
	}
	newBlock, ok := blockOf(study)
	if !ok {
		return nil, data, nil
	}
	blk := newBlock()
	lines := bytes.Split(data, []byte("\n"))
	for i, mv := range m.Values {
		if keyOf(mv) != study {
			continue
		}
		if err := yamlx.DecodeNode(mv.Value, data, name, blk); err != nil {
			return nil, nil, err
		}
		from := mv.Key.GetToken().Position.Line
		to := len(lines)
		if i+1 < len(m.Values) {
			to = m.Values[i+1].Key.GetToken().Position.Line - 1
		}
		for l := from; l <= to && l <= len(lines); l++ {
			lines[l-1] = nil
		}
		return blk, bytes.Join(lines, []byte("\n")), nil
	}
	return blk, data, nil // absent: the study's Check fills defaults or asks for it
}

func keyOf(mv *ast.MappingValueNode) string {
	return strings.TrimSpace(mv.Key.String())
}

// marshalBlock writes the block under its study's key, for the resolved config.
func (e *Experiment) marshalBlock() ([]byte, error) {
	if e.Block == nil {
		return nil, nil
	}
	return yaml.MarshalWithOptions(map[string]Block{e.Study: e.Block}, yaml.Indent(2), yaml.IndentSequence(true))
}
