package report

import "testing"

// The calls column names failed calls and unusable calls (which may have been billed) apart.
func TestFailedUnusable(t *testing.T) {
	for _, c := range []struct {
		failed, unusable int
		want             string
	}{
		{2, 0, "2 failed"},
		{0, 1, "1 unusable (cut, malformed, or timed out after sending)"},
		{2, 1, "2 failed, 1 unusable (cut, malformed, or timed out after sending)"},
	} {
		if got := failedUnusable(c.failed, c.unusable); got != c.want {
			t.Errorf("failedUnusable(%d, %d) = %q, want %q", c.failed, c.unusable, got, c.want)
		}
	}
}
