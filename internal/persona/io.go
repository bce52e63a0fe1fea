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
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/prosim/prosim/internal/table"
	"github.com/prosim/prosim/internal/yamlx"
)

type kind int

const (
	kindInt kind = iota
	kindFloat
	kindString
)

// want names the values of a kind for messages.
func (k kind) want() string {
	switch k {
	case kindInt:
		return "a whole number"
	case kindFloat:
		return "a number"
	}
	return "text (a string)"
}

// isNull reports whether raw (trimmed) is JSON null.
func isNull(raw []byte) bool { return string(raw) == "null" }

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
		{name: "source_id", kind: kindString, s: func(p *Persona) *string { return &p.SourceID }},
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
	if v == "" && (c.kind == kindInt || c.kind == kindFloat) {
		return errors.New("is empty") // as an empty text cell is
	}
	switch c.kind {
	case kindInt:
		n, ok := WholeNumber(v)
		if !ok {
			return fmt.Errorf("%q is not a whole number", yamlx.Clip(v))
		}
		*c.i(p) = n
	case kindFloat:
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%q is not a number", yamlx.Clip(v))
		}
		*c.f(p) = x
	default:
		*c.s(p) = v
	}
	return nil
}

// WholeNumber reads s as a whole number: written plainly (50), or with a zero fraction (50.0),
// as pandas writes a whole-number column that has a missing value (upcast to float); JSON's
// 50.0 is read alike. A non-zero fraction is not a whole number.
func WholeNumber(s string) (int, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || frac == "" || strings.Trim(frac, "0") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(whole)
	return n, err == nil
}

// missingValue says whether a value as written (a CSV cell, a JSON string; trimmed) is one R or
// pandas write for a missing value (NA, NaN, None, ...; an empty one is not asked about). Where
// an empty value is allowed (optionalColumns) it is read as empty; elsewhere it is missingMsg.
func missingValue(v string) bool { return v != "" && table.ReadAsMissing(v) }

// missingMsg is the problem of a missing value (missingValue) where one is needed.
func missingMsg(v, what string) string {
	return fmt.Sprintf("%q is a missing value (R/pandas): this %s needs a value", yamlx.Clip(v), what)
}

// CurrencyMissing reports whether a currency, a population file's or population.currency,
// names none: blank, or once trimmed a word R or pandas read as a missing value (" NA ").
func CurrencyMissing(c string) bool { return table.ReadAsMissing(TrimCurrency(c)) }

// TrimCurrency is a currency as it is kept, a population file's or population.currency: without
// the spaces around it (" EUR " is EUR, in texts and when the two are compared).
func TrimCurrency(c string) string { return strings.TrimSpace(c) }

// setJSON parses a JSON value into the column's field; numbers must be JSON
// numbers and text must be JSON strings (null is neither: json.Unmarshal would leave 0 or "").
func (c column) setJSON(p *Persona, raw json.RawMessage) error {
	raw = bytes.TrimSpace(raw)
	if isNull(raw) {
		return fmt.Errorf("null: want %s", c.kind.want())
	}
	if c.kind == kindString {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("%s is not a string", shorten(raw))
		}
		*c.s(p) = s
		return nil
	}
	if len(raw) > 0 && raw[0] == '"' {
		return fmt.Errorf("%s is a string, not %s", shorten(raw), c.kind.want())
	}
	var x float64
	if err := json.Unmarshal(raw, &x); err != nil {
		return fmt.Errorf("%s is not a number", shorten(raw))
	}
	if c.kind == kindInt {
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return fmt.Errorf("%s is not a whole number", shorten(raw))
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
	var read func(io.Reader, string, int64) ([]Persona, error)
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".tsv":
		read = readCSV
	case ".jsonl", ".ndjson":
		read = readJSONL
	case ".json":
		read = readJSON
	default:
		return nil, fmt.Errorf("%s: unknown population file type %q (want .csv, .tsv, .jsonl or .json)", path, filepath.Ext(path))
	}
	f, err := yamlx.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, size, err := f.Limit(MaxFileBytes)
	if err != nil {
		return nil, err
	}
	return read(r, path, size) // errors name the path as the user gave it
}

// reserveAfter is the number of personas read before reserve estimates a file's.
const reserveAfter = 4096

// reserve makes room in ps and rows for the personas of a file of size bytes (0: unknown),
// estimated from the first done bytes, which held len(ps), and a tenth more: a large file's
// personas are then not copied at each growth of the slices, which doubled the peak memory.
// Room reserved and not used is not written, so its pages mostly stay out of memory.
func reserve(ps []Persona, rows []row, size, done int64) ([]Persona, []row) {
	if size <= 0 || done <= 0 {
		return ps, rows
	}
	n := int(float64(len(ps))*float64(size)/float64(done)*1.1) - len(ps)
	if n <= 0 {
		return ps, rows
	}
	return slices.Grow(ps, n), slices.Grow(rows, n)
}

// MaxFileBytes bounds the size of a population file (1 GiB: some 5 to 10 million personas).
var MaxFileBytes int64 = 1 << 30

