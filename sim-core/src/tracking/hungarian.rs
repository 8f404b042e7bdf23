//! The Hungarian algorithm for rectangular assignment with forbidden pairs, in f64.
//!
//! Source: Kuhn, "The Hungarian method for the assignment problem", Naval Research Logistics
//! Quarterly 2 (1955); the O(n^2 m) shortest-augmenting-path form with row and column
//! potentials of Jonker & Volgenant, "A shortest augmenting path algorithm for dense and
//! sparse linear assignment problems", Computing 38 (1987). Own implementation (about 60
//! lines, no allocation beyond five vectors) rather than a crate: the tracker needs forbidden
//! pairs and rectangular matrices in f64 with a bit-reproducible result, and the two crates
//! that offer it (`pathfinding`'s Kuhn-Munkres works on integer-like weights; `lapjv` wants
//! square matrices) would each need an adapter as long as this file.
//!
//! Semantics: among all matchings that use only allowed pairs (finite costs), the one with the
//! most pairs, and among those the cheapest. Forbidden pairs are `f64::INFINITY` (or any
//! non-finite value, NaN included); they are replaced internally by a cost `M` larger than
//! any difference of total finite cost, so an extra allowed pair always wins, and then
//! dropped from the answer. Invariant: pure arithmetic, no transcendental, deterministic.

