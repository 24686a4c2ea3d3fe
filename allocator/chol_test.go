package allocator

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// randomSPD returns a random n×n symmetric positive definite matrix
// (row-major) with condition number around cond: Q·diag·Qᵀ built from a
// random Gram matrix plus a diagonal spread.
func randomSPD(rng *rand.Rand, n int, cond float64) []float64 {
	G := make([]float64, n*n)
	for i := range G {
		G[i] = rng.NormFloat64()
	}
	M := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			s := 0.0
			for k := 0; k < n; k++ {
				s += G[i*n+k] * G[j*n+k]
			}
			M[i*n+j], M[j*n+i] = s, s
		}
		M[i*n+i] += math.Pow(cond, float64(i)/float64(max(n-1, 1)))
	}
	return M
}

// TestCholesky: on random SPD matrices of sizes around the panel and tile
// boundaries, L·Lᵀ reproduces M and cholSolve's solution has a small
// residual; a matrix that is not positive definite is reported, not
// factorised.
func TestCholesky(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for _, tc := range []struct {
		n    int
		cond float64
	}{{1, 1}, {2, 10}, {3, 1e3}, {4, 1}, {5, 1e6}, {7, 1e3}, {8, 1e8}, {13, 1e4}, {33, 1e6}, {64, 1e10}, {67, 1e4}, {101, 1e3}, {130, 1e6}} {
		t.Run(fmt.Sprintf("n=%d/cond=%g", tc.n, tc.cond), func(t *testing.T) {
			n := tc.n
			M := randomSPD(rng, n, tc.cond)
			L := append([]float64(nil), M...)
			if err := cholFactor(L, n); err != nil {
				t.Fatal(err)
			}
			worst, scale := 0.0, 0.0
			for i := 0; i < n; i++ {
				for j := 0; j <= i; j++ {
					s := 0.0
					for k := 0; k <= j; k++ {
						s += L[i*n+k] * L[j*n+k]
					}
					worst = max(worst, math.Abs(s-M[i*n+j]))
					scale = max(scale, math.Abs(M[i*n+j]))
				}
			}
			if worst > 1e-12*scale {
				t.Errorf("|L·Lᵀ − M| = %.3g, |M| = %.3g", worst, scale)
			}
			b := make([]float64, n)
			for i := range b {
				b[i] = rng.NormFloat64()
			}
			z := append([]float64(nil), b...)
			cholSolve(L, n, z)
			res, bn := 0.0, 0.0
			for i := 0; i < n; i++ {
				s := 0.0
				for k := 0; k < n; k++ {
					s += M[i*n+k] * z[k]
				}
				res = max(res, math.Abs(s-b[i]))
				bn = max(bn, math.Abs(b[i]))
			}
			// Backward stable: the residual is about ε·|M|·|z|.
			zn := 0.0
			for _, v := range z {
				zn = max(zn, math.Abs(v))
			}
			if res > 1e-12*scale*zn*float64(n)+1e-14*bn {
				t.Errorf("residual %.3g (|M| %.3g, |z| %.3g)", res, scale, zn)
			}
		})
	}
	// Indefinite: the 2×2 matrix [[1 2] [2 1]] and a 9×9 with a negative
	// pivot past the first panel.
	ind := []float64{1, 2, 2, 1}
	if err := cholFactor(ind, 2); !errors.Is(err, ErrInternal) {
		t.Errorf("indefinite 2×2: %v, want ErrInternal", err)
	}
	M := randomSPD(rng, 9, 10)
	M[6*9+6] = -1e6
	if err := cholFactor(M, 9); !errors.Is(err, ErrInternal) {
		t.Errorf("indefinite 9×9: %v, want ErrInternal", err)
	}
}

// BenchmarkCholesky: one factorisation and one solve of a 2,000 × 2,000
// matrix, the size of the #20 benchmark's link-space Newton matrix.
func BenchmarkCholesky(b *testing.B) {
	const n = 2000
	rng := rand.New(rand.NewPCG(1, 1))
	M := make([]float64, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			v := rng.Float64() / n
			M[i*n+j], M[j*n+i] = v, v
		}
		M[i*n+i] = 2
	}
	L := make([]float64, n*n)
	z := make([]float64, n)
	b.Run("factor", func(b *testing.B) {
		for b.Loop() {
			copy(L, M)
			if err := cholFactor(L, n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("solve", func(b *testing.B) {
		for b.Loop() {
			for i := range z {
				z[i] = 1
			}
			cholSolve(L, n, z)
		}
	})
}
