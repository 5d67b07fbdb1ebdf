//! Inline SVG charts: no script and no external file, so the report opens offline and
//! prints. Every chart is an `<svg class="chart" data-chart=NAME data-marks=N>` where N
//! counts the data marks drawn (bars, points, nodes), which is what the browser test reads.

use std::fmt::Write as _;

use chrono::NaiveDate;

pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
    "#bab0ac",
];

/// Escapes text for HTML and SVG content and attributes: the XML escaper, whose
/// entities HTML5 reads too, and which drops the control characters both forbid.
pub use scrutineer_core::text::xml_escape as esc;

fn nice_max(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if v <= m * mag {
            return m * mag;
        }
    }
    10.0 * mag
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 10_000.0 {
        format!("{:.0}k", v / 1000.0)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Daily series as lines over a shared date axis, with an optional marked date (election day).
pub fn line_chart(
    name: &str,
    series: &[(String, Vec<(NaiveDate, f64)>)],
    mark: Option<(NaiveDate, &str)>,
) -> String {
    let (w, h, l, r, t, b) = (860.0, 300.0, 56.0, 170.0, 16.0, 36.0);
    let dates: Vec<NaiveDate> = series.iter().flat_map(|s| s.1.iter().map(|p| p.0)).collect();
    let (Some(d0), Some(d1)) = (dates.iter().min().copied(), dates.iter().max().copied()) else {
        return empty(name, "no data");
    };
    let span = ((d1 - d0).num_days().max(1)) as f64;
    let ymax = nice_max(series.iter().flat_map(|s| s.1.iter().map(|p| p.1)).fold(0.0, f64::max));
    let x = |d: NaiveDate| l + (w - l - r) * ((d - d0).num_days() as f64 / span);
    let y = |v: f64| t + (h - t - b) * (1.0 - v / ymax);
    let mut marks = 0;
    let mut s = String::new();
    let _ = write!(s, r#"<svg class="chart" data-chart="{}" viewBox="0 0 {w} {h}" role="img">"#, esc(name));
    for i in 0..=4 {
        let v = ymax * i as f64 / 4.0;
        let _ = write!(
            s,
            r##"<line x1="{l}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{}" y="{:.1}" text-anchor="end" class="tick">{}</text>"##,
            w - r,
            l - 6.0,
            y(v) + 4.0,
            fmt_num(v),
            y = y(v)
        );
    }
    let step = (span / 8.0).ceil().max(1.0) as i64;
    let mut d = d0;
    while d <= d1 {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{}" text-anchor="middle" class="tick">{}</text>"#,
            x(d),
            h - 12.0,
            d.format("%b %d")
        );
        d += chrono::Duration::days(step);
    }
    if let Some((md, label)) = mark
        && md >= d0
        && md <= d1
    {
        let _ = write!(
            s,
            r##"<line x1="{0:.1}" x2="{0:.1}" y1="{t}" y2="{1}" stroke="#888" stroke-dasharray="4 3"/><text x="{0:.1}" y="{2}" text-anchor="end" class="tick">{3}</text>"##,
            x(md),
            h - b,
            t + 10.0,
            esc(label)
        );
    }
    for (i, (label, pts)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let mut sorted = pts.clone();
        sorted.sort_by_key(|p| p.0);
        let path: Vec<String> = sorted.iter().map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1))).collect();
        let width = if i == 0 { 2.5 } else { 1.5 };
        let _ = write!(
            s,
            r#"<polyline class="mark" fill="none" stroke="{color}" stroke-width="{width}" points="{}"><title>{}</title></polyline>"#,
            path.join(" "),
            esc(label)
        );
        marks += 1;
        let ly = t + 14.0 + 18.0 * i as f64;
        let _ = write!(
            s,
            r#"<rect x="{}" y="{}" width="12" height="12" fill="{color}"/><text x="{}" y="{}" class="legend">{}</text>"#,
            w - r + 12.0,
            ly - 10.0,
            w - r + 30.0,
            ly,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s.replacen("<svg ", &format!(r#"<svg data-marks="{marks}" "#), 1)
}

/// Horizontal bars, one per row.
pub fn bar_chart(name: &str, rows: &[(String, f64)], color: &str) -> String {
    if rows.is_empty() {
        return empty(name, "no data");
    }
    let (w, l, r, bar_h) = (860.0, 230.0, 70.0, 22.0);
    let h = 10.0 + bar_h * rows.len() as f64 + 10.0;
    let max = rows.iter().map(|r| r.1).fold(0.0, f64::max).max(1e-9);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" data-chart="{}" data-marks="{}" viewBox="0 0 {w} {h}" role="img">"#,
        esc(name),
        rows.len()
    );
    for (i, (label, v)) in rows.iter().enumerate() {
        let y = 10.0 + bar_h * i as f64;
        let bw = (w - l - r) * v / max;
        let _ = write!(
            s,
            r#"<text x="{}" y="{:.1}" text-anchor="end" class="label">{}</text><rect class="mark" x="{l}" y="{:.1}" width="{bw:.1}" height="{}" fill="{color}"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" class="tick">{}</text>"#,
            l - 8.0,
            y + bar_h * 0.68,
            esc(label),
            y + 3.0,
            bar_h - 6.0,
            esc(label),
            fmt_num(*v),
            l + bw + 6.0,
            y + bar_h * 0.68,
            fmt_num(*v)
        );
    }
    s.push_str("</svg>");
    s
}

/// Horizontal stacked bars: one row per category, one segment per part.
pub fn stacked_bars(name: &str, parts: &[&str], rows: &[(String, Vec<f64>)]) -> String {
    if rows.is_empty() {
        return empty(name, "no data");
    }
    let colors = ["#59a14f", "#e15759", "#bab0ac", "#4e79a7", "#f28e2b"];
    let (w, l, r, bar_h) = (860.0, 170.0, 20.0, 20.0);
    let h = 34.0 + bar_h * rows.len() as f64 + 10.0;
    let max = rows.iter().map(|r| r.1.iter().sum::<f64>()).fold(0.0, f64::max).max(1e-9);
    let mut s = String::new();
    let mut marks = 0;
    let mut body = String::new();
    for (i, p) in parts.iter().enumerate() {
        let _ = write!(
            body,
            r#"<rect x="{}" y="6" width="12" height="12" fill="{}"/><text x="{}" y="16" class="legend">{}</text>"#,
            l + 130.0 * i as f64,
            colors[i % colors.len()],
            l + 130.0 * i as f64 + 18.0,
            esc(p)
        );
    }
    for (i, (label, vals)) in rows.iter().enumerate() {
        let y = 30.0 + bar_h * i as f64;
        let _ = write!(
            body,
            r#"<text x="{}" y="{:.1}" text-anchor="end" class="label">{}</text>"#,
            l - 8.0,
            y + bar_h * 0.68,
            esc(label)
        );
        let mut x = l;
        for (j, v) in vals.iter().enumerate() {
            let bw = (w - l - r) * v / max;
            if bw > 0.0 {
                let _ = write!(
                    body,
                    r#"<rect class="mark" x="{x:.1}" y="{:.1}" width="{bw:.1}" height="{}" fill="{}"><title>{}: {} {}</title></rect>"#,
                    y + 2.0,
                    bar_h - 4.0,
                    colors[j % colors.len()],
                    esc(label),
                    fmt_num(*v),
                    esc(parts.get(j).copied().unwrap_or(""))
                );
                marks += 1;
            }
            x += bw;
        }
    }
    let _ = write!(
        s,
        r#"<svg class="chart" data-chart="{}" data-marks="{marks}" viewBox="0 0 {w} {h}" role="img">"#,
        esc(name)
    );
    s.push_str(&body);
    s.push_str("</svg>");
    s
}

pub struct NetNode {
    pub label: String,
    pub group: usize,
    pub group_name: String,
    pub size: f64,
}

/// The coordination network: nodes coloured by detected network, edges by weight.
pub fn network(name: &str, nodes: &[NetNode], edges: &[(usize, usize, f64, String)]) -> String {
    if nodes.is_empty() {
        return empty(name, "no networks");
    }
    let (w, h, pad) = (860.0, 560.0, 24.0);
    let groups: Vec<usize> = nodes.iter().map(|n| n.group).collect();
    let plain: Vec<(usize, usize, f64)> = edges.iter().map(|e| (e.0, e.1, e.2)).collect();
    let iterations = if nodes.len() > 250 { 150 } else { 300 };
    let pos = crate::layout::layout(&groups, &plain, iterations);
    let px = |i: usize| (pad + (w - 2.0 * pad) * pos[i].0, pad + (h - 2.0 * pad) * pos[i].1);
    let max_w = edges.iter().map(|e| e.2).fold(1.0_f64, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart network" data-chart="{}" data-marks="{}" viewBox="0 0 {w} {h}" role="img">"#,
        esc(name),
        nodes.len()
    );
    s.push_str(r#"<g class="edges">"#);
    for (a, b, wt, title) in edges {
        let (x1, y1) = px(*a);
        let (x2, y2) = px(*b);
        let _ = write!(
            s,
            r##"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="#999" stroke-opacity="{:.2}" stroke-width="{:.2}" data-group="{}"><title>{}</title></line>"##,
            0.25 + 0.5 * wt / max_w,
            0.5 + 2.0 * wt / max_w,
            nodes[*a].group,
            esc(title)
        );
    }
    s.push_str("</g><g class=\"nodes\">");
    for (i, n) in nodes.iter().enumerate() {
        let (x, y) = px(i);
        let _ = write!(
            s,
            r##"<circle class="mark node" cx="{x:.1}" cy="{y:.1}" r="{:.1}" fill="{}" stroke="#fff" stroke-width="0.8" data-group="{}"><title>{} ({})</title></circle>"##,
            3.0 + 5.0 * n.size.clamp(0.0, 1.0),
            PALETTE[n.group % PALETTE.len()],
            n.group,
            esc(&n.label),
            esc(&n.group_name)
        );
    }
    s.push_str("</g></svg>");
    s
}

fn empty(name: &str, why: &str) -> String {
    format!(
        r#"<svg class="chart empty" data-chart="{}" data-marks="0" viewBox="0 0 860 60" role="img"><text x="430" y="35" text-anchor="middle" class="tick">{}</text></svg>"#,
        esc(name),
        esc(why)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_count_their_marks_and_escape_labels() {
        let s = bar_chart("b", &[("<x>".into(), 3.0), ("y".into(), 1.0)], "#000");
        assert!(s.contains(r#"data-marks="2""#));
        assert!(s.contains("&lt;x&gt;") && !s.contains("<x>"));
        let d = |n| NaiveDate::from_ymd_opt(2020, 10, n).expect("date");
        let l = line_chart("l", &[("all".into(), vec![(d(1), 1.0), (d(2), 5.0)])], Some((d(2), "day")));
        assert!(l.contains(r#"data-marks="1""#), "{l}");
        assert!(bar_chart("e", &[], "#000").contains(r#"data-marks="0""#));
    }
}
