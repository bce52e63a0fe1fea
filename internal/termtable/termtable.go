// Package termtable prints aligned text tables that fit a terminal: a table wider than the
// width is split by columns into blocks, each repeating the key columns (such as the scenario
// name), so no cell is ever cut in the middle of a number.
package termtable

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"
)

var width atomic.Int64

// SetWidth sets the width the tables of this process fit (the terminal's columns); 0, the
// default, never splits a table (output to a file or a pipe).
func SetWidth(w int) { width.Store(int64(w)) }

// Width is the width set by SetWidth.
func Width() int { return int(width.Load()) }

// Fit wraps w so that the tables written to it fit width columns, whatever SetWidth says:
// for a caller that knows its output's width (a test printing at 80 columns beside others).
func Fit(w io.Writer, width int) io.Writer { return fitted{w, width} }

type fitted struct {
	io.Writer
	width int
}

// WidthOf is the width the tables written to w fit: Fit's, else the process's; 0 for a file
// or a pipe, whose tables are printed whole.
func WidthOf(w io.Writer) int { return widthOf(w) }

// widthOf is the width the tables written to w fit: Fit's, else the process's.
func widthOf(w io.Writer) int {
	if f, ok := w.(fitted); ok {
		return f.width
	}
	return Width()
}

// Write prints rows (the first is the header) as tabwriter does with two spaces between
// columns, fitting Width: when the table is wider, it is printed as several blocks of
// columns separated by a blank line, each starting with the first key columns.
func Write(w io.Writer, key int, rows [][]string) error { return WriteWidth(w, widthOf(w), key, rows) }

// WriteWidth is Write for an explicit width (0: never split).
func WriteWidth(w io.Writer, width, key int, rows [][]string) error {
	return WriteStyle(w, width, key, rows, Style{})
}

// Style is how a table's cells are laid out.
type Style struct {
	Pad   int  // spaces between columns; 0 means 2
	Right bool // right-align every column (numeric grids)
	// Wrap lets columns wrap between words onto more lines of their row when the table is
	// wider than the width: column index -> the narrowest it may become, in characters (a
	// longer word keeps its length). Key columns may wrap too. Without a width nothing wraps.
	Wrap map[int]int
}

// WriteRight is Write for a right-aligned table with one space between columns.
func WriteRight(w io.Writer, key int, rows [][]string) error {
	return WriteStyle(w, widthOf(w), key, rows, Style{Pad: 1, Right: true})
}

// WriteWrap is Write with wrapping columns (Style.Wrap: column index -> narrowest width).
func WriteWrap(w io.Writer, key int, rows [][]string, wrap map[int]int) error {
	return WriteStyle(w, widthOf(w), key, rows, Style{Wrap: wrap})
}

