//! The filter's small matrix products, written out for fixed sizes.
//!
//! Every plot costs the filter a handful of 7 x 7 products (the transition of the covariance,
//! the Joseph-form update); nalgebra's `Matrix * Matrix` reaches them through its generic
//! column-by-column `gemv`, which the compiler does not flatten for a 7 x 7. These functions
//! compute the same sums in the same order as that operator (each entry starts from the first
//! product and adds the next ones in turn, with no fused multiply-add), so their results are
//! bit for bit the operator's (checked below), natively and in wasm; only the loop shape
//! differs: one output column at a time, kept in registers.

use nalgebra::SMatrix;

/// `a * b`.
#[inline]
pub fn mul<const R: usize, const K: usize, const C: usize>(
    a: &SMatrix<f64, R, K>,
    b: &SMatrix<f64, K, C>,
) -> SMatrix<f64, R, C> {
    product(a, |k, j| b[(k, j)])
}

/// `a * b^T`, without building the transpose.
#[inline]
pub fn mul_t<const R: usize, const K: usize, const C: usize>(
    a: &SMatrix<f64, R, K>,
    b: &SMatrix<f64, C, K>,
) -> SMatrix<f64, R, C> {
    product(a, |k, j| b[(j, k)])
}

/// `a` times the K x C matrix whose entry (k, j) is `b(k, j)`: each output column starts from
/// the first product and adds the next ones in turn.
#[inline(always)]
fn product<const R: usize, const K: usize, const C: usize>(
    a: &SMatrix<f64, R, K>,
    b: impl Fn(usize, usize) -> f64,
) -> SMatrix<f64, R, C> {
    let mut out = SMatrix::<f64, R, C>::zeros();
    if K == 0 {
        return out;
    }
    for j in 0..C {
        let mut col = [0.0; R];
        let b0 = b(0, j);
        for (i, c) in col.iter_mut().enumerate() {
            *c = a[(i, 0)] * b0;
        }
        for k in 1..K {
            let bk = b(k, j);
            for (i, c) in col.iter_mut().enumerate() {
                *c += a[(i, k)] * bk;
            }
        }
        out.column_mut(j).copy_from_slice(&col);
    }
    out
}

/// `a * p * a^T`, the covariance transform.
#[inline]
pub fn sandwich<const R: usize, const K: usize>(
    a: &SMatrix<f64, R, K>,
    p: &SMatrix<f64, K, K>,
) -> SMatrix<f64, R, R> {
    mul_t(&mul(a, p), a)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic entries of mixed sign and magnitude, with exact zeros and a negative zero.
    fn matrix<const R: usize, const C: usize>(seed: u64) -> SMatrix<f64, R, C> {
        let mut s = seed;
        SMatrix::from_fn(|i, j| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            match (s >> 60) % 8 {
                0 => 0.0,
                1 => -0.0,
                _ => {
                    const SCALE: [f64; 9] = [1e-4, 1e-3, 1e-2, 0.1, 1.0, 10.0, 1e2, 1e3, 1e4];
                    ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * SCALE[(i + 2 * j) % 9]
                }
            }
        })
    }

    fn bits<const R: usize, const C: usize>(m: &SMatrix<f64, R, C>) -> Vec<u64> {
        m.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn the_products_are_the_operators_bit_for_bit() {
        for seed in 0..200 {
            let a = matrix::<7, 7>(seed);
            let b = matrix::<7, 7>(seed + 1_000);
            let h = matrix::<3, 7>(seed + 2_000);
            let k = matrix::<7, 3>(seed + 3_000);
            assert_eq!(bits(&mul(&a, &b)), bits(&(a * b)));
            assert_eq!(bits(&mul_t(&a, &b)), bits(&(a * b.transpose())));
            assert_eq!(bits(&sandwich(&a, &b)), bits(&(a * b * a.transpose())));
            assert_eq!(bits(&mul(&h, &a)), bits(&(h * a)));
            assert_eq!(bits(&mul(&k, &h)), bits(&(k * h)));
            assert_eq!(bits(&sandwich(&h, &b)), bits(&(h * b * h.transpose())));
            assert_eq!(bits(&mul_t(&a, &h)), bits(&(a * h.transpose())));
        }
    }
}
