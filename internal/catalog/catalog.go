// Package catalog is the set behind the scenario and policy libraries: items with unique ids,
// the built-in ones read once per process from files embedded in the binary, a user's files
// added with their ids checked against those already there.
package catalog

import (
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"github.com/prosim/prosim/internal/yamlx"
)

// Item is what a catalog holds: something with an id, and the file it was defined in
// ("builtin" for the embedded ones), for messages.
type Item interface {
	CatalogID() string
	CatalogSource() string
}

// Set is a set of items with unique ids. Kind ("scenario", "policy") names them in errors.
type Set[T Item] struct {
	kind string
	byID map[string]T
}

// New returns an empty set of items of the named kind.
func New[T Item](kind string) *Set[T] { return &Set[T]{kind: kind, byID: map[string]T{}} }

// Add adds items, all or none: an id already in the set is an error naming both sources.
func (s *Set[T]) Add(items ...T) error {
	for _, it := range items {
		if old, ok := s.byID[it.CatalogID()]; ok {
			return fmt.Errorf("%s id %q is defined twice: in %s and in %s", s.kind, it.CatalogID(), orUnknown(old.CatalogSource()), orUnknown(it.CatalogSource()))
		}
	}
	for _, it := range items {
		s.byID[it.CatalogID()] = it
	}
	return nil
}

// AddFile adds the items of a user YAML file, read by load (which names the file in its
// errors); a clash of ids is an error naming the file.
func (s *Set[T]) AddFile(path string, load func(data []byte, name string) ([]T, error)) error {
	data, err := yamlx.ReadFile(path)
	if err != nil {
		return err
	}
	items, err := load(data, path)
	if err != nil {
		return err
	}
	if err := s.Add(items...); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// Unknown is the message for an id the set has not: "unknown scenario "x"", with a
// suggestion when one of the set's ids is a close misspelling (as for field names), else
// where to look, hint ("see `prosim scenarios`, or add it with scenario_files").
func (s *Set[T]) Unknown(id, hint string) string {
	ids := make([]string, 0, len(s.byID))
	for k := range s.byID {
		ids = append(ids, k)
	}
	sort.Strings(ids) // the first of equally close ones, whatever the map's order
	if dym := yamlx.DidYouMean(id, ids); dym != "" {
		return fmt.Sprintf("unknown %s %q%s", s.kind, yamlx.Clip(id), dym)
	}
	return fmt.Sprintf("unknown %s %q (%s)", s.kind, yamlx.Clip(id), hint)
}

// Get returns the item with the given id.
func (s *Set[T]) Get(id string) (T, bool) {
	it, ok := s.byID[id]
	return it, ok
}

// List returns every item sorted by id.
func (s *Set[T]) List() []T {
	out := make([]T, 0, len(s.byID))
	for _, it := range s.byID {
		out = append(out, it)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CatalogID() < out[j].CatalogID() })
	return out
}

// IDs returns every id, sorted.
func (s *Set[T]) IDs() []string {
	out := make([]string, 0, len(s.byID))
	for id := range s.byID {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown source)"
	}
	return s
}

// Builtin reads a package's embedded library once per process; each Set call returns a set of
// its own over the items read.
type Builtin[T Item] struct {
	Kind string
	// FS holds the library's files under the folder "library".
	FS fs.FS
	// Load reads one file's items; Mark marks an item as built in (its source "builtin").
	Load func(data []byte, name string) ([]T, error)
	Mark func(*T)

	once  sync.Once
	items []T
	err   error
}

// Set returns a new set holding the built-in items.
func (b *Builtin[T]) Set() (*Set[T], error) {
	b.once.Do(func() { b.items, b.err = b.read() })
	if b.err != nil {
		return nil, b.err
	}
	s := New[T](b.Kind)
	for _, it := range b.items {
		s.byID[it.CatalogID()] = it
	}
	return s, nil
}

func (b *Builtin[T]) read() ([]T, error) {
	s := New[T](b.Kind)
	files, err := yamlx.Files(b.FS, "library")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		items, err := b.Load(f.Data, f.Name)
		if err != nil {
			return nil, fmt.Errorf("builtin %s library: %w", b.Kind, err)
		}
		for i := range items {
			b.Mark(&items[i])
		}
		if err := s.Add(items...); err != nil {
			return nil, fmt.Errorf("builtin %s library: %s: %w", b.Kind, f.Name, err)
		}
	}
	return s.List(), nil
}