/// Minimum-cost assignment of rows to columns of a `rows x cols` row-major cost matrix.
///
/// Returns, for each row, the column assigned to it, or `None` when the row is left out
/// (more rows than columns, or only forbidden pairs left for it). Entries missing from a
/// short slice count as forbidden. Runs in O(min(r, c)^2 max(r, c)).
pub fn hungarian(cost: &[f64], rows: usize, cols: usize) -> Vec<Option<usize>> {
    if rows == 0 || cols == 0 {
        return vec![None; rows];
    }
    let at = |r: usize, c: usize| -> f64 {
        match cost.get(r * cols + c) {
            Some(&x) if x.is_finite() => x,
            _ => f64::INFINITY,
        }
    };
    // Work with n <= m: transpose when there are more rows than columns.
    let transpose = rows > cols;
    let (n, m) = if transpose {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let raw = |i: usize, j: usize| if transpose { at(j, i) } else { at(i, j) };
    let max_abs = (0..n)
        .flat_map(|i| (0..m).map(move |j| (i, j)))
        .map(|(i, j)| raw(i, j))
        .filter(|x| x.is_finite())
        .fold(0.0f64, |a, x| a.max(x.abs()));
    // Any matching of n pairs has a finite total within 2 n max_abs of any other.
    let big = 2.0 * (n as f64 + 1.0) * (max_abs + 1.0);
    let a = |i: usize, j: usize| {
        let x = raw(i, j);
        if x.is_finite() { x } else { big }
    };

    // 1-indexed potentials u (rows), v (columns); p[j] = row matched to column j (0: none).
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    let mut minv = vec![0.0f64; m + 1];
    let mut used = vec![false; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        minv.iter_mut().for_each(|x| *x = f64::INFINITY);
        used.iter_mut().for_each(|x| *x = false);
        // bounded: each pass marks one more column used (at most m) or breaks; the augmenting path has at most m steps.
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if !used[j] {
                    let cur = a(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            if j1 == 0 {
                // Cannot happen with finite costs; guards against an endless loop anyway.
                break;
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        if p[j0] != 0 {
            continue;
        }
        // bounded: each pass marks one more column used (at most m) or breaks; the augmenting path has at most m steps.
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![None; rows];
    for (j, &row) in p.iter().enumerate().skip(1) {
        if row == 0 {
            continue;
        }
        let (i, jj) = (row - 1, j - 1);
        let (r, c) = if transpose { (jj, i) } else { (i, jj) };
        if at(r, c).is_finite() {
            out[r] = Some(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha8Rng;
    use rand_core::{RngCore, SeedableRng};

    /// (pairs, total cost) of an assignment; forbidden pairs are rejected.
    fn score(cost: &[f64], cols: usize, a: &[Option<usize>]) -> (usize, f64) {
        let mut seen = vec![false; cols];
        let mut total = 0.0;
        let mut pairs = 0;
        for (r, c) in a.iter().enumerate() {
            if let Some(c) = *c {
                assert!(!seen[c], "column {c} used twice");
                seen[c] = true;
                assert!(cost[r * cols + c].is_finite(), "forbidden pair used");
                total += cost[r * cols + c];
                pairs += 1;
            }
        }
        (pairs, total)
    }

    /// Exhaustive search: every row takes a free allowed column or nothing; best = most
    /// pairs, then least cost.
    fn brute(cost: &[f64], rows: usize, cols: usize) -> (usize, f64) {
        fn go(
            r: usize,
            rows: usize,
            cols: usize,
            cost: &[f64],
            used: &mut Vec<bool>,
            acc: (usize, f64),
            best: &mut (usize, f64),
        ) {
            if r == rows {
                if acc.0 > best.0 || (acc.0 == best.0 && acc.1 < best.1) {
                    *best = acc;
                }
                return;
            }
            go(r + 1, rows, cols, cost, used, acc, best);
            for c in 0..cols {
                let x = cost[r * cols + c];
                if !used[c] && x.is_finite() {
                    used[c] = true;
                    go(r + 1, rows, cols, cost, used, (acc.0 + 1, acc.1 + x), best);
                    used[c] = false;
                }
            }
        }
        let mut best = (0, f64::INFINITY);
        go(
            0,
            rows,
            cols,
            cost,
            &mut vec![false; cols],
            (0, 0.0),
            &mut best,
        );
        if best.0 == 0 {
            best.1 = 0.0;
        }
        best
    }

    #[test]
    fn matches_brute_force_on_random_rectangular_matrices_with_forbidden_pairs() {
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        let mut checked = 0;
        for rows in 1..=6 {
            for cols in 1..=6 {
                for _ in 0..40 {
                    let cost: Vec<f64> = (0..rows * cols)
                        .map(|_| {
                            let x = rng.next_u64();
                            if x % 4 == 0 {
                                f64::INFINITY
                            } else {
                                // Costs in [-50, 50) with ties now and then.
                                ((x >> 8) % 100) as f64 - 50.0
                            }
                        })
                        .collect();
                    let a = hungarian(&cost, rows, cols);
                    assert_eq!(a.len(), rows);
                    let got = score(&cost, cols, &a);
                    let want = brute(&cost, rows, cols);
                    assert_eq!(got.0, want.0, "{rows}x{cols} {cost:?}");
                    assert!((got.1 - want.1).abs() < 1e-9, "{rows}x{cols} {cost:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 36 * 40);
    }

    #[test]
    fn known_small_cases() {
        // The classic 3x3: optimum 5 (rows to columns 1, 0, 2).
        let c = [4.0, 1.0, 3.0, 2.0, 0.0, 5.0, 3.0, 2.0, 2.0];
        assert_eq!(hungarian(&c, 3, 3), vec![Some(1), Some(0), Some(2)]);
        // More rows than columns: the cheaper rows win.
        let c = [1.0, 9.0, 0.5, 9.0, 9.0, 0.1];
        let a = hungarian(&c, 3, 2);
        assert_eq!(a, vec![None, Some(0), Some(1)]);
        // All forbidden, NaN forbidden, empty matrices.
        assert_eq!(hungarian(&[f64::INFINITY; 4], 2, 2), vec![None, None]);
        assert_eq!(hungarian(&[f64::NAN, 1.0], 1, 2), vec![Some(1)]);
        assert_eq!(hungarian(&[], 0, 3), Vec::<Option<usize>>::new());
        assert_eq!(hungarian(&[], 2, 0), vec![None, None]);
        // A short slice: missing entries are forbidden.
        assert_eq!(hungarian(&[5.0], 2, 2), vec![Some(0), None]);
        // Cardinality beats cost: one cheap pair blocks two, so both allowed pairs are taken.
        let c = [0.0, 100.0, 1.0, f64::INFINITY];
        assert_eq!(hungarian(&c, 2, 2), vec![Some(1), Some(0)]);
    }
}
