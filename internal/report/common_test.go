package report

import "testing"

// The calls column names failed calls, unusable calls (which may have been billed) and calls
// whose reply said no token usage (at their worst case) apart.
func TestFailedUnusable(t *testing.T) {
	for _, c := range []struct {
		failed, unusable, noUsage int
		want                      string
	}{
		{2, 0, 0, "2 failed"},
		{0, 1, 0, "1 unusable (cut, malformed, or timed out after sending)"},
		{2, 1, 0, "2 failed, 1 unusable (cut, malformed, or timed out after sending)"},
		{0, 0, 3, "3 without token usage, at their worst case"},
		{1, 0, 1, "1 failed, 1 without token usage, at their worst case"},
	} {
		if got := failedUnusable(c.failed, c.unusable, c.noUsage); got != c.want {
			t.Errorf("failedUnusable(%d, %d, %d) = %q, want %q", c.failed, c.unusable, c.noUsage, got, c.want)
		}
	}
}
