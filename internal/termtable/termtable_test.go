package termtable

import (
	"strings"
	"testing"
)

func TestSplitsByColumnsAt80(t *testing.T) {
	rows := [][]string{{"scenario", "none", "moral", "social", "enforce", "economic"}}
	for _, sc := range []string{"volunteering", "helping"} {
		rows = append(rows, []string{sc, "4.43 [4.27, 4.58]", "4.66 [4.51, 4.81]", "4.90 [4.74, 5.07]", "4.71 [4.53, 4.90]", "4.55 [4.40, 4.69]"})
	}
	var b strings.Builder
	if err := WriteWidth(&b, 80, 1, rows); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	blocks := strings.Split(out, "\n\n")
	if len(blocks) != 2 {
		t.Fatalf("%d blocks, want 2:\n%s", len(blocks), out)
	}
	for _, line := range strings.Split(out, "\n") {
		if len(line) > 80 {
			t.Errorf("%d columns: %q", len(line), line)
		}
	}
	for _, blk := range blocks {
		lines := strings.Split(strings.TrimSpace(blk), "\n")
		if !strings.HasPrefix(lines[0], "scenario") || !strings.HasPrefix(lines[1], "volunteering") || !strings.HasPrefix(lines[2], "helping") {
			t.Errorf("block does not repeat the key column:\n%s", blk)
		}
	}
	// Every cell is whole: each interval appears intact.
	if strings.Count(out, "4.90 [4.74, 5.07]") != 2 || !strings.Contains(blocks[1], "economic") {
		t.Errorf("cells cut or lost:\n%s", out)
	}
	// Width 0 (a file or pipe): one block, as tabwriter prints it.
	b.Reset()
	WriteWidth(&b, 0, 1, rows)
	if strings.Contains(b.String(), "\n\n") || !strings.Contains(strings.Split(b.String(), "\n")[0], "economic") {
		t.Errorf("width 0 split the table:\n%s", b.String())
	}
}

func TestRightAlignedAndFitted(t *testing.T) {
	rows := [][]string{{"x\\y", "0", "1"}, {"10", "0.88", "0.84"}}
	var b strings.Builder
	if err := WriteRight(&b, 1, rows); err != nil {
		t.Fatal(err)
	}
	if want := " x\\y    0    1\n  10 0.88 0.84\n"; b.String() != want {
		t.Errorf("right-aligned:\n%q\nwant\n%q", b.String(), want)
	}
	// Fit sets the width of one writer's tables, whatever SetWidth says.
	wide := [][]string{{"key", strings.Repeat("a", 50), strings.Repeat("b", 50)}}
	b.Reset()
	if err := Write(Fit(&b, 80), 1, wide); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "\n\n") {
		t.Errorf("Fit(80) did not split a 110-column table:\n%s", b.String())
	}
	b.Reset()
	Write(&b, 1, wide)
	if strings.Contains(b.String(), "\n\n") {
		t.Errorf("width 0 split the table:\n%s", b.String())
	}
}

func TestWrapsCellsBetweenWordsToFit(t *testing.T) {
	rows := [][]string{{"game", "measure", "this run", "reference"}}
	rows = append(rows, []string{"dictator", "gave exactly half, % of dictators", "24.2% [21.6, 27.0]", "16.74% (Engel 2011)"})
	rows = append(rows, []string{"public_goods_punish", "round 10 contribution, % of endowment", "90.3% [89.2, 91.4]", "rises and stays high (Fehr & Gächter 2000, 2002)"})
	var b strings.Builder
	if err := WriteStyle(&b, 60, 2, rows, Style{Wrap: map[int]int{1: 12, 3: 20}}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, line := range strings.Split(out, "\n") {
		if len([]rune(line)) > 60 {
			t.Errorf("%d columns: %q", len([]rune(line)), line)
		}
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing spaces: %q", line)
		}
	}
	blocks := strings.Split(out, "\n\n")
	if len(blocks) != 2 {
		t.Fatalf("%d blocks, want 2:\n%s", len(blocks), out)
	}
	// Every block labels its rows by game and measure; cut words would lose these.
	for _, blk := range blocks {
		for _, w := range []string{"measure", "gave exactly", "round 10", "endowment"} {
			if !strings.Contains(blk, w) {
				t.Errorf("block without %q:\n%s", w, blk)
			}
		}
	}
	for _, cell := range []string{"24.2% [21.6, 27.0]", "90.3% [89.2, 91.4]"} {
		if !strings.Contains(blocks[0], cell) {
			t.Errorf("%q cut or lost:\n%s", cell, out)
		}
	}
	// The continuation of a wrapped cell stays in its column, other cells blank.
	if !strings.Contains(out, "\n                     ") {
		t.Errorf("no continuation line under the measure column:\n%s", out)
	}
	// A table that fits does not wrap; without a width nothing wraps.
	for _, width := range []int{0, 200} {
		b.Reset()
		WriteStyle(&b, width, 2, rows, Style{Wrap: map[int]int{1: 12, 3: 20}})
		if n := strings.Count(b.String(), "\n"); n != 3 {
			t.Errorf("width %d: %d lines, want 3:\n%s", width, n, b.String())
		}
	}
}