// MaxLineBytes bounds one line of a JSONL population file and one row of a CSV file (one
// persona is well under 1 KB).
var MaxLineBytes = 16 << 20

// MaxErrors bounds the errors one file reports; the rest are counted.
var MaxErrors = 50

// FileErrors is every problem found in one population file, in file order: up to MaxErrors,
// then the number left out (More). A file with one problem gives that *FieldError alone. It is
// the error list of every input file (yamlx.Errors), printed the same way.
type FileErrors = yamlx.Errors

// problems collects a file's errors.
type problems struct {
	name string
	errs []*FieldError
	more int
}

// add keeps the MaxErrors first errors in file order (line, then column; as found for equal
// places), whatever order they are found in: an id's problems are found after every row's.
func (c *problems) add(fe *FieldError) {
	fe.File = c.name
	i := len(c.errs)
	for i > 0 && (fe.Line < c.errs[i-1].Line || fe.Line == c.errs[i-1].Line && fe.Col < c.errs[i-1].Col) {
		i--
	}
	if i >= MaxErrors {
		c.more++
		return
	}
	c.errs = slices.Insert(c.errs, i, fe)
	if len(c.errs) > MaxErrors {
		c.errs = c.errs[:MaxErrors]
		c.more++
	}
}

func (c *problems) err() error {
	switch {
	case len(c.errs) == 0:
		return nil
	case len(c.errs) == 1 && c.more == 0:
		return c.errs[0]
	}
	return &FileErrors{File: c.name, Errs: c.errs, More: c.more}
}

// row is where a persona was read and what finish is to do with it: its id as written is
// n, a whole number written plainly, or else the text id (ids are kept apart from the
// persona, so that a persona keeps no memory of its line); line:col is the id's place; badID
// says the id is missing or unreadable, a problem already reported; needQ says its income
// quintile is to be derived from its income.
type row struct {
	id        string
	n         int
	line, col int
	badID     bool
	needQ     bool
}

// setID records v, the id as written in the file: 2.0 (pandas' float ids) is the number 2.
func (r *row) setID(v string) {
	whole, _, _ := strings.Cut(v, ".")
	if n, ok := WholeNumber(v); ok && n > 0 && strconv.Itoa(n) == whole {
		r.n, r.id = n, ""
		return
	}
	r.n, r.id = 0, strings.Clone(v)
}

// isWhole reports whether s reads as a whole number.
func isWhole(s string) bool {
	_, ok := WholeNumber(s)
	return ok
}

// idText is the id as written.
func (r *row) idText() string {
	if r.id == "" && r.n > 0 {
		return strconv.Itoa(r.n)
	}
	return r.id
}

// located is a persona with its row.
type located struct {
	p Persona
	row
}

