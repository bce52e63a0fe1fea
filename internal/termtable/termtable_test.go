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
