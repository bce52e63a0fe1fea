package persona

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

type kind int

const (
	kindInt kind = iota
	kindFloat
	kindString
)

// column is one flattened Persona field; its name is the json tag.
type column struct {
	name  string
	kind  kind
	trait bool
	i     func(*Persona) *int
	f     func(*Persona) *float64
	s     func(*Persona) *string
}

// Columns returns the CSV column names in the order WriteCSV writes them.
func Columns() []string {
	out := make([]string, len(columns))
	for i, c := range columns {
		out[i] = c.name
	}
	return out
}

var columns = func() []column {
	cs := []column{
		{name: "id", kind: kindInt, i: func(p *Persona) *int { return &p.ID }},
		{name: "gender", kind: kindString, s: func(p *Persona) *string { return &p.Gender }},
		{name: "age", kind: kindInt, i: func(p *Persona) *int { return &p.Age }},
		{name: "age_bracket", kind: kindString, s: func(p *Persona) *string { return &p.AgeBracket }},
		{name: "marital", kind: kindString, s: func(p *Persona) *string { return &p.Marital }},
		{name: "income_quintile", kind: kindInt, i: func(p *Persona) *int { return &p.IncomeQuintile }},
		{name: "annual_income", kind: kindFloat, f: func(p *Persona) *float64 { return &p.AnnualIncome }},
		{name: "currency", kind: kindString, s: func(p *Persona) *string { return &p.Currency }},
		{name: "education", kind: kindString, s: func(p *Persona) *string { return &p.Education }},
		{name: "occupation", kind: kindString, s: func(p *Persona) *string { return &p.Occupation }},
	}
	for _, t := range traitSpecs {
		cs = append(cs, column{name: t.Key, kind: kindFloat, trait: true,
			f: func(p *Persona) *float64 { return t.get(&p.Traits) }})
	}
	return cs
}()

// setText parses a text value (CSV cell) into the column's field.
func (c column) setText(p *Persona, v string) error {
	v = strings.TrimSpace(v)
	switch c.kind {
	case kindInt:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", v)
		}
		*c.i(p) = n
	case kindFloat:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%q is not a number", v)
		}
		*c.f(p) = x
	default:
		*c.s(p) = v
	}
	return nil
}

// setJSON parses a JSON value into the column's field; numbers must be JSON
// numbers and text must be JSON strings.
func (c column) setJSON(p *Persona, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if c.kind == kindString {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("%s is not a string", raw)
		}
		*c.s(p) = s
		return nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		what := "a number"
		if c.kind == kindInt {
			what = "a whole number"
		}
		return fmt.Errorf("%s is a string, not %s", raw, what)
	}
	var x float64
	if err := json.Unmarshal(raw, &x); err != nil {
		return fmt.Errorf("%s is not a number", raw)
	}
	if c.kind == kindInt {
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return fmt.Errorf("%s is not a whole number", raw)
		}
		*c.i(p) = int(x)
		return nil
	}
	*c.f(p) = x
	return nil
}

