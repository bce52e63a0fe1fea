package report

// PDF output of a chart. The charts draw themselves as SVG with a small fixed vocabulary
// (svg, g, rect, line, polyline, path with M/L/H/V/Z, circle, text with tspan, a rotate
// transform, an arrow marker). PDF redraws exactly that vocabulary as vector operations with
// fpdf (pure Go): the same drawing, nothing rasterised, no SVG renderer needed. An element
// outside the vocabulary is an error, so a chart that grows a new kind of mark fails its test
// instead of losing the mark in the PDF.

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
)

// pdfDate is the creation date written in every PDF: fixed, so the same run gives
// byte-identical figure files (fpdf would write the time of writing).
var pdfDate = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// PDF converts a standalone chart SVG (as a chart's SVG method or Figure.SVG gives it) to a
// one-page PDF of the same size (1 px = 1 pt).
func PDF(svg string) ([]byte, error) {
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	var p *pdfDraw
	var stack []attrs // inherited presentation attributes, one per open element
	skip := 0         // depth inside elements drawn elsewhere (title, defs)
	var txt *pdfText  // the text element being read
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("pdf: reading the chart's SVG: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			a := attrs{}
			if len(stack) > 0 {
				for _, k := range inherited {
					if v, ok := stack[len(stack)-1][k]; ok {
						a[k] = v
					}
				}
			}
			for _, at := range t.Attr {
				a[at.Name.Local] = at.Value
			}
			stack = append(stack, a)
			if skip > 0 {
				skip++
				continue
			}
			name := t.Name.Local
			if p == nil {
				if name != "svg" {
					return nil, fmt.Errorf("pdf: the document is a <%s>, not an <svg>", name)
				}
				p, err = newPDFDraw(a)
				if err != nil {
					return nil, err
				}
				continue
			}
			if txt != nil {
				if name != "tspan" {
					return nil, fmt.Errorf("pdf: <%s> inside <text>", name)
				}
				txt.startLine(a)
				continue
			}
			switch name {
			case "title", "defs":
				skip = 1
			case "g":
			case "text":
				txt = &pdfText{a: a}
				txt.startLine(a)
			default:
				if err := p.shape(name, a); err != nil {
					return nil, err
				}
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			if skip > 0 {
				skip--
				continue
			}
			if t.Name.Local == "text" && txt != nil {
				p.text(txt)
				txt = nil
			}
		case xml.CharData:
			if txt != nil && skip == 0 {
				txt.add(string(t))
			}
		}
	}
	if p == nil {
		return nil, fmt.Errorf("pdf: no <svg> element")
	}
	var b bytes.Buffer
	if err := p.f.Output(&b); err != nil {
		return nil, fmt.Errorf("pdf: %w", err)
	}
	return b.Bytes(), nil
}

type attrs map[string]string

// inherited are the attributes a <g> passes to its children (the network drawing sets its
// edges' and nodes' stroke on the group).
var inherited = []string{"stroke", "stroke-width", "stroke-opacity", "fill", "fill-opacity", "font-size", "font-weight", "text-anchor", "dominant-baseline"}

func (a attrs) num(k string, def float64) (float64, error) {
	s, ok := a[k]
	if !ok || s == "" {
		return def, nil
	}
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "px"), 64)
	if err != nil {
		return 0, fmt.Errorf("pdf: attribute %s=%q is not a number", k, s)
	}
	return v, nil
}

