package store

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// The hand-written encoding must be byte for byte encoding/json's, and decode to what it
// decodes, or a run's database would differ from one written before.
func TestFloatsMatchEncodingJSON(t *testing.T) {
	ms := []map[string]float64{
		nil, {}, {"willingness": 5}, {"x": 12, "y": 3, "endowment": 20},
		{"a": 0.1, "b": -2.5e-7, "c": 1e21, "d": 123456789.125, "e": -0, "f": 1e-6, "g": 3.0e300},
		{"willingness_raw": 7, "willingness": 1},
		{"needs \"escape\"": 1}, {"<html>": 2}, {"nan": math.NaN()},
	}
	for _, m := range ms {
		want, _ := json.Marshal(m)
		got := encodeFloats(m)
		if string(got) != string(want) {
			t.Errorf("encodeFloats(%v) = %s, encoding/json gives %s", m, got, want)
		}
		if len(want) == 0 {
			continue
		}
		var wm map[string]float64
		json.Unmarshal(want, &wm)
		gm, err := decodeFloats(string(want))
		if err != nil || !reflect.DeepEqual(gm, wm) {
			t.Errorf("decodeFloats(%s) = %v, %v; encoding/json gives %v", want, gm, err, wm)
		}
	}
	for _, s := range []string{`{"a":1,"b":2}`, `{ "a": 1 }`, `{"a":+1}`, `{"a":0x10}`, `{"a":1,}`, `{"a"}`, `[1]`, `{"a":Inf}`} {
		var wm map[string]float64
		werr := json.Unmarshal([]byte(s), &wm)
		gm, gerr := decodeFloats(s)
		if (werr == nil) != (gerr == nil) || werr == nil && !reflect.DeepEqual(gm, wm) {
			t.Errorf("decodeFloats(%s) = %v, %v; encoding/json gives %v, %v", s, gm, gerr, wm, werr)
		}
	}
}