// finish resolves ids (numbers as written; text ids such as "p01" make every persona's id its
// position in the file, the text kept as source_id), checks that they are unique, derives the
// income quintiles asked for and checks there is at least one persona. The personas ps, read
// from rows, have passed normalize; their other problems are already in errs. It returns ps.
func finish(errs *problems, ps []Persona, rows []row) ([]Persona, error) {
	if len(ps) == 0 && len(errs.errs) == 0 {
		errs.add(&FieldError{Msg: "no personas in file"})
	}
	// Ids are all whole numbers or all text: mixed, the numbers could not stay the agents' ids,
	// and numbering every agent by its position (as text ids are) would change them unsaid.
	firstNum, firstText := -1, -1
	for i, r := range rows {
		switch {
		case r.badID || r.id == "" && r.n == 0:
		case r.id != "" && !isWhole(r.id):
			if firstText < 0 {
				firstText = i
			}
		default:
			if firstNum < 0 {
				firstNum = i
			}
		}
	}
	text := firstText >= 0
	if text && firstNum >= 0 {
		a, b := &rows[firstNum], &rows[firstText]
		if a.line > b.line {
			a, b = b, a
		}
		errs.add(&FieldError{Line: b.line, Col: b.col, Field: "id", Msg: fmt.Sprintf(
			"ids mix whole numbers and text (%q on line %d, %q on line %d): give every id as a number, or every id as text (p1, p2, ...), which numbers the agents by position",
			yamlx.Clip(rows[firstNum].idText()), rows[firstNum].line, yamlx.Clip(rows[firstText].idText()), rows[firstText].line)})
	}
	var seenText map[string]int
	var seenNum map[int]int
	if text {
		seenText = make(map[string]int, len(rows))
	} else {
		seenNum = make(map[int]int, len(rows))
	}
	for i := range rows {
		r, p := &rows[i], &ps[i]
		at := func(msg string, args ...any) {
			errs.add(&FieldError{Line: r.line, Col: r.col, Field: "id", Msg: fmt.Sprintf(msg, args...)})
		}
		var prev int
		var dup bool
		switch {
		case r.badID:
			continue
		case r.id == "" && r.n == 0:
			at("is empty")
			continue
		case text:
			id := r.idText()
			if p.SourceID != "" {
				at("%q is a text id, so source_id (%q) cannot also be given", yamlx.Clip(id), yamlx.Clip(p.SourceID))
				continue
			}
			if prev, dup = seenText[id]; !dup {
				seenText[id] = r.line
			}
			p.ID, p.SourceID = i+1, id
		default:
			n := r.n
			if r.id != "" {
				n, _ = WholeNumber(r.id)
			}
			if n < 1 {
				at("%d is not a positive id", n)
				continue
			}
			if prev, dup = seenNum[n]; !dup {
				seenNum[n] = r.line
			}
			p.ID = n
		}
		if dup {
			at("duplicate id %s (first on line %d)", yamlx.Clip(r.idText()), prev)
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	deriveQuintiles(ps, rows)
	return ps, nil
}

// strs shares the text of a file's fields between its personas (a file has a few genders,
// currencies, occupations), so that a persona holds no part of its line's memory.
type strs map[string]string

func (m strs) of(s string) string {
	if v, ok := m[s]; ok {
		return v
	}
	s = strings.Clone(s)
	m[s] = s
	return s
}

func (m strs) persona(p *Persona) {
	p.SourceID = strings.Clone(p.SourceID) // each persona's own: copied, not shared
	for _, f := range []*string{&p.Gender, &p.AgeBracket, &p.Marital, &p.Currency, &p.Education, &p.Occupation} {
		*f = m.of(*f)
	}
}

// deriveQuintiles fills the income quintile of the personas whose file left it out: in yuan,
// the quintile whose 2023 national mean income (ChinaQuintileIncome2023) is nearest; in any
// other currency, the quintile of the income's rank among the file's personas of that currency
// (rankQuintile).
func deriveQuintiles(ps []Persona, rs []row) {
	byCurrency := map[string][]float64{}
	some := false
	for i, r := range rs {
		if r.needQ {
			some = true
			if !strings.EqualFold(ps[i].Currency, "yuan") {
				byCurrency[ps[i].Currency] = nil
			}
		}
	}
	if !some {
		return
	}
	for i := range ps {
		if in, ok := byCurrency[ps[i].Currency]; ok {
			byCurrency[ps[i].Currency] = append(in, ps[i].AnnualIncome)
		}
	}
	for _, in := range byCurrency {
		slices.Sort(in)
	}
	for i, r := range rs {
		if !r.needQ {
			continue
		}
		x := ps[i].AnnualIncome
		if in, ok := byCurrency[ps[i].Currency]; ok {
			below, _ := slices.BinarySearch(in, x) // incomes strictly below x
			above := sort.Search(len(in), func(k int) bool { return in[k] > x })
			ps[i].IncomeQuintile = rankQuintile(below, above-below, len(in))
			continue
		}
		q := 1
		for q < 5 && x > (ChinaQuintileIncome2023[q-1]+ChinaQuintileIncome2023[q])/2 {
			q++
		}
		ps[i].IncomeQuintile = q
	}
}

// rankQuintile is the income quintile of a person whose income is tied with tied people
// (themselves included) and above lower of n: the quintile of the tie group's mid-rank,
// 1 + floor(5 x (lower + (tied-1)/2) / n), which is 1 + floor(5 x lower / n) untied. With
// bracketed incomes a top bracket of about a fifth of the file is then the highest fifth;
// giving a tie group its lowest rank would leave the highest fifth empty.
func rankQuintile(lower, tied, n int) int {
	return min(5, max(1, 1+5*(2*lower+tied-1)/(2*n)))
}

func isTrait(field string) bool {
	for _, t := range traitSpecs {
		if t.Key == field {
			return true
		}
	}
	return false
}

// optionalColumns may be left out of a file (or left empty): age_bracket and income_quintile
// are then computed, source_id stays empty.
var optionalColumns = []string{"source_id", "age_bracket", "income_quintile"}

// ignored are columns results/agents.csv adds for a study (RegisterAgentsColumn): a file whose
// id column is named agent_id, as in agents.csv, may have them and they are not read.
var (
	ignoredMu sync.RWMutex
	ignored   = map[string]bool{}
)

// RegisterAgentsColumn declares a column that a study adds to results/agents.csv, so that
// ReadCSV reads an agents.csv back as a population and skips the column.
func RegisterAgentsColumn(name string) {
	ignoredMu.Lock()
	defer ignoredMu.Unlock()
	ignored[name] = true
}

func isIgnored(name string) bool {
	ignoredMu.RLock()
	defer ignoredMu.RUnlock()
	return ignored[name]
}

// ReadCSV reads a CSV population with a header row of prosim's column names (see Columns and
// docs/population.md) in any order; the id column may be named agent_id, as in a run's
// results/agents.csv. name labels errors, e.g. the file name. Every problem of the file is
// reported (up to MaxErrors), each with its line and column.
func ReadCSV(r io.Reader, name string) ([]Persona, error) { return readCSV(r, name, 0) }

// readCSV is ReadCSV of a file of size bytes (0: unknown).
func readCSV(r io.Reader, name string, size int64) ([]Persona, error) {
	errs := &problems{name: name}
	br := bufio.NewReaderSize(&rowCapped{r: r, max: MaxLineBytes}, 64<<10)
	skipBOM(br)
	// The delimiter is the header's, as an edge list's is (a spreadsheet saves tab-separated
	// text as .csv or .tsv); ';' comes with decimal commas (3,1), which are not numbers here.
	// Peek(1) fills the buffer once; an error then comes with no byte, and Peek has taken it.
	if _, err := br.Peek(1); err == io.EOF {
		return nil, &FieldError{File: name, Msg: "file is empty (want a header row and one row per persona)"}
	} else if err != nil {
		return nil, csvErr(name, err)
	}
	first, _ := br.Peek(br.Buffered())
	first, _, _ = bytes.Cut(first, []byte("\n"))
	cr := csv.NewReader(br)
	switch d := yamlx.Delimiter(string(first)); d {
	case '\t':
		cr.Comma = '\t'
	case ';':
		return nil, &FieldError{File: name, Line: 1, Col: 1, Msg: "the header separates its columns with ';' (a spreadsheet's CSV where 3,1 is a decimal): save the file with ',' between values and '.' in decimals, or tab-separated"}
	}
	// Spaces after a ',' are skipped so that `a, "b"` reads b quoted (values are trimmed anyway);
	// not after a tab: encoding/csv takes the tab after an empty cell as such a space and joins
	// the cells (QA14 F2: every row of a TSV with an empty cell was one field short).
	cr.TrimLeadingSpace = cr.Comma == ','
	cr.FieldsPerRecord = -1 // a short or long row is reported with the others
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &FieldError{File: name, Msg: "file is empty (want a header row and one row per persona)"}
	}
	if err != nil {
		return nil, csvErr(name, err)
	}
	header = slices.Clone(header)
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	hcol := func(i int) int { _, c := cr.FieldPos(i); return c }
	index := make(map[string]int, len(header))
	agentsFile := slices.Contains(header, "agent_id")
	for i, h := range header {
		if k := strings.ToLower(h); knownColumn(k) || k == "agent_id" { // ID, Gender: any case
			h = k
		}
		if h == "agent_id" {
			if slices.Contains(header, "id") {
				errs.add(&FieldError{Line: 1, Col: hcol(i), Field: h, Msg: "give the id column once: id or agent_id, not both"})
				continue
			}
			h = "id"
		}
		switch {
		case knownColumn(h):
			if _, dup := index[h]; dup {
				errs.add(&FieldError{Line: 1, Col: hcol(i), Field: h, Msg: "column appears twice in the header"})
				continue
			}
			index[h] = i
		case agentsFile && isIgnored(h):
		case h == "":
			errs.add(&FieldError{Line: 1, Col: hcol(i), Msg: "a column with no name: R's write.csv writes its row names there unless row.names = FALSE, pandas' to_csv its index unless index=False: remove it"})
		default:
			errs.add(&FieldError{Line: 1, Col: hcol(i), Field: fieldName(h), Msg: fmt.Sprintf("unknown column (want %s; see docs/population.md)", strings.Join(Columns(), ", "))})
		}
	}
	var missing []string
	for _, c := range columns {
		if _, ok := index[c.name]; !ok && !slices.Contains(optionalColumns, c.name) {
			missing = append(missing, c.name)
		}
	}
	for _, m := range missing {
		errs.add(&FieldError{Line: 1, Col: 1, Field: m, Msg: "required column missing from the header"})
	}
	_, haveQ := index["income_quintile"]
	_, haveID := index["id"]
	var ps []Persona
	var rows []row
	in := strs{}
	var l located    // one for every row: a row's fields are set through pointers, which would move it to the heap
	var bad []string // fields of this row that did not parse: normalize does not judge them again
	var rowErrs []*FieldError
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs.add(csvErr(name, err).(*FieldError))
			break // the CSV reader cannot resynchronise after a syntax error
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			errs.add(&FieldError{Line: line, Msg: fmt.Sprintf("row has %d fields, the header has %d", len(rec), len(header))})
			continue
		}
		cellAt := func(field string) int {
			if i, ok := index[field]; ok {
				_, c := cr.FieldPos(i)
				return c
			}
			return 0
		}
		l = located{row: row{line: line, badID: !haveID, needQ: !haveQ}}
		bad = append(bad[:0], missing...)
		for _, c := range columns {
			i, ok := index[c.name]
			if !ok {
				continue
			}
			v := strings.TrimSpace(rec[i])
			if missingValue(v) { // R's NA, pandas' NaN
				if !slices.Contains(optionalColumns, c.name) {
					rowErrs = append(rowErrs, &FieldError{Line: line, Col: cellAt(c.name), Field: c.name, Msg: missingMsg(v, "column")})
					bad = append(bad, c.name)
					l.badID = l.badID || c.name == "id"
					continue
				}
				v = ""
			}
			switch {
			case c.name == "id":
				l.setID(v)
				l.col = cellAt("id")
				continue
			case v == "" && c.name == "income_quintile":
				l.needQ = true
				continue
			}
			if err := c.setText(&l.p, v); err != nil {
				rowErrs = append(rowErrs, &FieldError{Line: line, Col: cellAt(c.name), Field: c.name, Msg: err.Error()})
				bad = append(bad, c.name)
			}
		}
		if slices.Contains(bad, "age") {
			bad = append(bad, "age_bracket")
		}
		for _, fe := range normalize(&l.p, l.needQ) {
			if !slices.Contains(bad, fe.Field) {
				fe.Line, fe.Col = line, cellAt(fe.Field)
				rowErrs = append(rowErrs, fe)
			}
		}
		slices.SortStableFunc(rowErrs, func(a, b *FieldError) int { return a.Col - b.Col })
		for _, fe := range rowErrs {
			errs.add(fe)
		}
		rowErrs = rowErrs[:0]
		in.persona(&l.p)
		ps, rows = append(ps, l.p), append(rows, l.row)
		if len(ps) == reserveAfter {
			ps, rows = reserve(ps, rows, size, cr.InputOffset())
		}
	}
	return finish(errs, ps, rows)
}