// nums reads several numeric attributes, stopping at the first error.
func (a attrs) nums(keys ...string) ([]float64, error) {
	out := make([]float64, len(keys))
	for i, k := range keys {
		v, err := a.num(k, 0)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

type pdfDraw struct {
	f  *fpdf.Fpdf
	tr func(string) string // UTF-8 to the core fonts' cp1252
}

func newPDFDraw(a attrs) (*pdfDraw, error) {
	v, err := a.nums("width", "height")
	if err != nil {
		return nil, err
	}
	w, h := v[0], v[1]
	if !(w > 0 && h > 0) {
		return nil, fmt.Errorf("pdf: the chart has no size (width %q, height %q)", a["width"], a["height"])
	}
	f := fpdf.NewCustom(&fpdf.InitType{UnitStr: "pt", Size: fpdf.SizeType{Wd: w, Ht: h}})
	f.SetCreationDate(pdfDate)
	f.SetModificationDate(pdfDate)
	f.SetCatalogSort(true)
	f.SetProducer("prosim", false)
	f.SetAutoPageBreak(false, 0)
	f.SetMargins(0, 0, 0)
	tr := f.UnicodeTranslatorFromDescriptor("")
	f.SetTitle(a["aria-label"], true)
	f.AddPageFormat("P", fpdf.SizeType{Wd: w, Ht: h})
	return &pdfDraw{f: f, tr: tr}, nil
}

// color parses #rgb and #rrggbb; ok is false for "none" and an absent colour.
func color(s string) (r, g, b int, ok bool, err error) {
	switch {
	case s == "" || s == "none":
		return 0, 0, 0, false, nil
	case s == "black":
		return 0, 0, 0, true, nil
	case s == "white":
		return 255, 255, 255, true, nil
	case strings.HasPrefix(s, "#") && len(s) == 4:
		s = "#" + strings.Repeat(s[1:2], 2) + strings.Repeat(s[2:3], 2) + strings.Repeat(s[3:4], 2)
	}
	if len(s) != 7 || s[0] != '#' {
		return 0, 0, 0, false, fmt.Errorf("pdf: colour %q is not #rrggbb", s)
	}
	v, err := strconv.ParseUint(s[1:], 16, 32)
	if err != nil {
		return 0, 0, 0, false, fmt.Errorf("pdf: colour %q is not #rrggbb", s)
	}
	return int(v >> 16), int(v >> 8 & 0xff), int(v & 0xff), true, nil
}

// paint sets the fill and stroke of an element and returns the fpdf style ("F", "D", "FD"
// or "" for nothing to draw). defFill is the SVG default of the element's fill (black for
// shapes; our paths always state theirs).
func (p *pdfDraw) paint(a attrs, defFill string) (string, error) {
	fill, ok := a["fill"]
	if !ok {
		fill = defFill
	}
	fr, fg, fb, hasFill, err := color(fill)
	if err != nil {
		return "", err
	}
	sr, sg, sb, hasStroke, err := color(a["stroke"])
	if err != nil {
		return "", err
	}
	style := ""
	if hasFill {
		p.f.SetFillColor(fr, fg, fb)
		style += "F"
	}
	if hasStroke {
		p.f.SetDrawColor(sr, sg, sb)
		lw, err := a.num("stroke-width", 1)
		if err != nil {
			return "", err
		}
		p.f.SetLineWidth(lw)
		var dash []float64
		if d := strings.TrimSpace(a["stroke-dasharray"]); d != "" {
			for _, s := range strings.Fields(strings.ReplaceAll(d, ",", " ")) {
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return "", fmt.Errorf("pdf: stroke-dasharray %q", d)
				}
				dash = append(dash, v)
			}
		}
		p.f.SetDashPattern(dash, 0)
		style += "D"
	}
	// fpdf has one alpha for fill and stroke: an element uses one of them in our charts.
	alpha := 1.0
	if hasFill && !hasStroke {
		if alpha, err = a.num("fill-opacity", 1); err != nil {
			return "", err
		}
	} else if hasStroke && !hasFill {
		if alpha, err = a.num("stroke-opacity", 1); err != nil {
			return "", err
		}
	}
	p.f.SetAlpha(alpha, "Normal")
	return style, nil
}

func (p *pdfDraw) shape(name string, a attrs) error {
	switch name {
	case "rect":
		v, err := a.nums("x", "y", "width", "height")
		if err != nil {
			return err
		}
		st, err := p.paint(a, "#000")
		if err != nil || st == "" {
			return err
		}
		p.f.Rect(v[0], v[1], v[2], v[3], st)
	case "line":
		v, err := a.nums("x1", "y1", "x2", "y2")
		if err != nil {
			return err
		}
		st, err := p.paint(a, "none")
		if err != nil || !strings.Contains(st, "D") {
			return err
		}
		p.f.Line(v[0], v[1], v[2], v[3])
		if strings.HasPrefix(a["marker-end"], "url(") {
			p.arrowHead(v[0], v[1], v[2], v[3], a["stroke"])
		}
	case "circle":
		v, err := a.nums("cx", "cy", "r")
		if err != nil {
			return err
		}
		st, err := p.paint(a, "#000")
		if err != nil || st == "" {
			return err
		}
		p.f.Circle(v[0], v[1], v[2], st)
	case "polyline":
		f := strings.Fields(strings.ReplaceAll(a["points"], ",", " "))
		if len(f) < 4 || len(f)%2 != 0 {
			return fmt.Errorf("pdf: polyline points %q", a["points"])
		}
		st, err := p.paint(a, "#000")
		if err != nil || st == "" {
			return err
		}
		for i := 0; i < len(f); i += 2 {
			x, err1 := strconv.ParseFloat(f[i], 64)
			y, err2 := strconv.ParseFloat(f[i+1], 64)
			if err1 != nil || err2 != nil {
				return fmt.Errorf("pdf: polyline points %q", a["points"])
			}
			if i == 0 {
				p.f.MoveTo(x, y)
			} else {
				p.f.LineTo(x, y)
			}
		}
		p.f.DrawPath(st)
	case "path":
		st, err := p.paint(a, "none")
		if err != nil || st == "" {
			return err
		}
		if err := p.path(a["d"]); err != nil {
			return err
		}
		p.f.DrawPath(st)
	default:
		return fmt.Errorf("pdf: <%s> is not drawn (add it to internal/report/pdf.go)", name)
	}
	return nil
}

// arrowHead draws the filled triangle of the charts' arrow marker at the end of a line.
func (p *pdfDraw) arrowHead(x1, y1, x2, y2 float64, stroke string) {
	r, g, b, _, _ := color(stroke)
	p.f.SetFillColor(r, g, b)
	p.f.SetAlpha(1, "Normal")
	a := math.Atan2(y2-y1, x2-x1)
	const l, hw = 9.0, 4.5
	bx, by := x2-l*math.Cos(a), y2-l*math.Sin(a)
	p.f.Polygon([]fpdf.PointType{{X: x2, Y: y2}, {X: bx - hw*math.Sin(a), Y: by + hw*math.Cos(a)}, {X: bx + hw*math.Sin(a), Y: by - hw*math.Cos(a)}}, "F")
}

// path draws an SVG path of the commands the charts use: M L H V and Z, absolute or relative.
func (p *pdfDraw) path(d string) error {
	var x, y, sx, sy float64
	i := 0
	cmd := byte(0)
	next := func() (float64, error) {
		for i < len(d) && (d[i] == ' ' || d[i] == ',') {
			i++
		}
		j := i
		if j < len(d) && (d[j] == '-' || d[j] == '+') {
			j++
		}
		for j < len(d) && (d[j] >= '0' && d[j] <= '9' || d[j] == '.' || d[j] == 'e') {
			j++
		}
		v, err := strconv.ParseFloat(d[i:j], 64)
		if err != nil {
			return 0, fmt.Errorf("pdf: path %q: bad number at %d", d, i)
		}
		i = j
		return v, nil
	}
	for {
		for i < len(d) && (d[i] == ' ' || d[i] == ',') {
			i++
		}
		if i >= len(d) {
			return nil
		}
		if c := d[i]; unicode.IsLetter(rune(c)) {
			cmd = c
			i++
		} else if cmd == 0 {
			return fmt.Errorf("pdf: path %q does not start with a command", d)
		}
		rel := cmd >= 'a'
		var dx, dy float64
		if rel {
			dx, dy = x, y
		}
		switch cmd | 0x20 { // lower case
		case 'm', 'l':
			a, err := next()
			if err != nil {
				return err
			}
			b, err := next()
			if err != nil {
				return err
			}
			x, y = a+dx, b+dy
			if cmd|0x20 == 'm' {
				p.f.MoveTo(x, y)
				sx, sy = x, y
				cmd = map[bool]byte{true: 'l', false: 'L'}[rel] // further pairs are lines
			} else {
				p.f.LineTo(x, y)
			}
		case 'h':
			a, err := next()
			if err != nil {
				return err
			}
			x = a + dx
			p.f.LineTo(x, y)
		case 'v':
			a, err := next()
			if err != nil {
				return err
			}
			y = a + dy
			p.f.LineTo(x, y)
		case 'z':
			p.f.ClosePath()
			x, y = sx, sy
			cmd = 0
		default:
			return fmt.Errorf("pdf: path command %q is not drawn", string(cmd))
		}
	}
}

// pdfText is a <text> element: lines at their own positions (tspans) in one style.
type pdfText struct {
	a     attrs
	lines []textLine
}

type textLine struct {
	x, y float64
	s    strings.Builder
}

func (t *pdfText) startLine(a attrs) {
	var x, y float64
	if n := len(t.lines); n > 0 {
		x, y = t.lines[n-1].x, t.lines[n-1].y
	}
	if v, err := a.num("x", math.NaN()); err == nil && !math.IsNaN(v) {
		x = v
	}
	if v, err := a.num("y", math.NaN()); err == nil && !math.IsNaN(v) {
		y = v
	}
	if v, err := a.num("dy", 0); err == nil {
		y += v
	}
	// A tspan starts a new line only where it moves; the text's own run is line 0.
	if n := len(t.lines); n > 0 && t.lines[n-1].s.Len() == 0 {
		t.lines[n-1].x, t.lines[n-1].y = x, y
		return
	}
	t.lines = append(t.lines, textLine{x: x, y: y})
}

func (t *pdfText) add(s string) { t.lines[len(t.lines)-1].s.WriteString(s) }

// pdfRunes are the characters the charts use that cp1252 lacks.
var pdfRunes = strings.NewReplacer("\u2032", "'", "\u2212", "-", "\u2264", "<=", "\u2265", ">=", "\u2248", "~", "\u2009", " ", "\u00a0", " ")

func (p *pdfDraw) text(t *pdfText) {
	a := t.a
	size, _ := a.num("font-size", 12)
	style := ""
	if a["font-weight"] == "bold" {
		style = "B"
	}
	p.f.SetFont("Helvetica", style, size)
	r, g, b, ok, _ := color(a["fill"])
	if !ok {
		r, g, b = 0, 0, 0
	}
	p.f.SetTextColor(r, g, b)
	p.f.SetAlpha(1, "Normal")
	rot := 0.0
	var rx, ry float64
	if tf := a["transform"]; strings.HasPrefix(tf, "rotate(") {
		f := strings.Fields(strings.NewReplacer("rotate(", "", ")", "", ",", " ").Replace(tf))
		if len(f) == 3 {
			rot, _ = strconv.ParseFloat(f[0], 64)
			rx, _ = strconv.ParseFloat(f[1], 64)
			ry, _ = strconv.ParseFloat(f[2], 64)
		}
	}
	if rot != 0 {
		p.f.TransformBegin()
		p.f.TransformRotate(-rot, rx, ry) // SVG turns clockwise, fpdf counter-clockwise
	}
	for _, l := range t.lines {
		s := p.tr(pdfRunes.Replace(strings.TrimSpace(l.s.String())))
		if s == "" {
			continue
		}
		x, y := l.x, l.y
		switch a["text-anchor"] {
		case "middle":
			x -= p.f.GetStringWidth(s) / 2
		case "end":
			x -= p.f.GetStringWidth(s)
		}
		if a["dominant-baseline"] == "middle" {
			y += 0.35 * size
		}
		p.f.Text(x, y, s)
	}
	if rot != 0 {
		p.f.TransformEnd()
	}
}
