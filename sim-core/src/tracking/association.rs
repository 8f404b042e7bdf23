//! Association of one scan's plots with the tracks (step 3 of the module doc of
//! [`super`]): tracks and plots linked by gated pairs form clusters (union-find, the smaller
//! index the root, so the result does not depend on the order of the pairs), and each
//! cluster is solved by the Hungarian algorithm ([`super::hungarian`]) on the squared
//! Mahalanobis distances, with one dummy "no plot" column per track costing the gate gamma
//! and pairs outside the gate forbidden: global nearest neighbour (Blackman & Popoli [BP]
//! sec. 6.3).

use super::hungarian;

/// Global nearest neighbour per cluster: returns the (track, plot) pairs assigned.
pub(super) fn assign_clusters(
    nt: usize,
    nd: usize,
    edges: &[(usize, usize, f64)],
    gamma: f64,
) -> Vec<(usize, usize)> {
    let mut parent: Vec<usize> = (0..nt + nd).collect();
    fn find(parent: &mut [usize], mut i: usize) -> usize {
        // bounded: union-find path of at most n parents.
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for &(ti, di, _) in edges {
        let (a, b) = (find(&mut parent, ti), find(&mut parent, nt + di));
        if a != b {
            // The smaller index becomes the root: deterministic, independent of edge order.
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            parent[hi] = lo;
        }
    }
    // Edges grouped by cluster root, clusters in root order, edges in (track, plot) order.
    let mut keyed: Vec<(usize, usize, usize, f64)> = edges
        .iter()
        .map(|&(ti, di, d2)| (find(&mut parent, ti), ti, di, d2))
        .collect();
    keyed.sort_by_key(|e| (e.0, e.1, e.2));
    let mut out = Vec::new();
    let mut start = 0;
    // bounded: start advances by at least one per pass.
    while start < keyed.len() {
        let root = keyed[start].0;
        let end = start + keyed[start..].partition_point(|e| e.0 == root);
        let cluster = &keyed[start..end];
        start = end;
        if cluster.len() == 1 {
            out.push((cluster[0].1, cluster[0].2));
            continue;
        }
        let mut rows: Vec<usize> = cluster.iter().map(|e| e.1).collect();
        rows.dedup();
        let mut cols: Vec<usize> = cluster.iter().map(|e| e.2).collect();
        cols.sort_unstable();
        cols.dedup();
        let (nr, nc) = (rows.len(), cols.len() + rows.len());
        let mut cost = vec![f64::INFINITY; nr * nc];
        for &(_, ti, di, d2) in cluster {
            let r = rows.binary_search(&ti).expect("row of the cluster");
            let c = cols.binary_search(&di).expect("column of the cluster");
            cost[r * nc + c] = d2;
        }
        for r in 0..nr {
            cost[r * nc + cols.len() + r] = gamma;
        }
        for (r, c) in hungarian(&cost, nr, nc).into_iter().enumerate() {
            if let Some(c) = c
                && c < cols.len()
            {
                out.push((rows[r], cols[c]));
            }
        }
    }
    out
}
