package allocator

import (
	"fmt"
	"math"
)

// Dense Cholesky kernels for the α-fair solver's link-space Newton matrix
// (alphafair.go): up to a few thousand rows, row-major, lower triangle.
//
// The matrix (2,000 × 2,000 is 32 MB) does not fit in cache, so a plain
// left-looking loop, which streams every earlier row once per column, is
// bound by memory and by the latency of one long chain of additions. The
// factorisation here works in panels of cholPanel columns and computes the
// panel's updates in 4 × 4 tiles of dot products: each row read from memory
// serves four columns, and sixteen independent sums keep the floating-point
// units busy. The triangular solves read the factor row by row in both
// directions (the backward solve as row axpys instead of a walk down the
// columns). The summation order differs from the plain loop's, so results
// agree with it only to rounding; the solver does not depend on the last
// bit (see afSolver.newton's fallback).

// cholPanel is the number of columns factorised together.
const cholPanel = 4

// cholSmall is the size below which the plain loops are used: the matrix
// is in cache there, so tiles gain nothing. It also keeps the random-problem
// tests (≤ 12 paths, ≤ 8 links) on the plain loops' rounding: with the
// tiled order one α = 10 instance of TestAlphaFairAccuracySurvey lost its
// per-FG certificate (FGGap 0.06 instead of ≤ 1e-6; the levels of
// alphalevels.go are that sensitive on it, see docs/allocator.md, "Known
// limits").
const cholSmall = 64

// cholFactor overwrites the symmetric positive definite n×n row-major
// matrix M with its Cholesky factor L (lower triangle; the strict upper
// triangle is left undefined).
func cholFactor(M []float64, n int) error {
	if n < cholSmall {
		return cholColumns(M, n, 0, n)
	}
	for jb := 0; jb < n; jb += cholPanel {
		je := min(jb+cholPanel, n)
		// Subtract the contributions of columns < jb from columns jb..je-1
		// of every row i ≥ jb, four rows at a time.
		if je-jb == cholPanel {
			i := jb
			for ; i+4 <= n; i += 4 {
				tile4x4(M, n, i, jb)
			}
			for ; i < n; i++ {
				ri := M[i*n : i*n+jb]
				for j := jb; j < je; j++ {
					M[i*n+j] -= dot(ri, M[j*n:j*n+jb])
				}
			}
		} else {
			for i := jb; i < n; i++ {
				ri := M[i*n : i*n+jb]
				for j := jb; j < je; j++ {
					M[i*n+j] -= dot(ri, M[j*n:j*n+jb])
				}
			}
		}
		// Factorise the panel: the contributions of columns jb..j-1 remain.
		if err := cholColumns(M, n, jb, je); err != nil {
			return err
		}
	}
	return nil
}

// cholColumns factorises columns j0..j1-1 of M in place by the plain
// left-looking loop, subtracting the contributions of columns j0..j-1
// (those of earlier columns must already be subtracted).
func cholColumns(M []float64, n, j0, j1 int) error {
	for j := j0; j < j1; j++ {
		row := M[j*n : j*n+n]
		d := row[j]
		for k := j0; k < j; k++ {
			d -= row[k] * row[k]
		}
		if !(d > 0) {
			return fmt.Errorf("%w: Newton system not positive definite", ErrInternal)
		}
		d = math.Sqrt(d)
		row[j] = d
		for i := j + 1; i < n; i++ {
			ri := M[i*n : i*n+n]
			v := ri[j]
			for k := j0; k < j; k++ {
				v -= ri[k] * row[k]
			}
			ri[j] = v / d
		}
	}
	return nil
}