// skipBOM drops a UTF-8 byte order mark at the start of br (R's fileEncoding="UTF-8-BOM",
// pandas' utf-8-sig, a spreadsheet's "CSV UTF-8") before any parser sees it: left in, it is
// part of the first field, and a quoted first field ("id") is then a bare quote (QA14 F1). It is
// not a column either: line 1's columns are counted from the byte after it, as an editor shows them.
func skipBOM(br *bufio.Reader) {
	if b, _ := br.Peek(len(yamlx.BOM)); string(b) == yamlx.BOM {
		br.Discard(len(yamlx.BOM))
	}
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
	var long *rowTooLong
	var text *FieldError // the file is not UTF-8 text (yamlx.Text)
	switch {
	case errors.As(err, &text):
		return text
	case errors.As(err, &pe):
		return &FieldError{File: name, Line: pe.Line, Col: pe.Column, Msg: pe.Err.Error()}
	case errors.As(err, &long):
		return &FieldError{File: name, Line: long.line, Msg: fmt.Sprintf("row is longer than the limit of %s (one persona per row)", yamlx.SizeWord(int64(MaxLineBytes)))}
	}
	return &FieldError{File: name, Msg: err.Error()}
}

// rowCapped fails once a CSV row (a record: a newline inside quotes does not end it) is
// longer than max bytes, so that one row cannot take the memory of a whole file: encoding/csv
// has no bound of its own.
type rowCapped struct {
	r      io.Reader
	max    int
	n      int  // bytes of the current row so far
	quoted bool // inside a quoted field (an escaped quote, "", toggles twice)
	line   int  // 0-based line of the current byte
	start  int  // 0-based line the row starts on
}

