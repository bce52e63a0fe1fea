package yamlx

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/prosim/prosim/internal/reading"
)

// textBlock is how much of a file's start is looked at to tell text from binary data or
// UTF-16 before any parser sees it: parsers read those as text with odd characters and blame
// a line of a file that has none (a PNG was "value is not allowed in this context" at line 256).
const textBlock = 4096

// Input is an input file opened by Open.
type Input struct {
	f   *os.File
	r   io.Reader
	end func()
}

// Open opens the input file at path (an experiment, scenario, policy, population or edge-list
// file): recorded as being read (reading.Begin) until Close, its reads checked by Text.
func Open(path string) (*Input, error) {
	end := reading.Begin(path)
	f, err := os.Open(path)
	if err != nil {
		end()
		return nil, err
	}
	return &Input{f: f, r: Text(f, path), end: end}, nil
}

func (f *Input) Read(p []byte) (int, error) { return f.r.Read(p) }

// Stat is the file's os.Stat.
func (f *Input) Stat() (os.FileInfo, error) { return f.f.Stat() }

// Limit is f capped at limit bytes, and the file's size (0 when unknown): a regular file
// larger than limit is refused before any read, and a stream (a pipe, a device) fails when it
// passes limit. Both errors say the limit; the first names the file.
func (f *Input) Limit(limit int64) (io.Reader, int64, error) {
	var size int64
	if st, err := f.f.Stat(); err == nil && st.Mode().IsRegular() {
		if size = st.Size(); size > limit {
			approx := size
			if approx >= 1<<20 {
				approx &^= 1<<20 - 1 // in whole MiB
			}
			return nil, size, &Error{File: f.f.Name(), Msg: fmt.Sprintf("file is larger than the limit of %s (%s)", SizeWord(limit), SizeWord(approx))}
		}
	}
	return &Capped{R: f, Left: limit, Limit: limit}, size, nil
}

// Capped reads at most Left bytes of R, then fails with an error saying Limit.
type Capped struct {
	R           io.Reader
	Left, Limit int64
}

func (c *Capped) Read(p []byte) (int, error) {
	if c.Left <= 0 {
		var one [1]byte
		if n, _ := c.R.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("file is larger than the limit of %s", SizeWord(c.Limit))
	}
	if int64(len(p)) > c.Left {
		p = p[:c.Left]
	}
	n, err := c.R.Read(p)
	c.Left -= int64(n)
	return n, err
}

// Close closes the file.
func (f *Input) Close() error {
	f.end()
	return f.f.Close()
}

// Text wraps r, the content of the file name, so that its reads fail with an *Error where it
// is not UTF-8 text: before returning any byte when its first block is UTF-16 or UTF-32 (a
// byte order mark, or every other byte zero) or binary data (a zero byte or a control
// character), else at the line and column of its first byte that is not UTF-8 (a file saved
// as Latin-1 or Windows-1252), once the bytes before it are read.
func Text(r io.Reader, name string) io.Reader {
	return &text{r: r, name: name, buf: make([]byte, 64<<10), line: 1}
}

type text struct {
	r       io.Reader
	name    string
	buf     []byte
	out     []byte // checked bytes not yet returned
	keep    []byte // the unchecked start of a character the next read completes
	err     error  // returned once out is empty
	started bool
	line    int // of the next byte checked, 1-based
	col     int // bytes of that line before it
}

func (t *text) Read(p []byte) (int, error) {
	for len(t.out) == 0 {
		if t.err != nil {
			return 0, t.err
		}
		t.fill()
	}
	n := copy(p, t.out)
	t.out = t.out[n:]
	return n, nil
}