// Load reads a population file, choosing the format by extension: .csv,
// .jsonl, or .json (a JSON array of personas, or the original study's agent
// file, which is detected by its keys).
func Load(path string) ([]Persona, error) {
	var read func(io.Reader, string) ([]Persona, error)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		read = ReadCSV
	case ".jsonl", ".ndjson":
		read = ReadJSONL
	case ".json":
		read = ReadJSON
	default:
		return nil, fmt.Errorf("%s: unknown population file type %q (want .csv, .jsonl or .json)", path, filepath.Ext(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return read(&capped{r: f, left: MaxFileBytes, name: path}, path) // errors name the path as the user gave it
}

// MaxFileBytes bounds the size of a population file (1 GB: some 5 to 10 million personas).
var MaxFileBytes int64 = 1 << 30

// MaxLineBytes bounds one line of a JSONL population file (one persona is well under 1 KB).
var MaxLineBytes = 16 << 20

// capped reads at most left bytes, then fails with an error saying the limit.
type capped struct {
	r    io.Reader
	left int64
	name string
}

func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("file is larger than the limit of %d MB", MaxFileBytes>>20)
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// located is a parsed persona with the line it started on.
type located struct {
	p    Persona
	line int
}

// finish normalizes each persona, checks that IDs are unique and that there
// is at least one persona. jsonNames renders trait fields as traits.<key>.
func finish(name string, rs []located, jsonNames bool) ([]Persona, error) {
	if len(rs) == 0 {
		return nil, &FieldError{File: name, Msg: "no personas in file"}
	}
	out := make([]Persona, len(rs))
	seen := make(map[int]int, len(rs))
	for i, r := range rs {
		p := r.p
		if fe := normalize(&p); fe != nil {
			fe.File, fe.Line = name, r.line
			if jsonNames && isTrait(fe.Field) {
				fe.Field = "traits." + fe.Field
			}
			return nil, fe
		}
		if prev, dup := seen[p.ID]; dup {
			return nil, &FieldError{File: name, Line: r.line, Field: "id", Msg: fmt.Sprintf("duplicate id %d (first on line %d)", p.ID, prev)}
		}
		seen[p.ID] = r.line
		out[i] = p
	}
	return out, nil
}

func isTrait(field string) bool {
	for _, t := range traitSpecs {
		if t.Key == field {
			return true
		}
	}
	return false
}

// ReadCSV reads a CSV population with a header row of prosim's column names
// (see Columns) in any order. name labels errors, e.g. the file name.
func ReadCSV(r io.Reader, name string) ([]Persona, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &FieldError{File: name, Msg: "file is empty (want a header row and one row per persona)"}
	}
	if err != nil {
		return nil, csvErr(name, err)
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // spreadsheet BOM
	}
	index := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := index[h]; dup {
			return nil, &FieldError{File: name, Line: 1, Field: h, Msg: "column appears twice in the header"}
		}
		index[h] = i
	}
	for h := range index {
		if !knownColumn(h) {
			return nil, &FieldError{File: name, Line: 1, Field: h, Msg: fmt.Sprintf("unknown column (want %s)", strings.Join(Columns(), ", "))}
		}
	}
	var missing []string
	for _, c := range columns {
		if _, ok := index[c.name]; !ok {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return nil, &FieldError{File: name, Line: 1, Msg: "missing column(s): " + strings.Join(missing, ", ")}
	}
	var rs []located
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		line, _ := cr.FieldPos(0)
		var p Persona
		for _, c := range columns {
			if err := c.setText(&p, rec[index[c.name]]); err != nil {
				return nil, &FieldError{File: name, Line: line, Field: c.name, Msg: err.Error()}
			}
		}
		rs = append(rs, located{p, line})
	}
	return finish(name, rs, false)
}

func knownColumn(h string) bool {
	for _, c := range columns {
		if c.name == h {
			return true
		}
	}
	return false
}

func csvErr(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &FieldError{File: name, Line: pe.Line, Msg: pe.Err.Error()}
	}
	return fmt.Errorf("%s: %w", name, err)
}

// ReadJSONL reads one Persona JSON object per line; blank lines are skipped.
func ReadJSONL(r io.Reader, name string) ([]Persona, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, min(64<<10, MaxLineBytes)), MaxLineBytes)
	var rs []located
	line := 1
	for ; sc.Scan(); line++ {
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		p, fe := decodePersona(text)
		if fe != nil {
			fe.File, fe.Line = name, line
			return nil, fe
		}
		rs = append(rs, located{p, line})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &FieldError{File: name, Line: line, Msg: fmt.Sprintf("line is longer than the limit of %d bytes (one persona per line)", MaxLineBytes)}
		}
		return nil, &FieldError{File: name, Line: line, Msg: err.Error()}
	}
	return finish(name, rs, true)
}