type rowTooLong struct{ line int }

func (e *rowTooLong) Error() string { return fmt.Sprintf("line %d: row too long", e.line) }

func (c *rowCapped) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i, b := range p[:n] {
		switch b {
		case '"':
			c.quoted = !c.quoted
		case '\n':
			c.line++
			if !c.quoted {
				c.n, c.start = 0, c.line
				continue
			}
		}
		if c.n++; c.n > c.max {
			return i, &rowTooLong{line: c.start + 1}
		}
	}
	return n, err
}

// ReadJSONL reads one Persona JSON object per line; blank lines are skipped. Every problem of
// the file is reported (up to MaxErrors), each with its line and column.
func ReadJSONL(r io.Reader, name string) ([]Persona, error) { return readJSONL(r, name, 0) }

// readJSONL is ReadJSONL of a file of size bytes (0: unknown).
func readJSONL(r io.Reader, name string, size int64) ([]Persona, error) {
	errs := &problems{name: name}
	br := bufio.NewReader(r) // reads into the scanner's buffer directly once the BOM is skipped
	skipBOM(br)
	sc := bufio.NewScanner(br)
	sc.Buffer(make([]byte, min(64<<10, MaxLineBytes)), MaxLineBytes)
	var ps []Persona
	var rows []row
	in := strs{}
	line, done := 1, int64(0)
	for ; sc.Scan(); line++ {
		raw := sc.Bytes()
		done += int64(len(raw)) + 1
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		l, fes := decodePersona(raw)
		for _, fe := range fes {
			fe.Line, fe.Col = line, fe.Col+1
			errs.add(fe)
		}
		if l != nil {
			l.line, l.col = line, l.col+1
			in.persona(&l.p)
			ps, rows = append(ps, l.p), append(rows, l.row)
			if len(ps) == reserveAfter {
				ps, rows = reserve(ps, rows, size, done)
			}
		}
	}
	if err := sc.Err(); err != nil {
		var text *FieldError // the file is not UTF-8 text (yamlx.Text)
		switch {
		case errors.Is(err, bufio.ErrTooLong):
			errs.add(&FieldError{Line: line, Msg: fmt.Sprintf("line is longer than the limit of %s (one persona per line)", yamlx.SizeWord(int64(MaxLineBytes)))})
		case errors.As(err, &text):
			// The row read up to the bad byte was judged cut short: its problems are not its own.
			errs.errs = slices.DeleteFunc(errs.errs, func(fe *FieldError) bool { return fe.Line == text.Line })
			errs.add(text)
		default:
			errs.add(&FieldError{Line: line, Msg: err.Error()})
		}
		return nil, errs.err()
	}
	return finish(errs, ps, rows)
}

