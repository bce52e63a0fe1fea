package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

type item struct{ id, src string }

func (i item) CatalogID() string     { return i.id }
func (i item) CatalogSource() string { return i.src }

func loadLines(data []byte, name string) ([]item, error) {
	var out []item
	for _, l := range strings.Fields(string(data)) {
		out = append(out, item{l, name})
	}
	return out, nil
}

func TestAddIsAllOrNothingAndNamesBothSources(t *testing.T) {
	s := New[item]("thing")
	if err := s.Add(item{"b", "x.yaml"}, item{"a", "x.yaml"}); err != nil {
		t.Fatal(err)
	}
	err := s.Add(item{"c", "y.yaml"}, item{"a", ""})
	if err == nil || err.Error() != `thing id "a" is defined twice: in x.yaml and in (unknown source)` {
		t.Fatalf("err %v", err)
	}
	if _, ok := s.Get("c"); ok {
		t.Fatal("a failed Add added part of its items")
	}
	if ids := strings.Join(s.IDs(), ","); ids != "a,b" || s.List()[0].id != "a" {
		t.Fatalf("ids %s, list %v", ids, s.List())
	}
	path := filepath.Join(t.TempDir(), "more.yaml")
	if err := os.WriteFile(path, []byte("c b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.AddFile(path, loadLines); err == nil || !strings.HasPrefix(err.Error(), path+": thing id \"b\"") {
		t.Fatalf("a clash in a file: %v", err)
	}
}

func TestBuiltinIsReadOnceAndEachSetIsItsOwn(t *testing.T) {
	reads := 0
	b := Builtin[item]{Kind: "thing", FS: fstest.MapFS{"library/a.yaml": {Data: []byte("x y")}},
		Load: func(d []byte, n string) ([]item, error) { reads++; return loadLines(d, n) },
		Mark: func(i *item) { i.src = "builtin" }}
	s1, err := b.Set()
	if err != nil {
		t.Fatal(err)
	}
	s1.Add(item{"z", "mine.yaml"})
	s2, _ := b.Set()
	if it, _ := s2.Get("x"); reads != 1 || it.src != "builtin" || len(s2.IDs()) != 2 {
		t.Fatalf("reads %d, x from %q, %d ids in a fresh set", reads, it.src, len(s2.IDs()))
	}
}