// ReadJSON reads a JSON array of personas: prosim's own objects (as written
// by encoding/json from Persona) or the original study's agent records.
func ReadJSON(r io.Reader, name string) ([]Persona, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	elems, err := splitArray(data, name)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, &FieldError{File: name, Line: 1, Msg: "no personas in file"}
	}
	if isOriginal(elems[0].raw) {
		return readOriginal(elems, name)
	}
	rs := make([]located, 0, len(elems))
	for _, e := range elems {
		p, fe := decodePersona(e.raw)
		if fe != nil {
			fe.File, fe.Line = name, e.line
			return nil, fe
		}
		rs = append(rs, located{p, e.line})
	}
	return finish(name, rs, true)
}

type element struct {
	raw  json.RawMessage
	line int
}

// splitArray returns the elements of a top-level JSON array with the line
// each starts on.
func splitArray(data []byte, name string) ([]element, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return &FieldError{File: name, Line: lineAt(data, int(se.Offset)), Msg: "invalid JSON: " + se.Error()}
		}
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return &FieldError{File: name, Line: lineAt(data, len(bytes.TrimRight(data, " \t\r\n"))), Msg: "invalid JSON: unexpected end of file"}
		}
		return fmt.Errorf("%s: invalid JSON: %w", name, err)
	}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, &FieldError{File: name, Msg: "file is empty (want a JSON array of personas)"}
	}
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, &FieldError{File: name, Line: lineAt(data, int(dec.InputOffset())), Msg: "want a JSON array of personas"}
	}
	var out []element
	for dec.More() {
		off := int(dec.InputOffset())
		for off < len(data) && strings.ContainsRune(" \t\r\n,", rune(data[off])) {
			off++
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		out = append(out, element{raw, lineAt(data, off)})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FieldError{File: name, Line: lineAt(data, int(dec.InputOffset())), Msg: "unexpected data after the JSON array"}
	}
	return out, nil
}

func lineAt(data []byte, off int) int {
	off = min(off, len(data))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// decodePersona decodes one prosim persona object, requiring every field and
// rejecting unknown ones.
func decodePersona(raw []byte) (Persona, *FieldError) {
	var p Persona
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return p, &FieldError{Msg: "not a JSON object: " + shorten(raw)}
	}
	var traits map[string]json.RawMessage
	if t, ok := obj["traits"]; ok {
		if err := json.Unmarshal(t, &traits); err != nil || traits == nil {
			return p, fieldErr("traits", "not a JSON object")
		}
	}
	for _, c := range columns {
		src, key := obj, c.name
		if c.trait {
			src, key = traits, "traits."+c.name
		}
		v, ok := src[c.name]
		if !ok {
			return p, fieldErr(key, "missing")
		}
		if err := c.setJSON(&p, v); err != nil {
			return p, fieldErr(key, "%s", err.Error())
		}
	}
	for k := range obj {
		if (k != "traits" && !knownColumn(k)) || isTrait(k) {
			return p, fieldErr(k, "unknown field")
		}
	}
	for k := range traits {
		if !isTrait(k) {
			return p, fieldErr("traits."+k, "unknown trait")
		}
	}
	return p, nil
}

func shorten(b []byte) string {
	s := string(bytes.TrimSpace(b))
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return s
}

// WriteCSV writes personas with a header row of Columns, readable by ReadCSV.
// Numbers are written in their shortest exact form, so a round trip is exact.
func WriteCSV(w io.Writer, ps []Persona) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns()); err != nil {
		return err
	}
	rec := make([]string, len(columns))
	for i := range ps {
		p := ps[i]
		for j, c := range columns {
			switch c.kind {
			case kindInt:
				rec[j] = strconv.Itoa(*c.i(&p))
			case kindFloat:
				rec[j] = strconv.FormatFloat(*c.f(&p), 'f', -1, 64)
			default:
				rec[j] = *c.s(&p)
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSONL writes one Persona JSON object per line, readable by ReadJSONL.
func WriteJSONL(w io.Writer, ps []Persona) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range ps {
		if err := enc.Encode(ps[i]); err != nil {
			return err
		}
	}
	return bw.Flush()
}
