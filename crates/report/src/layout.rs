//! Force-directed layout (Fruchterman and Reingold 1991) for drawing coordination
//! networks. Deterministic (members start on a circle), so the same graph always draws the
//! same way.

/// Positions in the unit square `[0, 1]²` for `n` nodes in the given groups, tied by
/// weighted `edges` (indices into the nodes). Each group is laid out on its own and the
/// groups are packed in a grid, larger groups in larger cells, so that every network
/// stays legible however the others are shaped.
pub fn layout(groups: &[usize], edges: &[(usize, usize, f64)], iterations: usize) -> Vec<(f64, f64)> {
    let n = groups.len();
    if n == 0 {
        return Vec::new();
    }
    let n_groups = groups.iter().copied().max().unwrap_or(0) + 1;
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n_groups];
    for (i, g) in groups.iter().enumerate() {
        members[*g].push(i);
    }
    let mut local = vec![0usize; n];
    for m in &members {
        for (k, &i) in m.iter().enumerate() {
            local[i] = k;
        }
    }
    let mut group_edges: Vec<Vec<(usize, usize, f64)>> = vec![Vec::new(); n_groups];
    for &(a, b, w) in edges {
        if groups[a] == groups[b] && a != b {
            group_edges[groups[a]].push((local[a], local[b], w));
        }
    }
    let cols = (n_groups as f64).sqrt().ceil().max(1.0) as usize;
    let rows = n_groups.div_ceil(cols);
    let largest = members.iter().map(Vec::len).max().unwrap_or(1).max(1) as f64;
    let mut pos = vec![(0.5, 0.5); n];
    for (g, m) in members.iter().enumerate() {
        let inner = force_layout(m.len(), &group_edges[g], iterations);
        let (cx, cy) = ((g % cols) as f64 + 0.5, (g / cols) as f64 + 0.5);
        // Cell radius 0.45 of a cell, scaled by the group's size so small rings look small.
        let r = 0.45 * (0.35 + 0.65 * (m.len() as f64 / largest).sqrt());
        for (k, &i) in m.iter().enumerate() {
            let (x, y) = inner[k];
            pos[i] = ((cx + (x - 0.5) * 2.0 * r) / cols as f64, (cy + (y - 0.5) * 2.0 * r) / rows as f64);
        }
    }
    pos
}

/// Fruchterman–Reingold on one connected group, normalised to the unit square; nodes
/// start on a circle (deterministic).
fn force_layout(n: usize, edges: &[(usize, usize, f64)], iterations: usize) -> Vec<(f64, f64)> {
    if n == 1 {
        return vec![(0.5, 0.5)];
    }
    let tau = std::f64::consts::TAU;
    let mut pos: Vec<(f64, f64)> =
        (0..n).map(|i| ((tau * i as f64 / n as f64).cos(), (tau * i as f64 / n as f64).sin())).collect();
    let k = (4.0 / n as f64).sqrt();
    let max_w = edges.iter().map(|e| e.2).fold(1.0_f64, f64::max);
    let mut temp = 0.3;
    let cool = temp / iterations.max(1) as f64;
    let mut disp = vec![(0.0f64, 0.0f64); n];
    for _ in 0..iterations {
        disp.iter_mut().for_each(|d| *d = (0.0, 0.0));
        for i in 0..n {
            for j in (i + 1)..n {
                let dx = pos[i].0 - pos[j].0;
                let dy = pos[i].1 - pos[j].1;
                let d2 = (dx * dx + dy * dy).max(1e-9);
                let f = k * k / d2;
                disp[i].0 += dx * f;
                disp[i].1 += dy * f;
                disp[j].0 -= dx * f;
                disp[j].1 -= dy * f;
            }
        }
        for &(a, b, w) in edges {
            let dx = pos[a].0 - pos[b].0;
            let dy = pos[a].1 - pos[b].1;
            let d = (dx * dx + dy * dy).sqrt().max(1e-9);
            let f = d / k * (0.3 + 0.7 * w / max_w);
            disp[a].0 -= dx * f;
            disp[a].1 -= dy * f;
            disp[b].0 += dx * f;
            disp[b].1 += dy * f;
        }
        for i in 0..n {
            // Gravity keeps loosely tied members near the group.
            disp[i].0 -= pos[i].0 * 0.1 * k;
            disp[i].1 -= pos[i].1 * 0.1 * k;
            let len = (disp[i].0 * disp[i].0 + disp[i].1 * disp[i].1).sqrt().max(1e-9);
            let step = len.min(temp);
            pos[i].0 += disp[i].0 / len * step;
            pos[i].1 += disp[i].1 / len * step;
        }
        temp = (temp - cool).max(0.002);
    }
    let (mut min_x, mut max_x, mut min_y, mut max_y) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for p in &pos {
        min_x = min_x.min(p.0);
        max_x = max_x.max(p.0);
        min_y = min_y.min(p.1);
        max_y = max_y.max(p.1);
    }
    // One scale for both axes keeps the shape.
    let span = (max_x - min_x).max(max_y - min_y).max(1e-9);
    let (ox, oy) = ((span - (max_x - min_x)) / 2.0, (span - (max_y - min_y)) / 2.0);
    pos.iter().map(|p| ((p.0 - min_x + ox) / span, (p.1 - min_y + oy) / span)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_do_not_overlap_and_tied_nodes_end_closer() {
        // A path 0-1-2-3-4 in one group, a triangle in another.
        let groups = [0, 0, 0, 0, 0, 1, 1, 1];
        let edges =
            [(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 4, 1.0), (5, 6, 1.0), (6, 7, 1.0), (5, 7, 1.0)];
        let p = layout(&groups, &edges, 300);
        let d = |a: usize, b: usize| ((p[a].0 - p[b].0).powi(2) + (p[a].1 - p[b].1).powi(2)).sqrt();
        assert!(d(0, 1) < d(0, 4) / 2.0, "path ends {} apart, neighbours {}", d(0, 4), d(0, 1));
        let bbox = |g: usize| {
            let pts: Vec<_> = (0..groups.len()).filter(|i| groups[*i] == g).map(|i| p[i]).collect();
            let f = |sel: fn(&(f64, f64)) -> f64| {
                (pts.iter().map(sel).fold(f64::MAX, f64::min), pts.iter().map(sel).fold(f64::MIN, f64::max))
            };
            (f(|q| q.0), f(|q| q.1))
        };
        let (ax, ay) = bbox(0);
        let (bx, by) = bbox(1);
        let apart = ax.1 < bx.0 || bx.1 < ax.0 || ay.1 < by.0 || by.1 < ay.0;
        assert!(apart, "group boxes overlap: {ax:?} {ay:?} / {bx:?} {by:?}");
        assert!(p.iter().all(|q| (0.0..=1.0).contains(&q.0) && (0.0..=1.0).contains(&q.1)));
        assert_eq!(p, layout(&groups, &edges, 300), "deterministic");
    }
}
