package network

import (
	"bufio"
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/prosim/prosim/internal/yamlx"
)

// EdgeListImport is what ImportEdgeList found.
type EdgeListImport struct {
	Graph *Graph
	// IDs[node] is the node's id as written in the file (integers in canonical form).
	IDs []string
	// IntIDs[node] is the node's integer id when every id is an integer, else nil.
	IntIDs []int
	// Lines[node] and Cols[node] are the line and column where the node's id first appears,
	// and Roles[node] its column's role there (0 source, 1 target), for located errors.
	Lines      []int
	Cols       []int
	Roles      []uint8
	Rows       int      // edge rows read
	Duplicates int      // repeated edges (either orientation) merged into one
	Weighted   bool     // a weight column was present; prosim graphs are unweighted
	FirstData  int      // the file's first line when it is read as an edge, not a header; else 0
	Notes      []string // what was ignored, for the user

	nonInt string    // where the first non-integer id is, for ReadEdgeList's error
	names  [2]string // the source and target columns' names, as errors call them
}

// headerPairs are the accepted (source, target) column names of a header row.
var headerPairs = [][2]string{{"source", "target"}, {"from", "to"}, {"src", "dst"}, {"node1", "node2"}, {"u", "v"}}

// ImportEdgeList reads an undirected edge list. Format:
//   - one edge per line; blank lines and lines starting with '#' are skipped; a UTF-8 byte
//     order mark starting the file is ignored;
//   - the delimiter is taken from the first data line: ',' if it has one, else tab, else ';',
//     else runs of spaces; fields are trimmed and may be wrapped in double quotes (a quoted
//     field cannot contain the delimiter);
//   - an optional header names the columns: source,target (or from,to / src,dst /
//     node1,node2 / u,v), in any position; a "weight" column and any other column are
//     ignored with a note, and a line with more fields than the header is an error. Without
//     a header the first two columns are source and target and a third is taken as a weight
//     and ignored; a fourth is an error. A weight, when given, must be a finite number;
//   - ids are any non-empty strings; ids that all parse as integers are compared as integers
//     and numbered in ascending order (ids 1..N become nodes 0..N-1, matching agent id =
//     node+1); otherwise nodes are numbered in order of first appearance.
//
// A self-loop is an error (prosim graphs are simple: an agent is not its own neighbour);
// repeated edges, in either orientation, are merged and counted. Only nodes that appear in
// some edge exist. Errors name file:line:column and the field (the header's name for it, else
// source, target or weight); every bad line is reported at once.
func ImportEdgeList(r io.Reader, name string) (*EdgeListImport, error) {
	return ImportEdgeListChecked(r, name, nil)
}

