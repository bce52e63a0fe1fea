package analysis

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
)

// ErrCollinear is returned when the design matrix is (numerically) rank deficient.
var ErrCollinear = errors.New("analysis: design matrix is rank deficient (collinear or constant columns)")

// lsq solves min ||y - Xb|| by Householder QR on the column-equilibrated
// design (each column scaled to unit norm), which keeps ill-conditioned
// problems such as NIST Longley accurate, and returns b and, if wantInv,
// (X'X)^-1 = D^-1 R^-1 R^-T D^-1 computed from the triangular factor rather
// than by inverting X'X.
func lsq(X mat.Matrix, y []float64, wantInv bool) ([]float64, *mat.SymDense, error) {
	n, p := X.Dims()
	if n < p || p == 0 {
		return nil, nil, ErrTooFew
	}
	return lsqInto(X, mat.NewDense(n, p, nil), y, wantInv)
}

// lsqScratch is lsq on a design the caller no longer needs: X is scaled in place (the same
// numbers as lsq's copy), which saves a copy of it per call.
func lsqScratch(X *mat.Dense, y []float64, wantInv bool) ([]float64, *mat.SymDense, error) {
	n, p := X.Dims()
	if n < p || p == 0 {
		return nil, nil, ErrTooFew
	}
	return lsqInto(X, X, y, wantInv)
}

// lsqInto is lsq with xs, n x p, to hold the equilibrated design (it may be X itself: each
// column's scale is measured before the column is written).
func lsqInto(X mat.Matrix, xs *mat.Dense, y []float64, wantInv bool) ([]float64, *mat.SymDense, error) {
	_, p := X.Dims()
	n, _ := xs.Dims()
	scale := make([]float64, p)
	for j := range p {
		var s float64
		for i := range n {
			v := X.At(i, j)
			s += v * v
		}
		s = math.Sqrt(s)
		if s == 0 || math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, nil, ErrCollinear
		}
		scale[j] = s
		for i := range n {
			xs.Set(i, j, X.At(i, j)/s)
		}
	}
	var qr mat.QR
	qr.Factorize(xs)
	var r mat.Dense
	qr.RTo(&r)
	for j := range p {
		// Columns have unit norm, so |R_jj| is the norm of column j orthogonal
		// to the previous ones: a tiny value means near-exact collinearity.
		if math.Abs(r.At(j, j)) < 1e-10 {
			return nil, nil, ErrCollinear
		}
	}
	yv := mat.NewVecDense(n, append([]float64(nil), y...))
	var b mat.VecDense
	if err := qr.SolveVecTo(&b, false, yv); err != nil {
		return nil, nil, ErrCollinear
	}
	// One step of iterative refinement on the residual.
	var fit, res, db mat.VecDense
	fit.MulVec(xs, &b)
	res.SubVec(yv, &fit)
	if err := qr.SolveVecTo(&db, false, &res); err == nil {
		b.AddVec(&b, &db)
	}
	beta := make([]float64, p)
	for j := range p {
		beta[j] = b.AtVec(j) / scale[j]
	}
	if !wantInv {
		return beta, nil, nil
	}
	rt := mat.NewTriDense(p, mat.Upper, nil)
	for i := range p {
		for j := i; j < p; j++ {
			rt.SetTri(i, j, r.At(i, j))
		}
	}
	var ri mat.TriDense
	if err := ri.InverseTri(rt); err != nil {
		var cond mat.Condition
		if !errors.As(err, &cond) {
			return nil, nil, ErrCollinear
		}
	}
	inv := mat.NewSymDense(p, nil)
	for i := range p {
		for j := i; j < p; j++ {
			var s float64
			for k := j; k < p; k++ { // (R^-1 R^-T)_ij = sum_k Ri_ik Ri_jk, Ri upper
				s += ri.At(i, k) * ri.At(j, k)
			}
			inv.SetSym(i, j, s/(scale[i]*scale[j]))
		}
	}
	return beta, inv, nil
}

// sandwich returns c · A (Σ_g s_g s_g') A where s_g sums the score rows
// u_i = x_i·e_i over cluster g (each observation its own cluster when
// cluster is nil) and A is the bread (X'WX)^-1.
func sandwich(X mat.Matrix, e []float64, cluster []int, bread *mat.SymDense, c float64) *mat.SymDense {
	n, p := X.Dims()
	var groups [][]int
	if cluster == nil {
		groups = make([][]int, n)
		for i := range n {
			groups[i] = []int{i}
		}
	} else {
		groups = clusterIndex(cluster)
	}
	meat := mat.NewSymDense(p, nil)
	s := make([]float64, p)
	for _, idx := range groups {
		clear(s)
		for _, i := range idx {
			for j := range p {
				s[j] += X.At(i, j) * e[i]
			}
		}
		meat.SymRankOne(meat, 1, mat.NewVecDense(p, s))
	}
	return bake(bread, meat, c)
}

// bake returns c · A M A, symmetrised, for the bread A and the meat M.
func bake(bread, meat *mat.SymDense, c float64) *mat.SymDense {
	p := bread.SymmetricDim()
	var t, v mat.Dense
	t.Mul(bread, meat)
	v.Mul(&t, bread)
	out := mat.NewSymDense(p, nil)
	for i := range p {
		for j := i; j < p; j++ {
			out.SetSym(i, j, c*(v.At(i, j)+v.At(j, i))/2)
		}
	}
	return out
}

func numClusters(cluster []int) int {
	seen := map[int]struct{}{}
	for _, c := range cluster {
		seen[c] = struct{}{}
	}
	return len(seen)
}

// withIntercept returns X with a leading column of ones.
// interceptView is X with a leading column of ones, read in place (the values withIntercept
// copies).
type interceptView struct{ X mat.Matrix }

func (v interceptView) Dims() (r, c int) {
	r, c = v.X.Dims()
	return r, c + 1
}

func (v interceptView) At(i, j int) float64 {
	if j == 0 {
		return 1
	}
	return v.X.At(i, j-1)
}

func (v interceptView) T() mat.Matrix { return mat.Transpose{Matrix: v} }

func withIntercept(X mat.Matrix) *mat.Dense {
	n, p := X.Dims()
	d := mat.NewDense(n, p+1, nil)
	for i := range n {
		d.Set(i, 0, 1)
		for j := range p {
			d.Set(i, j+1, X.At(i, j))
		}
	}
	return d
}