// WriteStyle is WriteWidth with a style. Without a width it prints what a tabwriter with the
// same padding and alignment prints for the rows, each cell followed by a tab. With a width,
// lines carry no trailing spaces, so a left-aligned block's last column needs no padding.
func WriteStyle(w io.Writer, width, key int, rows [][]string, st Style) error {
	rows = plainRows(rows)
	pad := st.Pad
	if pad == 0 {
		pad = 2
	}
	var flags uint
	if st.Right {
		flags = tabwriter.AlignRight
	}
	n := 0
	for _, r := range rows {
		n = max(n, len(r))
	}
	cols := make([]int, n) // each column's width with its padding
	for _, r := range rows {
		for j, c := range r {
			cols[j] = max(cols[j], utf8.RuneCountInString(c)+pad)
		}
	}
	key = min(key, n)
	// limit is what a block's columns, padding included, may add up to: a left-aligned
	// block's trailing padding is trimmed.
	limit := width
	if !st.Right {
		limit += pad
	}
	natural := slices.Clone(cols)
	wrap := width > 0 && sum(cols) > limit && len(st.Wrap) > 0
	if wrap {
		for j, least := range st.Wrap {
			if j < n {
				cols[j] = min(cols[j], max(least, longestWord(rows, j))+pad)
			}
		}
	}
	keyW := sum(cols[:key])
	var blocks [][]int // column indexes after the key columns
	cur, curW := []int{}, keyW
	for j := key; j < n; j++ {
		if width > 0 && len(cur) > 0 && curW+cols[j] > limit {
			blocks, cur, curW = append(blocks, cur), []int{}, keyW
		}
		cur, curW = append(cur, j), curW+cols[j]
	}
	blocks = append(blocks, cur)
	// Each block's room is given back to its wrapped columns, the key's last (they are
	// printed in every block, so they grow by the least room any block has left).
	blockCols := make([][]int, len(blocks))
	if wrap {
		spare := limit
		for bi, b := range blocks {
			bc := slices.Clone(cols)
			room := limit - keyW
			for _, j := range b {
				room -= bc[j]
			}
			for _, j := range b {
				if _, ok := st.Wrap[j]; ok && room > 0 {
					g := min(room, natural[j]-bc[j])
					bc[j], room = bc[j]+g, room-g
				}
			}
			blockCols[bi], spare = bc, min(spare, max(room, 0))
		}
		for j := range key {
			if _, ok := st.Wrap[j]; ok && spare > 0 {
				g := min(spare, natural[j]-cols[j])
				spare -= g
				for _, bc := range blockCols {
					bc[j] += g
				}
			}
		}
	}
	for bi, b := range blocks {
		if bi > 0 {
			fmt.Fprintln(w)
		}
		out := w
		var buf bytes.Buffer
		if width > 0 {
			out = &buf
		}
		tw := tabwriter.NewWriter(out, 0, 0, pad, ' ', flags)
		var line []int // the block's columns: the key's, then its own
		for j := range key {
			line = append(line, j)
		}
		line = append(line, b...)
		for _, r := range rows {
			cells := make([][]string, len(line))
			h := 1
			for i, j := range line {
				cells[i] = []string{cell(r, j)}
				if wrap {
					if _, ok := st.Wrap[j]; ok {
						cells[i] = wrapWords(cell(r, j), blockCols[bi][j]-pad)
					}
				}
				h = max(h, len(cells[i]))
			}
			for k := range h {
				var l strings.Builder
				for i := range line {
					if k < len(cells[i]) {
						l.WriteString(cells[i][k])
					}
					l.WriteString("\t")
				}
				fmt.Fprintln(tw, l.String())
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if width > 0 {
			for l := range strings.Lines(buf.String()) {
				if _, err := fmt.Fprintln(w, strings.TrimRight(l, " \n")); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// longestWord is the length of the longest word in column j: it never wraps.
func longestWord(rows [][]string, j int) int {
	n := 0
	for _, r := range rows {
		for _, f := range strings.Fields(cell(r, j)) {
			n = max(n, utf8.RuneCountInString(f))
		}
	}
	return n
}

// wrapWords breaks s between words into lines of at most width characters; a longer word
// has a line of its own and is never cut.
func wrapWords(s string, width int) []string {
	var lines []string
	var cur string
	for _, f := range strings.Fields(s) {
		switch {
		case cur == "":
			cur = f
		case utf8.RuneCountInString(cur)+1+utf8.RuneCountInString(f) <= width:
			cur += " " + f
		default:
			lines, cur = append(lines, cur), f
		}
	}
	return append(lines, cur)
}

// WriteText prints a line of prose (a table's title, a line of numbers) wrapped between words
// to the width of w's tables, so that the terminal does not break it inside a number;
// without a width, as one line.
func WriteText(w io.Writer, text string) error {
	text = Plain(text)
	lines := []string{text}
	if width := widthOf(w); width > 0 {
		lines = wrapWords(text, width)
	}
	for _, l := range lines {
		if _, err := fmt.Fprintln(w, l); err != nil {
			return err
		}
	}
	return nil
}

// WriteList prints items as a list, each starting "- ", wrapped between words to the width
// of w's tables (Write) with continuation lines indented by two spaces; without a width,
// one line per item.
func WriteList(w io.Writer, items []string) error {
	width := widthOf(w)
	for _, it := range items {
		it = Plain(it)
		lines := []string{it}
		if width > 0 {
			lines = wrapWords(it, width-2)
		}
		for i, l := range lines {
			lead := "  "
			if i == 0 {
				lead = "- "
			}
			if _, err := fmt.Fprintln(w, lead+l); err != nil {
				return err
			}
		}
	}
	return nil
}

func cell(r []string, j int) string {
	if j < len(r) {
		return r[j]
	}
	return ""
}

// Plain is s as a terminal shows it plainly: its control characters (a tab or a newline would
// break a table's columns too) and bidirectional-text controls (U+202E reverses the rest of the
// terminal line) written as Go escapes, such as \u202e. Text from users' files (titles, names)
// reaches tables, titles and lists through it.
func Plain(s string) string { return plain(s, unplain) }

// PlainLines is Plain keeping newlines: for a text shown whole, such as a prompt.
func PlainLines(s string) string {
	return plain(s, func(r rune) bool { return r != '\n' && unplain(r) })
}

func plain(s string, unplain func(rune) bool) string {
	if !strings.ContainsFunc(s, unplain) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unplain(r) {
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func unplain(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }

// plainRows is rows with every cell Plain: rows itself when no cell changes.
func plainRows(rows [][]string) [][]string {
	if !slices.ContainsFunc(rows, func(r []string) bool {
		return slices.ContainsFunc(r, func(c string) bool { return strings.ContainsFunc(c, unplain) })
	}) {
		return rows
	}
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = make([]string, len(r))
		for j, c := range r {
			out[i][j] = Plain(c)
		}
	}
	return out
}