// ReadJSON reads a JSON array of personas: prosim's own objects (as written
// by encoding/json from Persona) or the original study's agent records.
func ReadJSON(r io.Reader, name string) ([]Persona, error) { return readJSON(r, name, 0) }

// readJSON is ReadJSON of a file of size bytes (0: unknown), read into one buffer of that size.
func readJSON(r io.Reader, name string, size int64) ([]Persona, error) {
	var buf bytes.Buffer
	buf.Grow(int(size) + bytes.MinRead)
	_, err := buf.ReadFrom(r)
	data := buf.Bytes()
	if text := (*FieldError)(nil); errors.As(err, &text) {
		return nil, text // the file is not UTF-8 text (yamlx.Text)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	elems, err := splitArray(yamlx.StripBOM(data), name)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, &FieldError{File: name, Line: 1, Msg: "no personas in file"}
	}
	if isOriginal(elems[0].raw) {
		return readOriginal(elems, name)
	}
	errs := &problems{name: name}
	ps := make([]Persona, 0, len(elems))
	rows := make([]row, 0, len(elems))
	in := strs{}
	for _, e := range elems {
		l, fes := decodePersona(e.raw)
		// Offsets within an element come in any order: each is counted from the element's start.
		for _, fe := range fes {
			at := e.at
			fe.Line, fe.Col = at.to(e.off + fe.Col)
			errs.add(fe)
		}
		if l != nil {
			at := e.at
			l.line, l.col = at.to(e.off + l.col)
			in.persona(&l.p)
			ps, rows = append(ps, l.p), append(rows, l.row)
		}
	}
	return finish(errs, ps, rows)
}

type element struct {
	raw  json.RawMessage
	line int
	off  int    // byte offset of the element in the file
	at   cursor // at off
}

// cursor locates byte offsets of data as line and column. Each call counts only the bytes
// from the previous offset, so a file's elements are located in one forward pass (counting
// from byte 0 each time made loading quadratic in the file size).
type cursor struct {
	data      []byte
	off, line int
	start     int // offset of the first byte of line
}

func newCursor(data []byte) cursor { return cursor{data: data, line: 1} }

// to moves the cursor to off and returns its 1-based line and byte column. An offset before
// the cursor's is counted again from byte 0.
func (c *cursor) to(off int) (line, col int) {
	off = min(off, len(c.data))
	if off < c.off {
		*c = newCursor(c.data)
	}
	for {
		i := bytes.IndexByte(c.data[c.off:off], '\n')
		if i < 0 {
			break
		}
		c.line++
		c.start = c.off + i + 1
		c.off = c.start
	}
	c.off = off
	return c.line, off - c.start + 1
}

