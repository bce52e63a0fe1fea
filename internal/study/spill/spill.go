// Package spill keeps a study's records of played rounds out of memory, in a temporary file,
// for results written after the last step (the games' public goods rounds, Study 3's
// rounds.csv): a record is written when its round ends and read back by its Span.
package spill

import (
	"errors"
	"fmt"
	"os"
	"sync"
)

// File is a spill file, made on the first Write. What names the records in errors. The zero
// value with What set is ready; Close removes the file (on Unix it is unlinked as soon as it
// is made, so it goes with the process whatever happens).
type File struct {
	What string

	mu      sync.Mutex
	f       *os.File
	size    int64
	removed bool
	err     error // the first read error a reader could not return (Fail)
}

// Span is one record's place in the file.
type Span struct {
	Off int64
	N   int32
}

// Write appends a record.
func (s *File) Write(b []byte) (Span, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		f, err := os.CreateTemp("", "prosim-spill-*")
		if err != nil {
			return Span{}, fmt.Errorf("%s: %w", s.What, err)
		}
		s.f = f
		s.removed = os.Remove(f.Name()) == nil // an open file cannot be removed on Windows
	}
	if _, err := s.f.WriteAt(b, s.size); err != nil {
		return Span{}, fmt.Errorf("%s: %w", s.What, err)
	}
	sp := Span{Off: s.size, N: int32(len(b))}
	s.size += int64(len(b))
	return sp, nil
}

// Read reads a record into buf (reused when large enough).
func (s *File) Read(sp Span, buf []byte) ([]byte, error) {
	s.mu.Lock()
	f := s.f
	s.mu.Unlock()
	if f == nil {
		return nil, fmt.Errorf("%s: read after the study was closed", s.What)
	}
	buf = append(buf[:0], make([]byte, sp.N)...)
	if _, err := f.ReadAt(buf, sp.Off); err != nil {
		return nil, fmt.Errorf("%s: %w", s.What, err)
	}
	return buf, nil
}

// Fail keeps the first error of a reader that cannot return it (an iterator), for Err.
func (s *File) Fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// Err is the first error given to Fail.
func (s *File) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Name is the file's path ("" before the first Write).
func (s *File) Name() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return ""
	}
	return s.f.Name()
}

// Close closes and removes the file.
func (s *File) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	if !s.removed {
		err = errors.Join(err, os.Remove(s.f.Name()))
	}
	s.f = nil
	return err
}