func TestWrapWordsNeverCutsAWord(t *testing.T) {
	got := wrapWords("no (temperature 0.70: higher, levels: no difference)", 12)
	want := []string{"no", "(temperature", "0.70:", "higher,", "levels: no", "difference)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("%q, want %q", got, want)
	}
}

func TestWriteListWrapsWithAHangingIndent(t *testing.T) {
	item := "moral - none, volunteering, higher: wording no (original: no difference, p1: no difference, p2: no difference); scale no (descending: no difference)"
	var b strings.Builder
	if err := WriteList(Fit(&b, 80), []string{item, "short"}); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "- moral") || !strings.HasPrefix(lines[1], "  ") || lines[2] != "- short" {
		t.Errorf("list:\n%s", b.String())
	}
	for _, l := range lines {
		if len(l) > 80 {
			t.Errorf("%d columns: %q", len(l), l)
		}
	}
	if strings.Join(strings.Fields(b.String()), " ") != "- "+item+" - short" {
		t.Errorf("words lost or changed:\n%s", b.String())
	}
	b.Reset()
	WriteList(&b, []string{item})
	if b.String() != "- "+item+"\n" {
		t.Errorf("without a width: %q", b.String())
	}
}

func TestWriteTextWrapsProseBetweenWords(t *testing.T) {
	text := strings.Repeat("word ", 15) + "at 0.05 and 1000 resamples" // unwrapped, 0.05 is columns 79-82
	var b strings.Builder
	if err := WriteText(Fit(&b, 80), text); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 || len(lines[0]) > 80 || strings.Join(lines, " ") != strings.TrimSpace(text) {
		t.Errorf("wrapped:\n%s", b.String())
	}
	b.Reset()
	WriteText(&b, text)
	if b.String() != text+"\n" {
		t.Errorf("without a width: %q", b.String())
	}
}

// A right-to-left override in a cell (a scenario's title) would reverse the rest of the
// terminal line, and a tab would break the columns: tables, titles and lists escape them.
func TestControlCharactersEscaped(t *testing.T) {
	var b strings.Builder
	rows := [][]string{{"ID", "TITLE", "N"}, {"a", "x\u202ey\tz", "1"}, {"bb", "لا سياسة", "2"}}
	if err := Write(&b, 1, rows); err != nil {
		t.Fatal(err)
	}
	want := "ID  TITLE        N  \na   x\\u202ey\\tz  1  \nbb  لا سياسة     2  \n"
	if got := b.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	if rows[1][1] != "x\u202ey\tz" {
		t.Errorf("the caller's rows changed: %q", rows[1][1])
	}
	b.Reset()
	WriteText(&b, "title \u2067x\u2069\x1b[31m")
	WriteList(&b, []string{"item\u200f\n"})
	if want := "title \\u2067x\\u2069\\x1b[31m\n- item\\u200f\\n\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// PlainLines keeps a text's lines and escapes the rest as Plain does.
func TestPlainLinesKeepsNewlines(t *testing.T) {
	if got := PlainLines("a\u202eb\nc\td"); got != `a\u202eb`+"\n"+`c\td` {
		t.Errorf("got %q", got)
	}
}