// fill reads the next bytes into out, checked, or sets err.
func (t *text) fill() {
	k := copy(t.buf, t.keep)
	var n int
	var err error
	if !t.started {
		n, err = io.ReadFull(t.r, t.buf[k:textBlock])
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
	} else {
		n, err = t.r.Read(t.buf[k:])
	}
	data := t.buf[:k+n]
	if !t.started {
		t.started = true
		if msg, at := notText(data); msg != "" {
			t.err = &Error{File: t.name, Msg: "not UTF-8 text (" + msg + ")"}
			if at >= 0 { // a stray character in text: at its line and column
				t.err.(*Error).Line = 1 + bytes.Count(data[:at], []byte("\n"))
				t.err.(*Error).Col = at - bytes.LastIndexByte(data[:at], '\n')
			}
			return
		}
	}
	t.keep = nil
	if err == nil { // an unfinished character at the end is checked once the next read ends it
		s := len(data)
		for s > 0 && len(data)-s < utf8.UTFMax-1 && !utf8.RuneStart(data[s-1]) {
			s--
		}
		if s > 0 && !utf8.FullRune(data[s-1:]) {
			t.keep = bytes.Clone(data[s-1:])
			data = data[:s-1]
		}
	}
	t.err = err
	if !utf8.Valid(data) {
		i := invalidAt(data)
		line, col := t.line+bytes.Count(data[:i], []byte("\n")), t.col+i
		if nl := bytes.LastIndexByte(data[:i], '\n'); nl >= 0 {
			col = i - nl - 1
		}
		t.out = data[:i]
		t.err = &Error{File: t.name, Line: line, Col: col + 1,
			Msg: fmt.Sprintf("not UTF-8 text (byte 0x%02X: save the file as UTF-8)", data[i])}
		return
	}
	t.out = data
	t.line += bytes.Count(data, []byte("\n"))
	if nl := bytes.LastIndexByte(data, '\n'); nl >= 0 {
		t.col = len(data) - nl - 1
	} else {
		t.col += len(data)
	}
}

// invalidAt is the offset of the first byte of data that is not UTF-8.
func invalidAt(data []byte) int {
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(data)
}

// notText says why head, the first block of a file, is not text ("" when it may be), and
// where when that is one character in text (at, a byte offset; -1 otherwise).
func notText(head []byte) (msg string, at int) {
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0, 0}), bytes.HasPrefix(head, []byte{0, 0, 0xFE, 0xFF}):
		return "looks like UTF-32: save it as UTF-8", -1
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return "looks like UTF-16: save it as UTF-8", -1
	}
	// UTF-16 without a byte order mark: most characters are ASCII, a zero byte beside each.
	for hi := range 2 { // 0: big-endian, 1: little-endian
		ascii := 0
		for i := 0; i+1 < len(head); i += 2 {
			if c := head[i+1-hi]; head[i+hi] == 0 && (c >= 0x20 && c < 0x7F || c == '\t' || c == '\n' || c == '\r') {
				ascii++
			}
		}
		if len(head) >= 4 && ascii >= len(head)/4 {
			return "looks like UTF-16: save it as UTF-8", -1
		}
	}
	bad := -1 // the first byte that text does not have
	for i, b := range head {
		if b == 0 || b == 0x7F || b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != '\v' {
			bad = i
			break
		}
	}
	if bad < 0 {
		return "", -1 // invalid UTF-8 in text: Text reports it at its line
	}
	// Binary data: say where it starts, at the first byte that is not UTF-8 if that comes first.
	if i := invalidAt(head[:bad]); i < bad {
		return fmt.Sprintf("binary data at byte %d", i+1), -1
	}
	// UTF-8 text up to a control character and no zero byte: a stray character (an escape
	// pasted from a terminal), placed at its line and column.
	if bytes.IndexByte(head, 0) < 0 {
		return fmt.Sprintf("control character U+%04X: remove it", head[bad]), bad
	}
	return fmt.Sprintf("binary data at byte %d", bad+1), -1
}

// Delimiter is the delimiter of a delimited text file (a population CSV, an edge list), read
// from its first line: ',' when the line has one, else tab, else ';', else ' '.
func Delimiter(line string) byte {
	for _, d := range []byte{',', '\t', ';'} {
		if strings.IndexByte(line, d) >= 0 {
			return d
		}
	}
	return ' '
}
