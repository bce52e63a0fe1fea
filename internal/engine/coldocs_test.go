package engine

import (
	"strings"
	"testing"

	"github.com/prosim/prosim/internal/study"
	"github.com/prosim/prosim/internal/table"
)

// Every table a run writes, and every column of it, says what it holds: docs/results.md is
// generated from these Docs, and an empty one is a column a reader cannot interpret.
func TestEveryDeclaredColumnHasADoc(t *testing.T) {
	check := func(where string, s table.Schema) {
		if strings.TrimSpace(s.Doc) == "" {
			t.Errorf("%s: table %s has no Doc", where, s.Name)
		}
		for _, c := range s.Columns {
			if strings.TrimSpace(c.Doc) == "" {
				t.Errorf("%s: table %s, column %s has no Doc", where, s.Name, c.Name)
			}
		}
	}
	check("engine", DecisionsSchema)
	check("engine", AgentsSchema)
	names := study.Names()
	if len(names) == 0 {
		t.Fatal("no study registered: the test would check nothing")
	}
	for _, name := range names {
		check("study "+name, AgentsSchemaOf(name))
		for _, s := range study.Schemas(name) {
			check("study "+name, s)
		}
	}
}
