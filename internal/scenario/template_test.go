package scenario

import "testing"

// A text is parsed once and its template shared; a text that does not parse is not kept.
func TestTemplateParsedOnce(t *testing.T) {
	a, err := Template("parsed_once", "You give {{.x}} of {{.endowment}}.")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Template("parsed_once", "You give {{.x}} of {{.endowment}}.")
	if err != nil || a != b {
		t.Errorf("the same text parsed twice (%p, %p, %v)", a, b, err)
	}
	if c, _ := Template("parsed_once", "You give {{.y}}."); c == a {
		t.Error("another text got the first one's template")
	}
	for range 2 {
		if _, err := Template("parsed_once", "{{.x"); err == nil {
			t.Error("a text that does not parse was accepted")
		}
	}
}