// splitArray returns the elements of a top-level JSON array with the line
// each starts on.
func splitArray(data []byte, name string) ([]element, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			if i := deepAt(data[:min(int(se.Offset), len(data))]); i >= 0 {
				c := newCursor(data)
				line, col := c.to(i)
				return &FieldError{File: name, Line: line, Col: col, Msg: tooDeep}
			}
			if fe := nanAt(data, int(se.Offset)); fe != nil {
				c := newCursor(data)
				fe.File = name
				fe.Line, fe.Col = c.to(fe.Col)
				return fe
			}
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
	at := newCursor(data)
	for dec.More() {
		off := int(dec.InputOffset())
		for off < len(data) && strings.ContainsRune(" \t\r\n,", rune(data[off])) {
			off++
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		end := max(off, min(int(dec.InputOffset()), len(data)))
		line, _ := at.to(off)
		out = append(out, element{raw: data[off:end], line: line, off: off, at: at}) // not raw, a copy
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &FieldError{File: name, Line: lineAt(data, int(dec.InputOffset())), Msg: "unexpected data after the JSON array"}
	}
	return out, nil
}

// tooDeep is the problem of JSON nested past deepAt's bound, in the words CheckLimits has for YAML.
var tooDeep = fmt.Sprintf("arrays and objects nested more than %d deep: not read", yamlx.MaxDepth)

// deepAt is the offset of the bracket in raw (JSON) that nests arrays and objects more than
// yamlx.MaxDepth deep, or -1. It is asked only once decoding failed: encoding/json refuses
// 10,000 levels, in its own words and without the place.
func deepAt(raw []byte) int {
	depth, str, esc := 0, false, false
	for i, b := range raw {
		switch {
		case esc:
			esc = false
		case str:
			esc, str = b == '\\', b != '"'
		case b == '"':
			str = true
		case b == '[' || b == '{':
			if depth++; depth > yamlx.MaxDepth {
				return i
			}
		case b == ']' || b == '}':
			depth--
		}
	}
	return -1
}

// nanAt is the problem of a NaN or Infinity literal where encoding/json stopped, at off (a
// SyntaxError's offset, which is one past the bad byte or at it): Python's json.dump writes them
// for a float NaN, and JSON has neither. Its Col is the literal's 0-based offset in data, its
// Field the key before it. nil when the error is another.
func nanAt(data []byte, off int) *FieldError {
	at, lit := -1, ""
	for i := min(off, len(data)-1); i >= max(0, off-2) && at < 0; i-- {
		for _, l := range []string{"NaN", "Infinity"} {
			if bytes.HasPrefix(data[i:], []byte(l)) {
				at, lit = i, l
			}
		}
	}
	if at < 0 {
		return nil
	}
	if at > 0 && (data[at-1] == '-' || data[at-1] == '+') {
		at, lit = at-1, string(data[at-1])+lit
	}
	key := keyBefore(data, at)
	fe := &FieldError{Col: at, Field: fieldName(key)}
	if isTrait(key) {
		fe.Field = "traits." + fe.Field
	}
	fe.Msg = lit + " is not JSON, which has no NaN or Infinity (Python's json.dump writes them for a missing or infinite float): "
	if slices.Contains(optionalColumns, key) {
		fe.Msg += "write null, or leave the field out"
	} else {
		fe.Msg += "this field needs a number"
	}
	return fe
}

// keyBefore is the object key whose value starts at data[at] ("" when there is none: an array element).
func keyBefore(data []byte, at int) string {
	j := len(bytes.TrimRight(data[:at], " \t\r\n"))
	if j == 0 || data[j-1] != ':' {
		return ""
	}
	j = len(bytes.TrimRight(data[:j-1], " \t\r\n"))
	if j == 0 || data[j-1] != '"' {
		return ""
	}
	k := bytes.LastIndexByte(data[:j-1], '"')
	if k < 0 {
		return ""
	}
	return string(data[k+1 : j-1])
}

// firstTopTrait is the trait key of obj that comes first in raw, "" when none is at the top level.
func firstTopTrait(raw []byte, obj map[string]json.RawMessage) string {
	first, at := "", len(raw)
	for k := range obj {
		if i := keyOffset(raw, k); isTrait(k) && i < at {
			first, at = k, i
		}
	}
	return first
}

func lineAt(data []byte, off int) int {
	off = min(off, len(data))
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// decodePersona decodes and checks one prosim persona object. Each error's Col (and l.col, the
// id's) is the 0-based offset in raw of its key (of the object when the key is missing). l is
// nil when the object could not be read at all.
func decodePersona(raw []byte) (l *located, errs []*FieldError) {
	at := func(key string, format string, args ...any) {
		fe := fieldErr(fieldName(key), format, args...)
		fe.Col = keyOffset(raw, key)
		errs = append(errs, fe)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		if i := deepAt(raw); i >= 0 {
			return nil, []*FieldError{{Col: i, Msg: tooDeep}}
		}
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se) && strings.HasPrefix(se.Error(), "unexpected end"): // a cut line
			return nil, []*FieldError{{Col: len(bytes.TrimRight(raw, " \t\r")), Msg: "unexpected end of the line: the object is not closed"}}
		case errors.As(err, &se):
			if fe := nanAt(raw, int(se.Offset)); fe != nil {
				return nil, []*FieldError{fe}
			}
			return nil, []*FieldError{{Col: max(int(se.Offset)-1, 0), Msg: "not JSON: " + se.Error()}}
		}
		return nil, []*FieldError{{Col: keyOffset(raw, ""), Msg: "not a JSON object: " + shorten(raw)}}
	}
	l = &located{row: row{col: keyOffset(raw, "id")}}
	for _, d := range repeatedKeys(raw) {
		fe := fieldErr(fieldName(d.key), "key appears twice in the object (a JSON reader keeps either value)")
		fe.Col = d.off
		errs = append(errs, fe)
	}
	var traits map[string]json.RawMessage
	t, hasTraits := obj["traits"]
	if hasTraits {
		if err := json.Unmarshal(t, &traits); err != nil || traits == nil {
			at("traits", "not a JSON object")
		}
	} else if k := firstTopTrait(raw, obj); k != "" { // a CSV habit: JSON nests the traits
		at(k, "the trait scores go in a \"traits\" object, not at the top level: {..., \"traits\": {\"%s\": ...}}", k)
	} else {
		at("traits", "missing (an object of the nine trait scores)")
	}
	var bad []string
	for _, c := range columns {
		src, key := obj, c.name
		if c.trait {
			if traits == nil {
				bad = append(bad, c.name)
				continue
			}
			src, key = traits, "traits."+c.name
		}
		v, ok := src[c.name]
		if ok && (isNull(bytes.TrimSpace(v)) || missingJSON(v)) && slices.Contains(optionalColumns, c.name) {
			ok = false // null ("NA") means left out, as docs/population.md says of an empty cell
		}
		if ok && missingJSON(v) {
			var s string
			json.Unmarshal(v, &s)
			at(key, "%s", missingMsg(strings.TrimSpace(s), "field"))
			bad = append(bad, c.name)
			l.badID = l.badID || c.name == "id"
			continue
		}
		if !ok {
			switch {
			case c.name == "income_quintile":
				l.needQ = true
			case slices.Contains(optionalColumns, c.name):
			default:
				at(key, "missing")
				bad = append(bad, c.name)
				l.badID = l.badID || c.name == "id"
			}
			continue
		}
		if c.name == "id" {
			var s string
			if isNull(bytes.TrimSpace(v)) {
				at(key, "null: want a whole number or a text id")
				l.badID = true
				continue
			}
			if json.Unmarshal(v, &s) == nil {
				l.setID(strings.TrimSpace(s))
				continue
			}
			var p Persona
			if err := c.setJSON(&p, v); err != nil {
				at(key, "%s is neither a whole number nor a text id", shorten(v))
				l.badID = true
				continue
			}
			l.setID(strconv.Itoa(p.ID))
			continue
		}
		if err := c.setJSON(&l.p, v); err != nil {
			at(key, "%s", err.Error())
			bad = append(bad, c.name)
		}
	}
	for k := range obj {
		switch {
		case isTrait(k) && !hasTraits: // said once, above
		case isTrait(k):
			at(k, "a trait score at the top level: it goes in the \"traits\" object")
		case k != "traits" && !knownColumn(k):
			at(k, "unknown field")
		}
	}
	for k := range traits {
		if !isTrait(k) {
			at("traits."+k, "unknown trait")
		}
	}
	if slices.Contains(bad, "age") {
		bad = append(bad, "age_bracket")
	}
	for _, fe := range normalize(&l.p, l.needQ) {
		if !slices.Contains(bad, fe.Field) {
			if isTrait(fe.Field) {
				fe.Field = "traits." + fe.Field
			}
			fe.Col = keyOffset(raw, fe.Field)
			errs = append(errs, fe)
		}
	}
	slices.SortStableFunc(errs, func(a, b *FieldError) int { return a.Col - b.Col })
	return l, errs
}

