// Package termtable prints aligned text tables that fit a terminal: a table wider than the
// width is split by columns into blocks, each repeating the key columns (such as the scenario
// name), so no cell is ever cut in the middle of a number.
package termtable

import (
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"text/tabwriter"
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
}

// WriteRight is Write for a right-aligned table with one space between columns.
func WriteRight(w io.Writer, key int, rows [][]string) error {
	return WriteStyle(w, widthOf(w), key, rows, Style{Pad: 1, Right: true})
}

// WriteStyle is WriteWidth with a style. Without a width it prints what a tabwriter with the
// same padding and alignment prints for the rows, each cell followed by a tab.
func WriteStyle(w io.Writer, width, key int, rows [][]string, st Style) error {
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
	cols := make([]int, n)
	for _, r := range rows {
		for j, c := range r {
			cols[j] = max(cols[j], utf8.RuneCountInString(c)+pad)
		}
	}
	key = min(key, n)
	keyW := 0
	for _, c := range cols[:key] {
		keyW += c
	}
	var blocks [][]int // column indexes after the key columns
	cur, curW := []int{}, keyW
	for j := key; j < n; j++ {
		if width > 0 && len(cur) > 0 && curW+cols[j] > width {
			blocks, cur, curW = append(blocks, cur), []int{}, keyW
		}
		cur, curW = append(cur, j), curW+cols[j]
	}
	blocks = append(blocks, cur)
	for bi, b := range blocks {
		if bi > 0 {
			fmt.Fprintln(w)
		}
		tw := tabwriter.NewWriter(w, 0, 0, pad, ' ', flags)
		for _, r := range rows {
			var line strings.Builder
			for j := range key {
				line.WriteString(cell(r, j) + "\t")
			}
			for _, j := range b {
				line.WriteString(cell(r, j) + "\t")
			}
			fmt.Fprintln(tw, line.String())
		}
		if err := tw.Flush(); err != nil {
			return err
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