// tile4x4 subtracts from M[i+a][jb+b] (a, b < 4) the dot product of rows
// i+a and jb+b over columns 0..jb-1.
func tile4x4(M []float64, n, i, jb int) {
	r0, r1, r2, r3 := M[i*n:i*n+jb], M[(i+1)*n:(i+1)*n+jb], M[(i+2)*n:(i+2)*n+jb], M[(i+3)*n:(i+3)*n+jb]
	c0, c1, c2, c3 := M[jb*n:jb*n+jb], M[(jb+1)*n:(jb+1)*n+jb], M[(jb+2)*n:(jb+2)*n+jb], M[(jb+3)*n:(jb+3)*n+jb]
	// Equal lengths, stated so that the loop needs no bounds checks.
	r1, r2, r3 = r1[:len(r0)], r2[:len(r0)], r3[:len(r0)]
	c0, c1, c2, c3 = c0[:len(r0)], c1[:len(r0)], c2[:len(r0)], c3[:len(r0)]
	var s00, s01, s02, s03, s10, s11, s12, s13, s20, s21, s22, s23, s30, s31, s32, s33 float64
	for k, a0 := range r0 {
		a1, a2, a3 := r1[k], r2[k], r3[k]
		b0, b1, b2, b3 := c0[k], c1[k], c2[k], c3[k]
		s00 += a0 * b0
		s01 += a0 * b1
		s02 += a0 * b2
		s03 += a0 * b3
		s10 += a1 * b0
		s11 += a1 * b1
		s12 += a1 * b2
		s13 += a1 * b3
		s20 += a2 * b0
		s21 += a2 * b1
		s22 += a2 * b2
		s23 += a2 * b3
		s30 += a3 * b0
		s31 += a3 * b1
		s32 += a3 * b2
		s33 += a3 * b3
	}
	sub := func(row int, s0, s1, s2, s3 float64) {
		r := M[row*n+jb : row*n+jb+4]
		r[0] -= s0
		r[1] -= s1
		r[2] -= s2
		r[3] -= s3
	}
	sub(i, s00, s01, s02, s03)
	sub(i+1, s10, s11, s12, s13)
	sub(i+2, s20, s21, s22, s23)
	sub(i+3, s30, s31, s32, s33)
}

// dot is Σ a_k b_k over len(a) (b at least as long), in four independent
// partial sums.
func dot(a, b []float64) float64 {
	b = b[:len(a)]
	var s0, s1, s2, s3 float64
	k := 0
	for ; k+4 <= len(a); k += 4 {
		a4, b4 := a[k:k+4:k+4], b[k:k+4:k+4]
		s0 += a4[0] * b4[0]
		s1 += a4[1] * b4[1]
		s2 += a4[2] * b4[2]
		s3 += a4[3] * b4[3]
	}
	for ; k < len(a); k++ {
		s0 += a[k] * b[k]
	}
	return (s0 + s1) + (s2 + s3)
}

// cholSolve solves L·Lᵀ z = b in place for the factor of cholFactor.
func cholSolve(M []float64, n int, b []float64) {
	if n < cholSmall {
		cholSolvePlain(M, n, b)
		return
	}
	for i := 0; i < n; i++ {
		b[i] = (b[i] - dot(M[i*n:i*n+i], b)) / M[i*n+i]
	}
	// Lᵀ z = y: z_i once the later z are known, then row i of L (column i
	// of Lᵀ) is subtracted from the earlier entries.
	for i := n - 1; i >= 0; i-- {
		zi := b[i] / M[i*n+i]
		b[i] = zi
		row := M[i*n : i*n+i]
		bb := b[:i]
		for k, v := range row {
			bb[k] -= v * zi
		}
	}
}

// cholSolvePlain is cholSolve by plain substitutions (n < cholSmall).
func cholSolvePlain(M []float64, n int, b []float64) {
	for i := 0; i < n; i++ {
		v := b[i]
		row := M[i*n : i*n+i]
		for k, mk := range row {
			v -= mk * b[k]
		}
		b[i] = v / M[i*n+i]
	}
	for i := n - 1; i >= 0; i-- {
		v := b[i]
		for k := i + 1; k < n; k++ {
			v -= M[k*n+i] * b[k]
		}
		b[i] = v / M[i*n+i]
	}
}