// missingJSON says whether raw is a JSON string R or pandas write for a missing value (missingValue).
func missingJSON(raw json.RawMessage) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil && missingValue(strings.TrimSpace(s))
}

// keyOffset is the 0-based offset in raw of the key named by field ("traits.x": key x after
// "traits"), or of the object's first byte when it is not there.
func keyOffset(raw []byte, field string) int {
	from := 0
	if k, ok := strings.CutPrefix(field, "traits."); ok {
		if i := bytes.Index(raw, []byte(`"traits"`)); i >= 0 {
			from, field = i, k
		}
	}
	if field != "" {
		if i := bytes.Index(raw[from:], []byte(`"`+field+`"`)); i >= 0 {
			return from + i
		}
	}
	if from > 0 {
		return from // a missing trait: at "traits"
	}
	return len(raw) - len(bytes.TrimLeft(raw, " \t\r"))
}

// repeatedKey is a key given a second time in a persona object, at its byte offset: encoding/json
// keeps the last value silently, as a CSV header with a column twice is refused.
type repeatedKey struct {
	key string // "age", or "traits.warmth" in the traits object
	off int
}

// repeatedKeys returns the keys raw, a JSON object that json.Unmarshal accepted, gives twice at
// its top level or in its "traits" object, each at its second place. One pass over the bytes;
// the keys are only compared (unquoted when they hold an escape) within one object.
func repeatedKeys(raw []byte) []repeatedKey {
	var out []repeatedKey
	var top, traits map[string]bool
	depth, inTraits := 0, false
	lastKey := ""
	for i := 0; i < len(raw); i++ {
		switch raw[i] {
		case '{', '[':
			depth++
			if depth == 2 && raw[i] == '{' && lastKey == "traits" {
				inTraits = true
			}
		case '}', ']':
			if depth == 2 {
				inTraits = false
			}
			depth--
		case '"':
			start := i
			for i++; i < len(raw) && raw[i] != '"'; i++ {
				if raw[i] == '\\' {
					i++
				}
			}
			j := i + 1
			for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\r' || raw[j] == '\n') {
				j++
			}
			if j >= len(raw) || raw[j] != ':' || !(depth == 1 || depth == 2 && inTraits) {
				continue
			}
			key := string(raw[start+1 : i])
			if strings.ContainsRune(key, '\\') {
				json.Unmarshal(raw[start:i+1], &key)
			}
			seen, name := &top, key
			if depth == 2 {
				seen, name = &traits, "traits."+key
			} else {
				lastKey = key
			}
			if *seen == nil {
				*seen = map[string]bool{}
			}
			if (*seen)[key] {
				out = append(out, repeatedKey{key: name, off: start})
			}
			(*seen)[key] = true
		}
	}
	return out
}

// shorten is yamlx.Clip for raw JSON.
func shorten(b []byte) string {
	b = bytes.TrimSpace(b)
	return yamlx.Clip(string(b[:min(len(b), yamlx.ClipBytes+utf8.UTFMax)]))
}

// fieldName is a column or key name from a file as a message's field: clipped, and quoted
// when it has characters that would not print plainly.
func fieldName(s string) string {
	c := yamlx.Clip(s)
	if !utf8.ValidString(c) || strings.ContainsFunc(c, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return strconv.Quote(c)
	}
	return c
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
