package analysis

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// ANOVARow is one effect line of an ANOVA table.
type ANOVARow struct {
	Source       string
	DF, SS, MS   float64
	F, P         float64
	EtaSq        float64 // SS_effect / SS_total
	PartialEtaSq float64 // SS_effect / (SS_effect + SS_residual)
	OmegaSq      float64 // (SS_effect - DF·MS_residual) / (SS_total + MS_residual)
	// PartialOmegaSq = DF(F-1) / (DF(F-1) + N); equals OmegaSq in a one-way design.
	PartialOmegaSq float64
}

// ANOVATable is a fixed-effects ANOVA.
type ANOVATable struct {
	Effects  []ANOVARow
	Residual ANOVARow // Source "Residual"; only DF, SS, MS set
	TotalSS  float64  // corrected total sum of squares
	TotalDF  float64
	N        int
	R2       float64 // 1 - SS_residual/SS_total
	SSType   SSType  // zero for OneWay, where all types coincide
}

// SSType selects how sums of squares are attributed in unbalanced designs.
// In balanced designs all types agree.
type SSType int

const (
	// TypeIII: each term adjusted for all others, including interactions that
	// contain it, with sum-to-zero (effect) coding. As SPSS/SAS and R
	// drop1(lm(y ~ A*B, contrasts = contr.sum), test = "F").
	TypeIII SSType = 3
	// TypeII: main effects adjusted for the other main effect but not for the
	// interaction; interaction adjusted for both main effects. As car::Anova(type = 2).
	TypeII SSType = 2
)

func (t SSType) String() string {
	return fmt.Sprintf("Type %s", map[SSType]string{2: "II", 3: "III"}[t])
}

// Effect returns the row named source, or false.
func (a ANOVATable) Effect(source string) (ANOVARow, bool) {
	for _, r := range a.Effects {
		if r.Source == source {
			return r, true
		}
	}
	return ANOVARow{}, false
}

func (a *ANOVATable) finish() {
	mse := a.Residual.MS
	n := float64(a.N)
	for i := range a.Effects {
		r := &a.Effects[i]
		r.MS = r.SS / r.DF
		r.F = r.MS / mse
		r.P = fSurvival(r.F, r.DF, a.Residual.DF)
		r.EtaSq = r.SS / a.TotalSS
		r.PartialEtaSq = r.SS / (r.SS + a.Residual.SS)
		r.OmegaSq = (r.SS - r.DF*mse) / (a.TotalSS + mse)
		r.PartialOmegaSq = r.DF * (r.F - 1) / (r.DF*(r.F-1) + n)
	}
	a.R2 = 1 - a.Residual.SS/a.TotalSS
}

// levels returns the sorted distinct labels and each observation's level index.
func levels(g []string) ([]string, []int) {
	lv := slices.Clone(g)
	slices.Sort(lv)
	lv = slices.Compact(lv)
	idx := make([]int, len(g))
	for i, s := range g {
		idx[i], _ = slices.BinarySearch(lv, s)
	}
	return lv, idx
}

// OneWay computes a one-way fixed-effects ANOVA of values by group label.
// Group means are formed with a two-pass algorithm so data with a large
// common offset (NIST SiRstv) keep their precision.
func OneWay(values []float64, groups []string) (ANOVATable, error) {
	if len(values) != len(groups) {
		return ANOVATable{}, errorf("len(values)=%d, len(groups)=%d", len(values), len(groups))
	}
	lv, idx := levels(groups)
	k, n := len(lv), len(values)
	if k < 2 {
		return ANOVATable{}, errorf("one-way ANOVA needs at least 2 groups (got %d)", k)
	}
	if n <= k {
		return ANOVATable{}, fmt.Errorf("%w: %d observations in %d groups", ErrTooFew, n, k)
	}
	byGroup := make([][]float64, k)
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ANOVATable{}, errorf("values[%d] is %v", i, v)
		}
		byGroup[idx[i]] = append(byGroup[idx[i]], v)
	}
	grand := mean(values)
	var ssb, ssw float64
	for _, g := range byGroup {
		m := mean(g)
		d := m - grand
		ssb += float64(len(g)) * d * d
		for _, v := range g {
			ssw += (v - m) * (v - m)
		}
	}
	t := ANOVATable{N: n, TotalDF: float64(n - 1)}
	for _, v := range values {
		t.TotalSS += (v - grand) * (v - grand)
	}
	t.Effects = []ANOVARow{{Source: "group", DF: float64(k - 1), SS: ssb}}
	t.Residual = ANOVARow{Source: "Residual", DF: float64(n - k), SS: ssw, MS: ssw / float64(n-k)}
	t.finish()
	return t, nil
}

