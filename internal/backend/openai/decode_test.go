package openai

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// reference is how the SDK decoded a reply: the first JSON value, by encoding/json.
func reference(b []byte) (completion, error) {
	var c completion
	err := json.NewDecoder(bytes.NewReader(b)).Decode(&c)
	return c, err
}

// sameAsReference checks that decodeCompletion gives what encoding/json gives, and returns
// whether the short road took it.
func sameAsReference(t *testing.T, body string) bool {
	t.Helper()
	want, werr := reference([]byte(body))
	var fast completion
	short := fastCompletion([]byte(body), &fast)
	if short && (werr != nil || !reflect.DeepEqual(fast, want)) {
		t.Fatalf("short road on %q: %+v; encoding/json: %+v, %v", body, fast, want, werr)
	}
	var got completion
	err := decodeCompletion([]byte(body), &got)
	if (err != nil) != (werr != nil) || err != nil && err.Error() != werr.Error() {
		t.Fatalf("%q: error %v, encoding/json's %v", body, err, werr)
	}
	if err == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: %+v, encoding/json %+v", body, got, want)
	}
	return short
}

// Replies as servers send them take the short road and decode as encoding/json decodes them.
func TestDecodeShortRoad(t *testing.T) {
	for _, body := range []string{
		okBody,
		reply,
		`{"model":"m","choices":[{"message":{"content":"{\"a\": 1,\n\t\"b\": \"x\\\\y\/z\"}\r\b\f"}}],"usage":{"prompt_tokens":0,"completion_tokens":-0}}`,
		`{"choices":[{"index":0,"message":{"role":"assistant","content":null,"refusal":"I can't help with that."},"logprobs":null}]}`,
		`{"choices":[{"message":{"content":"a"}},{"message":{"content":"b"}},{"message":{"content":"c"}}],"usage":null}`,
		`{"model":"m","system_fingerprint":"fp_1","choices":[],"usage":{"prompt_tokens":9007199254740993,"completion_tokens":2,"details":{"x":[1,2.5e-3,true,false,null,"\u00e9"]}}}`,
		`  {"choices":[{"message":{"content":"héllo — ünïcode ✓"}}]} trailing text is not read`,
		`{"choices":null,"model":null}`,
		`{}`,
	} {
		if !sameAsReference(t, body) {
			t.Errorf("%q took the slow road", body)
		}
	}
}

const reply = `{"id":"chatcmpl-0123456789","object":"chat.completion","created":1700000000,"model":"loopback-1",` +
	`"system_fingerprint":"fp_0123456789","choices":[{"index":0,"finish_reason":"stop","logprobs":null,` +
	`"message":{"role":"assistant","content":"{\"willingness\": 5}","refusal":null}}],` +
	`"usage":{"prompt_tokens":412,"completion_tokens":7,"total_tokens":419}}`

// Anything off the short road is left to encoding/json, with its result or its error.
func TestDecodeSlowRoad(t *testing.T) {
	for _, body := range []string{
		`{"choices":[{"message":{"content":"caf\u00e9 \ud83d\ude00 \ud800"}}]}`, // \u escapes
		`{"Model":"m","choices":[{"Message":{"CONTENT":"x"}}]}`,                 // keys matched ignoring case
		`{"model":"a","model":"b","choices":[]}`,                                // a field twice
		`{"choices":[{"message":{"content":"x"}}],"choices":[{"message":{}}]}`,
		`{"choices":[null,{"message":{"content":"x"}}]}`,
		"{\"choices\":[{\"message\":{\"content\":\"bad \xff byte\"}}]}",
		`{"usage":{"prompt_tokens":1.0}}`, // not an integer: encoding/json errs
		`{"usage":{"prompt_tokens":99999999999999999999}}`,
		`{"model":5}`,
		`{"choices":{}}`,
		`{"choices":[{"message":{"content":"x"}}]]]`,
		`{"choices":[{"message":{"content":"x"}`,
		`{"a":01}`,
		`{"a":[1,]}`,
		`{"a":"\x"}`,
		"{\"a\":\"tab\tinside\"}",
		`"hello"`,
		`null`,
		``,
		`{"a":` + strings.Repeat("[", maxSkipDepth+5) + strings.Repeat("]", maxSkipDepth+5) + `}`,
	} {
		if sameAsReference(t, body) {
			t.Errorf("%q took the short road", body)
		}
	}
}

func FuzzDecodeCompletion(f *testing.F) {
	for _, s := range []string{okBody, reply, `{"choices":[{"message":{"content":"a\"b","refusal":null}}],"usage":{"prompt_tokens":1}}`,
		`{"choices":[{"message":{"content":"caf\u00e9"}}]}`, `{"a":[1,-2.5e+3,{"b":null}],"model":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsReference(t, string(b))
	})
}
