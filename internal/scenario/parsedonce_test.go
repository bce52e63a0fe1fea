package scenario

import (
	"testing"

	"github.com/prosim/prosim/internal/yamlx"
)

// A scenario file is parsed once: the locator's parse is the one it is decoded from (it was
// parsed by the locator and again by the decoder, and lexed once more for its limits).
func TestFileParsedOnce(t *testing.T) {
	src := "id: charity\nkind: game\ngame: dictator\ntext: You have {{.endowment}} tokens.\nquestion: How many do you give?\n" +
		"response: {fields: [{name: give, kind: amount, min: 0, max: 100, step: 1}]}\n"
	before := yamlx.Parses("once.yaml")
	if _, err := Load([]byte(src), "once.yaml"); err != nil {
		t.Fatal(err)
	}
	if n := yamlx.Parses("once.yaml") - before; n != 1 {
		t.Errorf("parsed %d times", n)
	}
}