// TwoWay computes a two-way fixed-effects ANOVA with interaction, with
// effects named "A", "B" and "A:B". Sums of squares are model comparisons
// of least-squares fits (QR) with sum-to-zero coding, of the chosen type;
// every A×B cell must be non-empty.
func TwoWay(y []float64, a, b []string, ss SSType) (ANOVATable, error) {
	n := len(y)
	if len(a) != n || len(b) != n {
		return ANOVATable{}, errorf("lengths differ: y %d, a %d, b %d", n, len(a), len(b))
	}
	if ss != TypeII && ss != TypeIII {
		return ANOVATable{}, errorf("unsupported sum of squares type %d", ss)
	}
	la, ia := levels(a)
	lb, ib := levels(b)
	ka, kb := len(la), len(lb)
	if ka < 2 || kb < 2 {
		return ANOVATable{}, errorf("each factor needs at least 2 levels (got %d, %d)", ka, kb)
	}
	cells := make([]int, ka*kb)
	for i := range y {
		if math.IsNaN(y[i]) || math.IsInf(y[i], 0) {
			return ANOVATable{}, errorf("y[%d] is %v", i, y[i])
		}
		cells[ia[i]*kb+ib[i]]++
	}
	for c, cnt := range cells {
		if cnt == 0 {
			return ANOVATable{}, errorf("empty cell %s=%s, %s=%s: two-way ANOVA with interaction needs every cell", "A", la[c/kb], "B", lb[c%kb])
		}
	}
	if n <= ka*kb {
		return ANOVATable{}, fmt.Errorf("%w: %d observations in %d cells", ErrTooFew, n, ka*kb)
	}
	// Effect coding: level l < k-1 gets 1 in column l; the last level gets -1 in all.
	code := func(lvl, k, col int) float64 {
		switch {
		case lvl == col:
			return 1
		case lvl == k-1:
			return -1
		}
		return 0
	}
	// Every model below is constant within an A×B cell, so its least-squares fit is the
	// weighted fit to the cell means (weights: cell counts), and its residual sum of squares
	// is the within-cell SS plus the weighted squared misfit of the cell means. Fitting K cell
	// rows instead of n observations keeps bootstraps over thousands of ratings cheap.
	K := ka * kb
	sum := make([]float64, K)
	for i := range y {
		sum[ia[i]*kb+ib[i]] += y[i]
	}
	cmean := make([]float64, K)
	for c := range K {
		cmean[c] = sum[c] / float64(cells[c])
	}
	var within float64
	for i := range y {
		d := y[i] - cmean[ia[i]*kb+ib[i]]
		within += d * d
	}
	w := make([]float64, K)
	wy := make([]float64, K)
	for c := range K {
		w[c] = math.Sqrt(float64(cells[c]))
		wy[c] = w[c] * cmean[c]
	}
	cols := map[string][][]float64{}
	for c := range ka - 1 {
		col := make([]float64, K)
		for k := range K {
			col[k] = code(k/kb, ka, c)
		}
		cols["A"] = append(cols["A"], col)
	}
	for c := range kb - 1 {
		col := make([]float64, K)
		for k := range K {
			col[k] = code(k%kb, kb, c)
		}
		cols["B"] = append(cols["B"], col)
	}
	for _, ca := range cols["A"] {
		for _, cb := range cols["B"] {
			col := make([]float64, K)
			for k := range K {
				col[k] = ca[k] * cb[k]
			}
			cols["A:B"] = append(cols["A:B"], col)
		}
	}
	rss := func(terms ...string) (float64, error) {
		var cs [][]float64
		for _, t := range terms {
			cs = append(cs, cols[t]...)
		}
		X := mat.NewDense(K, len(cs)+1, nil)
		for k := range K {
			X.Set(k, 0, w[k])
			for j, c := range cs {
				X.Set(k, j+1, w[k]*c[k])
			}
		}
		beta, _, err := lsq(X, wy, false)
		if err != nil {
			return 0, err
		}
		s := within
		for k := range K {
			r := wy[k] - mat.Dot(X.RowView(k), mat.NewVecDense(len(beta), beta))
			s += r * r
		}
		return s, nil
	}
	full, err := rss("A", "B", "A:B")
	if err != nil {
		return ANOVATable{}, err
	}
	add, err := rss("A", "B")
	if err != nil {
		return ANOVATable{}, err
	}
	var ssA, ssB float64
	if ss == TypeII {
		onlyB, err1 := rss("B")
		onlyA, err2 := rss("A")
		if err1 != nil || err2 != nil {
			return ANOVATable{}, ErrCollinear
		}
		ssA, ssB = onlyB-add, onlyA-add
	} else {
		noA, err1 := rss("B", "A:B")
		noB, err2 := rss("A", "A:B")
		if err1 != nil || err2 != nil {
			return ANOVATable{}, ErrCollinear
		}
		ssA, ssB = noA-full, noB-full
	}
	grand := mean(y)
	t := ANOVATable{N: n, TotalDF: float64(n - 1), SSType: ss}
	for _, v := range y {
		t.TotalSS += (v - grand) * (v - grand)
	}
	dfRes := float64(n - ka*kb)
	t.Effects = []ANOVARow{
		{Source: "A", DF: float64(ka - 1), SS: ssA},
		{Source: "B", DF: float64(kb - 1), SS: ssB},
		{Source: "A:B", DF: float64((ka - 1) * (kb - 1)), SS: add - full},
	}
	t.Residual = ANOVARow{Source: "Residual", DF: dfRes, SS: full, MS: full / dfRes}
	t.finish()
	return t, nil
}
