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

	"github.com/prosim/prosim/internal/yamlx"
)

// EdgeListImport is what ImportEdgeList found.
type EdgeListImport struct {
	Graph *Graph
	// IDs[node] is the node's id as written in the file (integers in canonical form).
	IDs []string
	// IntIDs[node] is the node's integer id when every id is an integer, else nil.
	IntIDs []int
	// Lines[node] is the line where the node's id first appears, for located errors.
	Lines      []int
	Rows       int      // edge rows read
	Duplicates int      // repeated edges (either orientation) merged into one
	Weighted   bool     // a weight column was present; prosim graphs are unweighted
	FirstData  int      // the file's first line when it is read as an edge, not a header; else 0
	Notes      []string // what was ignored, for the user

	nonInt string // where the first non-integer id is, for ReadEdgeList's error
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
// some edge exist. Errors name file:line and the column; every bad line is reported at once.
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
	// Every bad line is reported (up to yamlx.MaxErrors), not only the first.
	bad := yamlx.NewList(name)
	lineErr := func(line int, format string, args ...any) {
		bad.Add(&yamlx.Error{File: name, Line: line, Msg: fmt.Sprintf(format, args...)})
	}
	id := func(line int, col, f string) (int32, bool) {
		if f == "" {
			lineErr(line, "column %s: empty id", col)
			return 0, false
		}
		if v, err := strconv.ParseInt(f, 10, 64); err == nil {
			f = strconv.FormatInt(v, 10)
		} else if allInt {
			allInt = false
			res.nonInt = fmt.Sprintf("%s:%d: column %s: id %q is not an integer", name, line, col, yamlx.Clip(f))
		}
		x, ok := index[f]
		if !ok {
			x = int32(len(res.IDs))
			index[f] = x
			res.IDs = append(res.IDs, f)
			res.Lines = append(res.Lines, line)
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
			lineErr(line, "line is longer than the limit of %s (one edge per line)", yamlx.SizeWord(int64(MaxLineBytes)))
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
		if first {
			delim = yamlx.Delimiter(text)
		}
		var err error
		if fields, err = splitFields(fields[:0], text, delim); err != nil {
			lineErr(line, "%v", err)
			first = false
			continue
		}
		if first {
			first = false
			if s, d, ok := headerColumns(fields); ok {
				srcCol, dstCol, weightCol, ncols, header = s, d, -1, len(fields), true
				for i, f := range fields {
					if i == s || i == d {
						continue
					}
					if strings.EqualFold(f, "weight") && weightCol < 0 {
						weightCol = i
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
			missing, col := "target", dstCol
			if len(fields) <= srcCol {
				missing, col = "source", srcCol
			}
			lineErr(line, "missing column %q (column %d): found %d field(s), expected %d", missing, col+1, len(fields), ncols)
			continue
		}
		s, okS := id(line, "source", fields[srcCol])
		t, okT := id(line, "target", fields[dstCol])
		ok := okS && okT
		if ok && s == t {
			lineErr(line, "self-loop on id %q: prosim graphs are simple", yamlx.Clip(res.IDs[s]))
			ok = false
		}
		if weightCol >= 0 && weightCol < len(fields) && fields[weightCol] != "" {
			if w, err := strconv.ParseFloat(fields[weightCol], 64); err != nil || math.IsNaN(w) || math.IsInf(w, 0) {
				lineErr(line, "column %d: weight %q is not a number", weightCol+1, yamlx.Clip(fields[weightCol]))
				ok = false
			}
		}
		if width := max(ncols, weightCol+1); len(fields) > width {
			what := fmt.Sprintf("the header names %d columns", ncols)
			if !header {
				what = "without a header a line is source, target and an optional weight"
			}
			lineErr(line, "column %d: extra field %q: %s", width+1, yamlx.Clip(fields[width]), what)
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
		lines := make([]int, n)
		for node, old := range order {
			newOf[old] = int32(node)
			res.IntIDs[node] = ints[old]
			ids[node] = res.IDs[old]
			lines[node] = res.Lines[old]
		}
		res.IDs, res.Lines = ids, lines
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

func splitFields(dst []string, line string, delim byte) ([]string, error) {
	var raw []string
	if delim == ' ' {
		raw = strings.Fields(line)
	} else {
		raw = strings.Split(line, string(delim))
	}
	for i, f := range raw {
		f = strings.TrimSpace(f)
		if strings.HasPrefix(f, `"`) || strings.HasSuffix(f, `"`) {
			if len(f) < 2 || !strings.HasPrefix(f, `"`) || !strings.HasSuffix(f, `"`) {
				return nil, errors.New("column " + strconv.Itoa(i+1) + ": unbalanced quote in " + strconv.Quote(yamlx.Clip(f)))
			}
			f = f[1 : len(f)-1]
		}
		dst = append(dst, f)
	}
	return dst, nil
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
		l.Add(&yamlx.Error{File: name, Line: r.Lines[x], Msg: msg})
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
