package yamlx

import (
	"reflect"
	"strings"
	"testing"

	"github.com/goccy/go-yaml/ast"
)

type restInner struct {
	Policy string   `yaml:"policy"`
	Weight int      `yaml:"weight"`
	Share  *float64 `yaml:"share"`
}

type restOuter struct {
	Name       string                 `yaml:"name"`
	Replicates int                    `yaml:"replicates"`
	Seed       *uint64                `yaml:"seed"`
	Timeout    dur                    `yaml:"timeout"`
	Budget     *struct{ USD float64 } `yaml:"budget"`
	Tags       []string               `yaml:"tags"`
	Conditions []restInner            `yaml:"conditions"`
	Backends   []*restInner           `yaml:"backends"`
	Prices     map[string]restInner   `yaml:"prices"`
	Base       *restInner             `yaml:"base"`
	Any        any                    `yaml:"any"`
}

// What the walk that finds a file's problems keeps of it is what decoding the file again
// without them gives (DecodeSound's rest, which a file with problems was decoded once more
// for): the fields and map values with problems left out, a list's entries with problems
// zero, pointers made where a value is kept and left nil where none is.
func TestWalkKeepsTheRest(t *testing.T) {
	for _, src := range []string{
		"name: a\nreplicates: three\nconditions:\n  - policy: moral\n    wieght: 2\n  - moral\n  - {policy: social, weight: 4}\n",
		"name: [a]\nseed: x\nbudget: {usd: ten}\ntags: [a, [b], c]\n",
		"seed: 3\nbudget: {usd: 5}\ntags: [a, b]\nreplicates: 2.5\n",
		"timeout: soon\nbase: {policy: p, weight: w, share: 0.5}\nany: {a: [1]}\nname: n\n",
		"backends: [{policy: a}, null, {weight: [1]}, x, {share: s}]\nbase: null\n",
		"prices: {m1: {weight: 2}, m2: {weight: two}, m3: [x], m4: {share: 1}}\n",
		"conditions: []\ntags: {a: b}\nprices: null\nseed: null\nreplicates: '3'\n",
		"conditions: [{policy: a, share: '0.5'}, {policy: b, weight: '2'}]\ncolour: red\n",
		"base:\n  policy: [x]\n  weight: 3\nconditions:\n  - weight: 1.5\n  -\n  - {policy: c}\n",
		"name: &n a\nreplicates: three\nconditions: [{policy: *n, weight: x}]\nbase: &b {policy: q, weight: z}\nbackends: [*b]\n",
		"base: {<<: {policy: m}, weight: x}\n",
	} {
		d, err := ParseFile([]byte(src), "exp.yaml")
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		var v restOuter
		kept, err := d.decodeAll(&v, nil)
		if err == nil {
			t.Fatalf("%q: no problem", src)
		}
		if !kept.IsValid() {
			t.Errorf("%q: the walk kept nothing (%v)", src, err)
			continue
		}
		_, left, nulls, placed := d.placed(err, "")
		if !placed {
			t.Fatalf("%q: problems not placed: %v", src, err)
		}
		body, _ := d.cut(func(p string) bool { return left[p] }, nulls)
		var rest restOuter
		if err := d.decodeTop(body, &rest); err != nil {
			t.Fatalf("%q: the rest: %v", src, err)
		}
		if got := kept.Elem().Interface(); !reflect.DeepEqual(got, rest) {
			t.Errorf("%q (%v):\n kept %#v\n rest %#v", src, err, got, rest)
		}
	}
}

// A value or list entry written null beside a problem is what decoding the file whole makes
// of it (the zero value, nil for a pointer), not a problem of its own: decoded alone into a
// mapping's type it was "expected a mapping, got no value".
func TestNullBesideAProblem(t *testing.T) {
	var v restOuter
	err := DecodeAll([]byte("base: null\nconditions: [null, {policy: a}]\nbackends: [null]\nreplicates: x\n"), "x.yaml", &v)
	if err == nil || err.Error() != `x.yaml:4:13: field replicates: expected a whole number, got a string "x"` {
		t.Errorf("got %v", err)
	}
}

// A file whose long list has a problem is decoded twice, each entry of the list twice: whole
// (which fails), then entry by entry to find each problem, keeping the rest. It was four times
// (the whole, the list again, each entry, the rest without the problems: about 1 s of CPU
// for prosim validate of 20,000 entries).
func TestLongListDecodedTwice(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: a\nconditions: [")
	const n = 1000
	for i := range n {
		switch i {
		case 10:
			b.WriteString("{policy: [x]}, ")
		case 500:
			b.WriteString("{policy: p, colour: red}, ")
		default:
			b.WriteString("{policy: p, weight: 1}, ")
		}
	}
	b.WriteString("]\nreplicates: 3\n")
	d, err := ParseFile([]byte(b.String()), "exp.yaml")
	if err != nil {
		t.Fatal(err)
	}
	entries := 0 // the list's entries decoded, each time a node holding them is
	decoded = func(node ast.Node) { ast.Walk(mappingCounter{&entries}, node) }
	defer func() { decoded = nil }()
	var v outer
	undecoded, ok, err := d.DecodeSound(&v, nil)
	if !ok || err == nil || len(undecoded) != 2 || len(v.Conditions) != n || v.Conditions[999].Weight != 1 || v.Replicates != 3 {
		t.Fatalf("ok %v, undecoded %q, %d conditions, err %v", ok, undecoded, len(v.Conditions), err)
	}
	t.Logf("%d entries decoded", entries)
	if entries > 2*n+2 {
		t.Errorf("%d entries decoded, want about %d (twice each)", entries, 2*n)
	}
}

// mappingCounter counts the mappings of a node, itself included.
type mappingCounter struct{ n *int }

func (c mappingCounter) Visit(node ast.Node) ast.Visitor {
	if _, ok := node.(*ast.MappingNode); ok {
		*c.n++
	}
	return c
}