// ImportEdgeListChecked is ImportEdgeList checking each id, at the line where it first
// appears, with checkID (nil: no check): a non-empty message is a problem of that line,
// reported with the file's others in line order, so that an id naming no agent does not wait
// for a self-loop to be fixed. checkID sees ids as ImportEdgeList gives them (IDs).
func ImportEdgeListChecked(r io.Reader, name string, checkID func(id string) string) (*EdgeListImport, error) {
	lines := lineReader{r: bufio.NewReaderSize(r, 64<<10), max: MaxLineBytes}
	res := &EdgeListImport{}
	index := map[string]int32{}
	var pairs []int32
	allInt := true
	var delim byte
	first := true
	// The columns read; ncols is the header's width (without one, 2 and a weight).
	srcCol, dstCol, weightCol, ncols, header := 0, 1, 2, 2, false
	var fields []string
	var cols []int // each field's column in its line
	res.names = [2]string{"source", "target"}
	weightName := "weight"
	// Every bad line is reported (up to yamlx.MaxErrors), not only the first.
	bad := yamlx.NewList(name)
	lineErr := func(line, col int, field, format string, args ...any) {
		bad.Add(&yamlx.Error{File: name, Line: line, Col: col, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	id := func(line, col int, role uint8, f string) (int32, bool) {
		field := res.names[role]
		if f == "" {
			lineErr(line, col, field, "empty id")
			return 0, false
		}
		if v, err := strconv.ParseInt(f, 10, 64); err == nil {
			f = strconv.FormatInt(v, 10)
		} else if allInt {
			allInt = false
			res.nonInt = (&yamlx.Error{File: name, Line: line, Col: col, Field: field, Msg: fmt.Sprintf("id %q is not an integer", yamlx.Clip(f))}).Error()
		}
		x, ok := index[f]
		if !ok {
			x = int32(len(res.IDs))
			index[f] = x
			res.IDs = append(res.IDs, f)
			res.Lines = append(res.Lines, line)
			res.Cols = append(res.Cols, col)
			res.Roles = append(res.Roles, role)
		}
		return x, true
	}
	line := 0
	for {
		b, rerr := lines.next()
		if rerr == io.EOF {
			break
		}
		line++
		if rerr == errTooLong {
			lineErr(line, 0, "", "line is longer than the limit of %s (one edge per line)", yamlx.SizeWord(int64(MaxLineBytes)))
			continue
		}
		if rerr != nil {
			if _, located := rerr.(*yamlx.Error); !located { // located: the file is not UTF-8 text
				rerr = fmt.Errorf("%s: %w", name, rerr)
			}
			bad.Add(rerr)
			break
		}
		raw := string(b)
		if line == 1 {
			raw = yamlx.TrimBOM(raw)
		}
		text := strings.TrimSpace(raw)
		if text == "" || text[0] == '#' {
			continue
		}
		lead := len(raw) - len(strings.TrimLeftFunc(raw, unicode.IsSpace))
		base := utf8.RuneCountInString(raw[:lead]) // text's first column is base+1
		if first {
			delim = yamlx.Delimiter(text)
		}
		var ferr *fieldError
		if fields, cols, ferr = splitFields(fields[:0], cols[:0], text, delim); ferr != nil {
			lineErr(line, base+ferr.col, "", "column %d: %s", ferr.n, ferr.msg)
			first = false
			continue
		}
		for i := range cols {
			cols[i] += base
		}
		if first {
			first = false
			if s, d, ok := headerColumns(fields); ok {
				srcCol, dstCol, weightCol, ncols, header = s, d, -1, len(fields), true
				res.names = [2]string{yamlx.Clip(fields[s]), yamlx.Clip(fields[d])}
				for i, f := range fields {
					if i == s || i == d {
						continue
					}
					if strings.EqualFold(f, "weight") && weightCol < 0 {
						weightCol, weightName = i, yamlx.Clip(f)
						res.Weighted = true
						res.Notes = append(res.Notes, fmt.Sprintf("%s:%d: column %d %q ignored: prosim graphs are unweighted", name, line, i+1, yamlx.Clip(f)))
					} else {
						res.Notes = append(res.Notes, fmt.Sprintf("%s:%d: column %d %q ignored", name, line, i+1, yamlx.Clip(f)))
					}
				}
				continue
			}
			res.FirstData = line
		}
		if !header && len(fields) >= 3 && !res.Weighted {
			res.Weighted = true
			res.Notes = append(res.Notes, fmt.Sprintf("%s:%d: no header; column 3 taken as a weight and ignored: prosim graphs are unweighted", name, line))
		}
		if len(fields) <= max(srcCol, dstCol) {
			missing, col := res.names[1], dstCol
			if len(fields) <= srcCol {
				missing, col = res.names[0], srcCol
			}
			// Placed just past the line's end, where the column is missing.
			end := base + utf8.RuneCountInString(text) + 1
			lineErr(line, end, missing, "missing (column %d): found %d field(s), expected %d", col+1, len(fields), ncols)
			continue
		}
		s, okS := id(line, cols[srcCol], 0, fields[srcCol])
		t, okT := id(line, cols[dstCol], 1, fields[dstCol])
		ok := okS && okT
		if ok && s == t {
			lineErr(line, cols[dstCol], res.names[1], "self-loop on id %q: prosim graphs are simple", yamlx.Clip(res.IDs[s]))
			ok = false
		}
		if weightCol >= 0 && weightCol < len(fields) && fields[weightCol] != "" {
			if w, err := strconv.ParseFloat(fields[weightCol], 64); err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
				lineErr(line, cols[weightCol], weightName, "%q is not a number (column %d)", yamlx.Clip(fields[weightCol]), weightCol+1)
				ok = false
			}
		}
		if width := max(ncols, weightCol+1); len(fields) > width {
			what := fmt.Sprintf("the header names %d columns", ncols)
			if !header {
				what = "without a header a line is source, target and an optional weight"
			}
			lineErr(line, cols[width], "", "column %d: extra field %q: %s", width+1, yamlx.Clip(fields[width]), what)
			ok = false
		}
		if !ok {
			continue
		}
		pairs = append(pairs, s, t)
		res.Rows++
	}
	if checkID != nil {
		res.CheckIDs(bad, name, checkID)
	}
	if err := bad.Err(); err != nil {
		return nil, err
	}
	if res.Rows == 0 {
		return nil, fmt.Errorf("%s: no edges", name)
	}
	if len(res.IDs) > 1<<31-1 {
		return nil, fmt.Errorf("%s: too many nodes", name)
	}
	if allInt {
		// Renumber by ascending integer id.
		n := len(res.IDs)
		ints := make([]int, n)
		for i, s := range res.IDs {
			ints[i], _ = strconv.Atoi(s)
		}
		order := make([]int32, n)
		for i := range order {
			order[i] = int32(i)
		}
		slices.SortFunc(order, func(a, b int32) int { return cmp.Compare(ints[a], ints[b]) })
		newOf := make([]int32, n)
		res.IntIDs = make([]int, n)
		ids := make([]string, n)
		lines, cols := make([]int, n), make([]int, n)
		roles := make([]uint8, n)
		for node, old := range order {
			newOf[old] = int32(node)
			res.IntIDs[node] = ints[old]
			ids[node] = res.IDs[old]
			lines[node], cols[node], roles[node] = res.Lines[old], res.Cols[old], res.Roles[old]
		}
		res.IDs, res.Lines, res.Cols, res.Roles = ids, lines, cols, roles
		for i, x := range pairs {
			pairs[i] = newOf[x]
		}
	}
	res.Graph, res.Duplicates = build(len(res.IDs), pairs, true)
	if res.Duplicates > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%s: %d duplicate edge(s) merged", name, res.Duplicates))
	}
	return res, nil
}

// MaxLineBytes bounds one line of an edge list (an edge is two ids and a weight).
var MaxLineBytes = 16 << 20

// MaxFileBytes bounds an edge list's size (256 MiB: some 20 million edges). Reading one takes
// about ten times its size in memory (2 million edges, 23.5 MB: 235 MB peak).
var MaxFileBytes int64 = 256 << 20

var errTooLong = errors.New("line too long")

// lineReader reads lines of at most max bytes; a longer line is skipped, with errTooLong, so
// that the lines after it are read and checked too.
type lineReader struct {
	r   *bufio.Reader
	max int
	buf []byte
}

// next is the next line without its newline; io.EOF after the last.
func (l *lineReader) next() ([]byte, error) {
	l.buf = l.buf[:0]
	long := false
	for {
		b, err := l.r.ReadSlice('\n')
		if !long {
			if len(l.buf)+len(b) > l.max+1 { // the newline is not counted
				long, l.buf = true, l.buf[:0]
			} else {
				l.buf = append(l.buf, b...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF && (long || len(l.buf) > 0):
			err = nil
		case err != nil:
			return nil, err
		}
		if long {
			return nil, errTooLong
		}
		line := bytes.TrimSuffix(l.buf, []byte("\n"))
		if len(line) > l.max {
			return nil, errTooLong
		}
		return line, nil
	}
}

// ReadEdgeList is ImportEdgeList for files whose ids are integers: it returns the graph
// and the original id of each node (ascending). Non-integer ids are an error naming the
// first one; use ImportEdgeList for those. Duplicates and ignored columns are only
// reported by ImportEdgeList.
func ReadEdgeList(r io.Reader, name string) (*Graph, []int, error) {
	res, err := ImportEdgeList(r, name)
	if err != nil {
		return nil, nil, err
	}
	if res.IntIDs == nil {
		return nil, nil, fmt.Errorf("%s; use ImportEdgeList for string ids", res.nonInt)
	}
	return res.Graph, res.IntIDs, nil
}

// fieldError is a field that cannot be read: its number n (1-based), column and what is wrong.
type fieldError struct {
	n, col int
	msg    string
}

// splitFields splits line at delim (' ': runs of spaces) into dst, each field trimmed and
// unquoted, and records in cols each field's 1-based column (in characters) for located errors.
func splitFields(dst []string, cols []int, line string, delim byte) ([]string, []int, *fieldError) {
	// Columns are counted on from the last field's, not from the line's start: a 16 MiB line
	// of short fields must not take quadratic time.
	counted, col := 0, 1 // line[:counted] holds col-1 characters
	for start := 0; ; {
		var end, next int
		if delim == ' ' {
			// Runs of white space, as strings.Fields splits (which this replaced).
			i := strings.IndexFunc(line[start:], func(r rune) bool { return !unicode.IsSpace(r) })
			if i < 0 {
				return dst, cols, nil
			}
			start += i
			if end = strings.IndexFunc(line[start:], unicode.IsSpace); end < 0 {
				end = len(line)
			} else {
				end += start
			}
			next = end
		} else if end = strings.IndexByte(line[start:], delim); end < 0 {
			end, next = len(line), -1
		} else {
			end += start
			next = end + 1
		}
		raw := line[start:end]
		f := strings.TrimLeftFunc(raw, unicode.IsSpace)
		at := start + len(raw) - len(f)
		col += utf8.RuneCountInString(line[counted:at])
		counted = at
		f = strings.TrimRightFunc(f, unicode.IsSpace)
		if strings.HasPrefix(f, `"`) || strings.HasSuffix(f, `"`) {
			if len(f) < 2 || !strings.HasPrefix(f, `"`) || !strings.HasSuffix(f, `"`) {
				return nil, nil, &fieldError{n: len(dst) + 1, col: col, msg: "unbalanced quote in " + strconv.Quote(yamlx.Clip(f))}
			}
			f = f[1 : len(f)-1]
		}
		dst, cols = append(dst, f), append(cols, col)
		if next < 0 {
			return dst, cols, nil
		}
		start = next
	}
}

func headerColumns(fields []string) (src, dst int, ok bool) {
	for _, hp := range headerPairs {
		s, d := -1, -1
		for i, f := range fields {
			switch strings.ToLower(f) {
			case hp[0]:
				s = i
			case hp[1]:
				d = i
			}
		}
		if s >= 0 && d >= 0 {
			return s, d, true
		}
	}
	return 0, 0, false
}

// CheckIDs adds to l, at the line where each id first appears, check's message for it ("" for
// none), and at a first edge line both of whose ids are refused that it may be a header of a
// name prosim does not read. check sees ids as IDs gives them.
func (r *EdgeListImport) CheckIDs(l *yamlx.List, name string, check func(id string) string) {
	refused := 0 // of the first edge line's ids
	for x, id := range r.IDs {
		msg := check(id)
		if msg == "" {
			continue
		}
		l.Add(&yamlx.Error{File: name, Line: r.Lines[x], Col: r.Cols[x], Field: r.names[r.Roles[x]], Msg: msg})
		if r.Lines[x] == r.FirstData {
			if refused++; refused == 2 {
				l.Add(&yamlx.Error{File: name, Line: r.FirstData, Msg: headerHint})
			}
		}
	}
}

// headerHint names the headers read, for a first line that may be a header of another name.
var headerHint = func() string {
	names := make([]string, len(headerPairs))
	for i, p := range headerPairs {
		names[i] = p[0] + "," + p[1]
	}
	return "if this line is a header, name its columns " + strings.Join(names, " or ")
}()
