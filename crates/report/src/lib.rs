//! Self-contained HTML report of what the engines found: one file, inline CSS, SVG and a
//! little script, no network access, so it can be mailed to a partner or opened on an
//! air-gapped laptop.
//!
//! Brief overview: [`read_store`] reads a store's findings and the latest run of each
//! engine, its typed summary ([`LatestRuns`]) carrying what the charts need (the
//! influence graph, the infra trend, the ballot totals, the audit status); a
//! [`ReportInput`] adds the title and, after a demo, the exercise's score; [`render`]
//! turns it into the page, and [`render_page`] with [`RenderOptions`] into the live
//! dashboard's page (a reload, the place of the signed-in banner, the inline scripts a
//! content security policy must allow). `scrutineer report` and the server's dashboard
//! both go through [`read_store`], so both fail the same way on a summary this build
//! cannot read.

#![deny(missing_docs)]

mod input;
mod layout;
mod svg;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use scrutineer_core::{Engine, Finding, Severity};
use scrutineer_simulate::score::ExerciseScore;

pub use crate::input::{InputError, LatestRuns, StoreContents, read_store};
use crate::svg::{NetNode, esc};

/// What a report shows.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// The title at the top of the page.
    pub title: String,
    /// When the report was made (shown in the header).
    pub generated_at: DateTime<Utc>,
    /// The store's name, as shown in the header.
    pub store: String,
    /// The findings to list.
    pub findings: Vec<Finding>,
    /// The latest run of each engine.
    pub runs: LatestRuns,
    /// The demo's score against its ground truth, when the report follows a demo.
    pub exercise: Option<ExerciseScore>,
}

/// How the page is rendered: as a file (the default) or as the server's live dashboard.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Reload the page every this many seconds (the live dashboard).
    pub refresh_seconds: Option<u32>,
}

/// A rendered page, with the place where a live page puts its banner.
#[derive(Debug, Clone)]
pub struct Page {
    html: String,
    banner_at: usize,
}

impl Page {
    /// The whole page.
    pub fn html(&self) -> &str {
        &self.html
    }

    /// The page up to where a banner goes (right after the header).
    pub fn before_banner(&self) -> &str {
        &self.html[..self.banner_at]
    }

    /// The page after the banner's place.
    pub fn after_banner(&self) -> &str {
        &self.html[self.banner_at..]
    }

    /// The bodies of the page's inline scripts, for a content security policy that
    /// allows them by hash and nothing else.
    pub fn inline_scripts(&self) -> &'static [&'static str] {
        &[SCRIPT]
    }

    /// The page as an owned string.
    pub fn into_html(self) -> String {
        self.html
    }
}

/// The banner of the live dashboard: who is signed in (`name`, escaped here) with what
/// `role`, that the page reloads, and where the JSON API is.
pub fn live_banner(name: &str, role: &str) -> String {
    format!(
        r#"<p style="margin:0;padding:4px 32px;background:#2e3b5e;color:#fff;font-size:13px">Live from the store · signed in as {} ({}) · reloads every minute · JSON: <a style="color:#cde" href="/api/findings">/api/findings</a></p>"#,
        esc(name),
        esc(role)
    )
}

const STYLE: &str = r#"
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#f6f7f9}
header{background:#1f2a44;color:#fff;padding:18px 32px}header h1{margin:0;font-size:24px}header p{margin:4px 0 0;opacity:.8}
nav{background:#fff;border-bottom:1px solid #ddd;padding:8px 32px;position:sticky;top:0;z-index:2}nav a{margin-right:18px;color:#1f2a44;text-decoration:none;font-weight:600}
main{max-width:1000px;margin:0 auto;padding:8px 24px 48px}
section{background:#fff;border:1px solid #e2e4e8;border-radius:8px;padding:16px 22px;margin:18px 0}
h2{margin:4px 0 10px;font-size:20px}h3{font-size:16px;margin:16px 0 6px}
table{border-collapse:collapse;width:100%;font-size:13.5px}th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #eee;vertical-align:top}th{background:#fafafa}
.sev{display:inline-block;padding:1px 7px;border-radius:9px;font-size:12px;color:#fff}
.sev-critical{background:#b3261e}.sev-high{background:#e8710a}.sev-medium{background:#c9a400}.sev-low{background:#4e79a7}.sev-info{background:#888}
.chart{width:100%;height:auto;display:block;margin:6px 0}.chart text{font-size:11px;fill:#333}.chart .label{font-size:12px}.chart .legend{font-size:12px}
.network .node{cursor:pointer}.network.focus .node{opacity:.15}.network.focus .node.on{opacity:1}.network.focus line{opacity:.05}.network.focus line.on{opacity:.9}
.legend-list span{display:inline-block;margin:2px 10px 2px 0;cursor:pointer;font-size:13px}.legend-list i{display:inline-block;width:11px;height:11px;border-radius:6px;margin-right:4px;vertical-align:-1px}
.ok{color:#2e7d32;font-weight:600}.bad{color:#b3261e;font-weight:600}.muted{color:#777}
details summary{cursor:pointer}pre{white-space:pre-wrap;font-size:12px;background:#f6f6f6;padding:8px;border-radius:4px;max-height:260px;overflow:auto}
input[type=search]{width:100%;padding:7px;font-size:14px;border:1px solid #ccc;border-radius:5px;margin:6px 0}
.kpis{display:flex;flex-wrap:wrap;gap:10px}.kpi{flex:1 1 150px;background:#f3f5f9;border-radius:6px;padding:10px}.kpi b{display:block;font-size:22px}
"#;

// Legend clicks focus one network in the drawing; typing filters the findings table.
const SCRIPT: &str = r#"
(function () {
  document.querySelectorAll('.legend-list span[data-group]').forEach(function (item) {
    item.addEventListener('click', function () {
      var svg = document.querySelector('svg.network');
      if (!svg) { return; }
      var g = item.getAttribute('data-group');
      var already = svg.classList.contains('focus') && svg.getAttribute('data-focus') === g;
      svg.querySelectorAll('.on').forEach(function (el) { el.classList.remove('on'); });
      if (already) { svg.classList.remove('focus'); svg.removeAttribute('data-focus'); return; }
      svg.classList.add('focus');
      svg.setAttribute('data-focus', g);
      svg.querySelectorAll('[data-group="' + g + '"]').forEach(function (el) { el.classList.add('on'); });
    });
  });
  var box = document.getElementById('finding-filter');
  if (box) {
    box.addEventListener('input', function () {
      var q = box.value.toLowerCase();
      var shown = 0;
      document.querySelectorAll('#findings tbody tr').forEach(function (tr) {
        var hit = tr.textContent.toLowerCase().indexOf(q) >= 0;
        tr.style.display = hit ? '' : 'none';
        if (hit) { shown += 1; }
      });
      document.getElementById('finding-count').textContent = shown;
    });
  }
  document.body.setAttribute('data-ready', 'yes');
})();
"#;

fn sev_badge(s: Severity) -> String {
    format!(r#"<span class="sev sev-{0}">{0}</span>"#, s.as_str())
}

/// Renders the whole report as a file.
pub fn render(input: &ReportInput) -> String {
    render_page(input, &RenderOptions::default()).into_html()
}

/// Renders the whole report with `options`.
pub fn render_page(input: &ReportInput, options: &RenderOptions) -> Page {
    let mut h = String::with_capacity(1 << 20);
    h.push_str("<!DOCTYPE html><html lang=\"en\"><head>");
    if let Some(seconds) = options.refresh_seconds {
        let _ = write!(h, r#"<meta http-equiv="refresh" content="{seconds}">"#);
    }
    let _ = write!(
        h,
        r#"<meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{STYLE}</style></head><body>"#,
        esc(&input.title)
    );
    let _ = write!(
        h,
        r#"<header><h1>{}</h1><p>Generated {} from the store {} · {} findings</p></header>"#,
        esc(&input.title),
        input.generated_at.format("%Y-%m-%d %H:%M UTC"),
        esc(&input.store),
        input.findings.len()
    );
    let banner_at = h.len();
    h.push_str(r##"<nav><a href="#overview">Overview</a><a href="#influence">Influence</a><a href="#infra">Infrastructure</a><a href="#ballots">Ballots</a><a href="#audit">Audit</a><a href="#mail">Leaked mail</a><a href="#all-findings">All findings</a></nav><main>"##);
    overview(&mut h, input);
    influence(&mut h, input);
    infra(&mut h, input);
    ballots(&mut h, input);
    audit(&mut h, input);
    mail(&mut h, input);
    all_findings(&mut h, input);
    let _ = write!(
        h,
        r#"<p class="muted">Scrutineer {} · findings carry DISARM (influence) and MITRE ATT&amp;CK (infrastructure) technique ids; export them with <code>scrutineer infra export --stix</code>.</p></main><script>{SCRIPT}</script></body></html>"#,
        env!("CARGO_PKG_VERSION")
    );
    Page { html: h, banner_at }
}

fn overview(h: &mut String, input: &ReportInput) {
    h.push_str(r#"<section id="overview"><h2>Overview</h2><div class="kpis">"#);
    for e in Engine::ALL {
        let n = input.findings.iter().filter(|f| f.engine == e).count();
        let top = input.findings.iter().filter(|f| f.engine == e).map(|f| f.severity).max();
        let _ = write!(
            h,
            r#"<div class="kpi">{}<b>{n}</b>findings{}</div>"#,
            esc(e.as_str()),
            top.map(|s| format!(" · worst {}", sev_badge(s))).unwrap_or_default()
        );
    }
    h.push_str("</div>");
    let mut rows = Vec::new();
    for e in Engine::ALL {
        for s in Severity::ALL.iter().rev() {
            let n = input.findings.iter().filter(|f| f.engine == e && f.severity == *s).count();
            if n > 0 {
                rows.push((format!("{} · {}", e.as_str(), s.as_str()), n as f64));
            }
        }
    }
    h.push_str("<h3>Findings by engine and severity</h3>");
    h.push_str(&svg::bar_chart("findings-by-severity", &rows, "#4e79a7"));
    if let Some(x) = &input.exercise {
        exercise(h, x);
    }
    h.push_str("</section>");
}

fn exercise(h: &mut String, x: &ExerciseScore) {
    h.push_str("<h3>Exercise: injected versus found</h3><table><tr><th>engine</th><th>injected</th><th>found</th><th>false alarms</th></tr>");
    let (injected, found) = x.operation_accounts();
    let _ = write!(
        h,
        "<tr><td>influence</td><td>{} operations, {injected} accounts</td><td>{found} accounts in detected networks</td><td>{} of {} organic accounts</td></tr>",
        x.operations.len(),
        x.organic_in_networks,
        x.organic_accounts
    );
    let _ = write!(
        h,
        "<tr><td>infrastructure</td><td>1 campaign ({} addresses, {} offices), ramping up</td><td>campaign {} ({} addresses, {} offices); ramp-up {}</td><td>{} innocent addresses</td></tr>",
        x.campaign_sources,
        x.campaign_offices.len(),
        yes(x.campaign_found),
        x.campaign_sources_found,
        x.campaign_offices_found.len(),
        yes(x.ramp_up_found),
        x.innocent_sources_flagged
    );
    let (bi, bf) = x.ballot_items();
    let _ = write!(
        h,
        "<tr><td>ballots</td><td>{bi} items of {} kinds</td><td>{bf}</td><td>{} findings</td></tr>",
        x.ballots_injected.len(),
        x.ballots_false
    );
    let leak = &x.leak;
    let (li, lf) = leak.injected();
    let authentic = leak.kind(scrutineer_simulate::mail::MessageKind::Authentic);
    let _ = write!(
        h,
        "<tr><td>leaked mail</td><td>{li} altered, forged or unsigned messages; a network of {} accounts amplifying the dump</td><td>{lf} flagged ({} forgeries grouped with the genuine message named); {} network accounts placed</td><td>{} of {} authentic messages; {} of {} ordinary spreaders</td></tr>",
        leak.amplifiers,
        leak.forgeries_grouped,
        leak.amplifiers_in_network,
        authentic.map_or(0, |a| a.flagged),
        authentic.map_or(0, |a| a.messages),
        leak.ordinary_in_network,
        leak.ordinary_spreaders
    );
    for a in &x.audit {
        let decision = if a.decision == "stop" { "outcome confirmed".to_owned() } else { esc(&a.decision) };
        let _ = write!(
            h,
            "<tr><td>audit</td><td>{}</td><td>{} after {} ballots</td><td></td></tr>",
            esc(&a.contest),
            decision,
            a.confirmed_after.unwrap_or(a.ballots_examined)
        );
    }
    for c in &x.comparison {
        let decision = if c.decision == "stop" { "outcome confirmed".to_owned() } else { esc(&c.decision) };
        let _ = write!(
            h,
            "<tr><td>comparison audit</td><td>{}</td><td>{} after {} cards compared with their CVRs</td><td>overstatements: {} two-vote, {} one-vote</td></tr>",
            esc(&c.contest),
            decision,
            c.confirmed_after.unwrap_or(c.cards_examined),
            c.o2,
            c.o1
        );
    }
    h.push_str("</table>");
}

fn yes(b: bool) -> &'static str {
    if b { r#"<span class="ok">found</span>"# } else { r#"<span class="bad">missed</span>"# }
}

fn no_run(h: &mut String, engine: &str, cmd: &str) {
    let _ = write!(
        h,
        r#"<p class="muted">No {engine} run in this store yet. Run <code>{}</code>.</p></section>"#,
        esc(cmd)
    );
}

fn findings_table(h: &mut String, findings: &[&Finding], limit: usize) {
    if findings.is_empty() {
        h.push_str(r#"<p class="muted">No findings.</p>"#);
        return;
    }
    h.push_str("<table><tr><th>severity</th><th>finding</th><th>techniques</th><th>confidence</th></tr>");
    for f in findings.iter().take(limit) {
        let tech: Vec<String> = f.techniques.iter().map(|t| esc(&t.id)).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td></tr>",
            sev_badge(f.severity),
            esc(&f.title),
            tech.join(", "),
            f.confidence
        );
    }
    h.push_str("</table>");
    if findings.len() > limit {
        let _ =
            write!(h, r#"<p class="muted">and {} more in All findings below.</p>"#, findings.len() - limit);
    }
}

fn sorted_findings(input: &ReportInput, engine: Engine) -> Vec<&Finding> {
    let mut v: Vec<&Finding> = input.findings.iter().filter(|f| f.engine == engine).collect();
    v.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(b.confidence.total_cmp(&a.confidence)).then(a.title.cmp(&b.title))
    });
    v
}

fn influence(h: &mut String, input: &ReportInput) {
    h.push_str(r#"<section id="influence"><h2>Information operations</h2>"#);
    let Some(s) = &input.runs.influence else {
        return no_run(h, "influence", "scrutineer influence scan FILE --format auto");
    };
    let _ = write!(
        h,
        "<p>{} posts by {} accounts; {} coordinated networks holding {} accounts.</p>",
        s.posts, s.accounts, s.networks, s.accounts_in_networks
    );
    let g = &s.graph;
    let mut groups: Vec<String> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut nodes = Vec::new();
    for n in &g.nodes {
        let gi = match groups.iter().position(|x| *x == n.network) {
            Some(i) => i,
            None => {
                groups.push(n.network.clone());
                groups.len() - 1
            }
        };
        index.insert(n.id.as_str(), nodes.len());
        nodes.push(NetNode {
            label: n.label.clone(),
            group: gi,
            group_name: n.network.clone(),
            size: n.score,
        });
    }
    let mut edges = Vec::new();
    for e in &g.edges {
        let (Some(a), Some(b)) = (index.get(e.a.as_str()), index.get(e.b.as_str())) else {
            continue;
        };
        let what: Vec<String> = e.behaviours.iter().map(|(k, v)| format!("{k} {v}")).collect();
        edges.push((*a, *b, e.weight, what.join(", ")));
    }
    let _ = write!(
        h,
        "<h3>The networks drawn</h3><p class=\"muted\">Each dot is an account, coloured by detected network (size: its share of the network's ties); lines are significant shared behaviour. {} of {} networks shown. Click a network below to focus it.</p>",
        g.networks_shown, g.networks_total
    );
    h.push_str(&svg::network("influence-network", &nodes, &edges));
    h.push_str(r#"<div class="legend-list">"#);
    for (i, name) in groups.iter().enumerate() {
        let count = nodes.iter().filter(|n| n.group == i).count();
        let _ = write!(
            h,
            r#"<span data-group="{i}"><i style="background:{}"></i>{} ({count})</span>"#,
            svg::PALETTE[i % svg::PALETTE.len()],
            esc(name)
        );
    }
    h.push_str("</div>");
    influence_behaviours(h, &s.behaviours);
    influence_leadership(h, s.leadership.as_deref());
    influence_spread(h, s.spread.as_ref());
    h.push_str("<h3>Ranked networks</h3>");
    findings_table(h, &sorted_findings(input, Engine::Influence), 15);
    h.push_str("</section>");
}

/// Who led in each network: the members that acted first, how consistently, and the
/// ties within seconds.
fn influence_leadership(h: &mut String, leadership: Option<&[scrutineer_influence::NetworkLeadSummary]>) {
    let Some(networks) = leadership else {
        h.push_str("<h3>Who led</h3><p class=\"muted\">This run was recorded before scrutineer measured who led; scan again to see it.</p>");
        return;
    };
    if networks.is_empty() {
        return;
    }
    h.push_str("<h3>Who led</h3><p class=\"muted\">On the items members shared within the window: which acted first (leader score 1 always first, −1 always after; a leader leans that way with a sign test p ≤ 0.01), the median gap between tied members, and the fast sub-network of ties whose median gap is within seconds.</p>");
    h.push_str("<table><tr><th>network</th><th>items compared</th><th>median gap</th><th>leaders</th><th>fast sub-network</th><th>first to act (score, led/followed/tied, p)</th></tr>");
    for n in networks {
        let top: Vec<String> = n
            .top
            .iter()
            .filter(|m| m.leader_score > 0.0)
            .take(3)
            .map(|m| {
                format!(
                    "{} ({:+.2}, {}/{}/{}, p={:.1e}{})",
                    esc(&m.account),
                    m.leader_score,
                    m.led,
                    m.followed,
                    m.tied,
                    m.sign_test_p,
                    if m.role == "leader" { ", leader" } else { "" }
                )
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} accounts, {} ties (≤ {} s)</td><td>{}</td></tr>",
            esc(&n.network),
            n.compared_items,
            n.median_lag_secs.map(duration).unwrap_or_else(|| "–".into()),
            n.leaders,
            n.fast_accounts,
            n.fast_edges,
            n.fast_threshold_secs,
            if top.is_empty() { "none ahead".to_owned() } else { top.join("; ") }
        );
    }
    h.push_str("</table>");
}

/// A duration in seconds, readably.
fn duration(secs: f64) -> String {
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 7200.0 {
        format!("{:.0} min", secs / 60.0)
    } else {
        format!("{:.1} h", secs / 3600.0)
    }
}

/// Links and texts seen on several platforms, in the order the platforms were reached.
fn influence_spread(h: &mut String, spread: Option<&scrutineer_influence::SpreadSummary>) {
    let Some(s) = spread else {
        return;
    };
    if s.cross_platform_items == 0 {
        return;
    }
    let _ = write!(
        h,
        "<h3>Across platforms</h3><p>{} links and texts appeared on several platforms.</p>",
        s.cross_platform_items
    );
    h.push_str("<table><tr><th>order the platforms were reached</th><th>items</th></tr>");
    for o in s.orders.iter().take(8) {
        let _ = write!(h, "<tr><td>{}</td><td>{}</td></tr>", esc(&o.order.join(" → ")), o.items);
    }
    h.push_str("</table>");
    if !s.networks.is_empty() {
        h.push_str("<table><tr><th>network</th><th>items carried across platforms</th><th>most common order</th></tr>");
        for n in &s.networks {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{} ({} items)</td></tr>",
                esc(&n.network),
                n.items,
                esc(&n.order.join(" → ")),
                n.order_items
            );
        }
        h.push_str("</table>");
    }
    h.push_str("<table><tr><th>item</th><th>networks</th><th>reached (first account, time)</th></tr>");
    for i in &s.items {
        let reached: Vec<String> = i
            .reached
            .iter()
            .map(|r| {
                format!(
                    "{}: {} at {} (+{})",
                    esc(&r.platform),
                    esc(&r.first_account),
                    r.first.format("%Y-%m-%d %H:%M"),
                    duration(r.after_secs as f64)
                )
            })
            .collect();
        let _ = write!(
            h,
            "<tr><td>{} <span class=\"muted\">({})</span></td><td>{}</td><td>{}</td></tr>",
            esc(&i.item),
            esc(&i.behaviour),
            esc(&i.networks.join(", ")),
            reached.join("<br>")
        );
    }
    h.push_str("</table>");
}

fn influence_behaviours(h: &mut String, behaviours: &[scrutineer_influence::BehaviourSummary]) {
    if behaviours.is_empty() {
        return;
    }
    let kept: Vec<(String, f64)> =
        behaviours.iter().map(|b| (b.behaviour.as_str().to_owned(), b.stats.kept_pairs as f64)).collect();
    h.push_str("<h3>Pairs of accounts tied, per behaviour, after the chance filter</h3>");
    h.push_str(&svg::bar_chart("influence-behaviours", &kept, "#f28e2b"));
    h.push_str("<table><tr><th>behaviour</th><th>actions</th><th>candidate pairs</th><th>below minimum count</th><th>explained by chance</th><th>kept</th></tr>");
    for b in behaviours {
        let st = &b.stats;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(b.behaviour.as_str()),
            st.actions,
            st.candidate_pairs,
            st.below_min_count,
            st.explained_by_chance,
            st.kept_pairs
        );
    }
    h.push_str("</table>");
}

fn infra(h: &mut String, input: &ReportInput) {
    h.push_str(r#"<section id="infra"><h2>Attacks on election infrastructure</h2>"#);
    let Some(s) = &input.runs.infra else {
        return no_run(h, "infrastructure", "scrutineer infra scan LOG... --out DIR");
    };
    let t = &s.totals;
    let _ = write!(
        h,
        "<p>{} log records: {} attack, {} anomalous, {} normal; {} malformed.</p>",
        t.records, t.attack, t.anomaly, t.normal, t.malformed
    );
    infra_trend(h, &s.trend);
    infra_campaigns(h, &s.campaigns);
    h.push_str("<h3>Findings</h3>");
    findings_table(h, &sorted_findings(input, Engine::Infra), 15);
    h.push_str("</section>");
}

fn infra_trend(h: &mut String, trend: &[scrutineer_infra::TrendSeries]) {
    let mut series: Vec<(String, Vec<(chrono::NaiveDate, f64)>)> = Vec::new();
    let mut tests = Vec::new();
    for row in trend {
        let name = &row.jurisdiction;
        let label = if name == "*" || name.is_empty() { "all offices".to_owned() } else { name.clone() };
        if let Some(test) = &row.test {
            tests.push((label.clone(), test));
        }
        series.push((label, row.daily.iter().map(|(d, n)| (*d, *n as f64)).collect()));
    }
    // The overall series first (drawn thickest), then offices by volume.
    series.sort_by(|a, b| {
        let all = |n: &str| n == "all offices";
        all(&b.0)
            .cmp(&all(&a.0))
            .then(b.1.iter().map(|p| p.1).sum::<f64>().total_cmp(&a.1.iter().map(|p| p.1).sum::<f64>()))
    });
    series.truncate(8);
    h.push_str("<h3>Hostile events per day</h3>");
    h.push_str(&svg::line_chart("infra-trend", &series, None));
    if tests.is_empty() {
        return;
    }
    h.push_str(
        "<table><tr><th>series</th><th>recent weeks vs earlier</th><th>p-value</th><th>ramp-up</th></tr>",
    );
    for (name, t) in &tests {
        let p = t.p_value;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(name),
            t.ratio.map_or("–".into(), |r| format!("{r:.1}×")),
            if p < 1e-300 { "< 1e-300".to_owned() } else { format!("{p:.2e}") },
            if t.ramp_up { r#"<span class="bad">yes</span>"# } else { "no" }
        );
    }
    h.push_str("</table>");
}

fn infra_campaigns(h: &mut String, campaigns: &[scrutineer_infra::Campaign]) {
    if campaigns.is_empty() {
        return;
    }
    h.push_str("<h3>Campaigns</h3><table><tr><th>score</th><th>offices</th><th>sources</th><th>events</th><th>techniques</th><th>linked by</th></tr>");
    let list = |v: &[String]| {
        let items: Vec<String> = v.iter().map(|x| esc(x)).collect();
        if items.len() > 6 {
            format!("{}, and {} more", items[..6].join(", "), items.len() - 6)
        } else {
            items.join(", ")
        }
    };
    for c in campaigns.iter().take(10) {
        let _ = write!(
            h,
            "<tr><td>{:.2}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            c.score,
            list(&c.jurisdictions),
            list(&c.sources),
            c.events,
            list(&c.techniques),
            list(&c.links)
        );
    }
    h.push_str("</table>");
}

fn ballots(h: &mut String, input: &ReportInput) {
    h.push_str(r#"<section id="ballots"><h2>Mail-ballot reconciliation</h2>"#);
    let Some(s) = &input.runs.ballots else {
        return no_run(
            h,
            "ballot",
            "scrutineer ballots reconcile --roll R --issued I --returns T --deadline D --out DIR",
        );
    };
    let o = &s.overall;
    let _ = write!(
        h,
        r#"<div class="kpis"><div class="kpi">issued<b>{}</b></div><div class="kpi">returned<b>{}</b></div><div class="kpi">accepted<b>{}</b></div><div class="kpi">rejected<b>{}</b></div><div class="kpi">outstanding<b>{}</b></div></div><p>Issued = returned + outstanding over {} precincts; ledger head {}.</p>"#,
        o.issued,
        o.returned,
        o.accepted,
        o.rejected,
        o.outstanding,
        s.precincts_total,
        s.ledger.as_ref().map_or("not written".to_owned(), |l| format!(
            "<code>{}</code> (size {})",
            esc(&l.root_hash),
            l.tree_size
        ))
    );
    let kinds: Vec<(String, f64)> = s.by_kind.iter().map(|(k, v)| (k.clone(), *v as f64)).collect();
    h.push_str("<h3>Rule findings by kind</h3>");
    h.push_str(&svg::bar_chart("ballot-findings", &kinds, "#e15759"));
    let rows: Vec<(String, Vec<f64>)> = s
        .largest_precincts
        .iter()
        .take(25)
        .map(|p| {
            let (acc, rej, ret) = (p.accepted as f64, p.rejected as f64, p.returned as f64);
            (p.precinct.clone(), vec![acc, rej, (ret - acc - rej).max(0.0), p.outstanding as f64])
        })
        .collect();
    h.push_str("<h3>Largest precincts: what happened to the envelopes issued</h3>");
    h.push_str(&svg::stacked_bars(
        "ballot-totals",
        &["accepted", "rejected", "pending", "outstanding"],
        &rows,
    ));
    h.push_str("<h3>Findings</h3>");
    findings_table(h, &sorted_findings(input, Engine::Ballots), 15);
    h.push_str("</section>");
}

fn audit(h: &mut String, input: &ReportInput) {
    h.push_str(r#"<section id="audit"><h2>Risk-limiting audit</h2>"#);
    let Some(s) = &input.runs.audit else {
        return no_run(h, "audit", "scrutineer audit status --audit FILE --store-findings");
    };
    if s.status.is_empty() {
        let _ = write!(h, "<p>{} contests audited.</p>", s.contests);
    } else {
        h.push_str("<table><tr><th>contest</th><th>reported winner</th><th>ballots examined</th><th>measured risk</th><th>limit</th><th>decision</th></tr>");
        let mut bars = Vec::new();
        for c in &s.status {
            let shown = match c.decision {
                scrutineer_audit::AuditDecision::Stop => {
                    r#"<span class="ok">outcome confirmed</span>"#.to_owned()
                }
                scrutineer_audit::AuditDecision::FullHandCount => format!(
                    r#"<span class="bad">full hand count: {}</span>"#,
                    esc(&c.sample_leaders.join(", "))
                ),
                d => esc(d.as_str()),
            };
            // The limit as JSON writes numbers (0.05, 1.0), as the page always showed it.
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.4}</td><td>{}</td><td>{shown}</td></tr>",
                esc(&c.contest),
                esc(&c.reported_winners.join(", ")),
                c.ballots_examined,
                c.measured_risk,
                serde_json::Value::from(c.risk_limit)
            );
            bars.push((c.contest.clone(), c.ballots_examined as f64));
        }
        h.push_str("</table><h3>Ballots examined per contest</h3>");
        h.push_str(&svg::bar_chart("audit-ballots", &bars, "#76b7b2"));
    }
    h.push_str("<h3>Findings</h3>");
    findings_table(h, &sorted_findings(input, Engine::Audit), 15);
    h.push_str("</section>");
}

/// Finding kinds of `mail sightings`: who spreads a dump.
const SPREAD_KINDS: [&str; 4] =
    ["dump_spread_network", "dump_sighted_before_release", "altered_message_spread", "dump_sightings"];

fn mail(h: &mut String, input: &ReportInput) {
    h.push_str(r#"<section id="mail"><h2>Hack-and-leak dumps</h2>"#);
    let Some(s) = &input.runs.mail else {
        return no_run(h, "mail", "scrutineer mail verify DUMP --keys ARCHIVE --out DIR");
    };
    let c = &s.verdicts;
    let altered = c.body_altered + c.headers_altered;
    let suspect = c.unsigned_header_changed + c.expired;
    let _ = write!(
        h,
        r#"<div class="kpis"><div class="kpi">messages<b>{}</b></div><div class="kpi">authentic<b>{}</b></div><div class="kpi">altered<b>{altered}</b></div><div class="kpi">suspect<b>{suspect}</b></div><div class="kpi">unsigned<b>{}</b></div><div class="kpi">forged variants<b>{}</b></div></div><p>{} messages in {} files ({} unreadable), {} signatures checked against {} archived keys; altered = body or signed headers changed after signing, suspect = a trusted header outside the signature or a date outside the key's window.</p>"#,
        s.read.messages - s.read.unreadable,
        c.authentic,
        c.unsigned,
        s.variant_groups.len(),
        s.read.messages,
        s.read.files,
        s.read.unreadable,
        s.signatures,
        s.keys
    );
    let rows: Vec<(String, f64)> = scrutineer_mail::Verdict::ALL
        .iter()
        .map(|v| (v.as_str().to_owned(), c.get(*v) as f64))
        .filter(|(_, n)| *n > 0.0)
        .collect();
    h.push_str("<h3>Messages by verdict (their best signature's)</h3>");
    h.push_str(&svg::bar_chart("mail-verdicts", &rows, "#59a14f"));
    match &s.arc {
        Some(a) if a.chains > 0 => {
            let _ = write!(
                h,
                "<p>ARC chains: {} messages carry them; {} pass, {} fail, {} name a key the archive lacks.</p>",
                a.chains, a.pass, a.fail, a.key_unknown
            );
        }
        Some(_) => h.push_str("<p class=\"muted\">No message carries an ARC chain.</p>"),
        None => h.push_str(
            "<p class=\"muted\">ARC chains were not counted by this run (a summary of version 1).</p>",
        ),
    }
    if !s.variant_groups.is_empty() {
        h.push_str("<h3>Forged variants: one Message-ID, different content</h3><table><tr><th>Message-ID</th><th>versions</th><th>the one that verifies</th></tr>");
        for g in s.variant_groups.iter().take(15) {
            let verified: Vec<String> = g.verified().map(|v| esc(&v.at)).collect();
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&g.message_id),
                g.variants.len(),
                if verified.is_empty() { "none".to_owned() } else { verified.join(", ") }
            );
        }
        h.push_str("</table>");
    }
    let all = sorted_findings(input, Engine::Mail);
    let (spread, verdicts): (Vec<&Finding>, Vec<&Finding>) =
        all.into_iter().partition(|f| SPREAD_KINDS.contains(&f.kind.as_str()));
    h.push_str("<h3>Who spreads it</h3>");
    if spread.is_empty() {
        h.push_str(r#"<p class="muted">No sightings stored. Run <code>scrutineer mail sightings DUMP --posts POSTS --out DIR</code>.</p>"#);
    } else {
        findings_table(h, &spread, 15);
    }
    h.push_str("<h3>Findings</h3>");
    findings_table(h, &verdicts, 15);
    h.push_str("</section>");
}

fn all_findings(h: &mut String, input: &ReportInput) {
    let mut all: Vec<&Finding> = input.findings.iter().collect();
    all.sort_by(|a, b| {
        b.severity.cmp(&a.severity).then(a.engine.as_str().cmp(b.engine.as_str())).then(a.title.cmp(&b.title))
    });
    let _ = write!(
        h,
        r#"<section id="all-findings"><h2>All findings (<span id="finding-count">{}</span>)</h2><input id="finding-filter" type="search" placeholder="Filter: engine, kind, address, account, county…"><table id="findings"><thead><tr><th>severity</th><th>engine</th><th>kind</th><th>finding</th><th>scope</th></tr></thead><tbody>"#,
        all.len()
    );
    for f in all.iter().take(2000) {
        let evidence: Vec<String> =
            f.evidence.iter().take(5).map(|e| format!("{}: {}", e.kind, e.description)).collect();
        let tech: Vec<String> = f.techniques.iter().map(|t| format!("{} {}", t.id, t.name)).collect();
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><details><summary>{}</summary><p>{}</p><p>Techniques: {}</p><pre>{}</pre><p class=\"muted\">{}</p></details></td><td>{}</td></tr>",
            sev_badge(f.severity),
            esc(f.engine.as_str()),
            esc(&f.kind),
            esc(&f.title),
            esc(&f.summary),
            esc(&tech.join("; ")),
            esc(&evidence.join("\n")),
            esc(&f.id.0),
            esc(f.scope.as_deref().unwrap_or(""))
        );
    }
    h.push_str("</tbody></table>");
    if all.len() > 2000 {
        let _ = write!(
            h,
            r#"<p class="muted">First 2,000 of {} shown; `scrutineer findings list` has them all.</p>"#,
            all.len()
        );
    }
    h.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_escapes_finding_text_and_names_missing_engines() {
        let f = Finding::new(Engine::Infra, "web_attack", "k", "<script>alert(1)</script> from 10.0.0.1");
        let input = ReportInput {
            title: "t".into(),
            generated_at: Utc::now(),
            store: "s.db".into(),
            findings: vec![f],
            runs: LatestRuns::default(),
            exercise: None,
        };
        let html = render(&input);
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&lt;script&gt;alert(1)"));
        assert!(html.contains("No influence run in this store yet"));
        assert_eq!(html.matches("<script>").count(), 1, "only the report's own script");
    }
}

#[cfg(test)]
mod summary_tests {
    use scrutineer_core::StoredSummary;
    use scrutineer_store::Store;

    use super::*;

    /// An audit summary as `audit status --store-findings` wrote it before summaries
    /// carried a version (the layout of version 1).
    fn unversioned_audit_summary() -> serde_json::Value {
        serde_json::json!({"contests": 1, "findings": 1, "status": [{
            "contest": "Mayor", "reported_winners": ["Alice"], "ballots_examined": 212,
            "measured_risk": 0.031, "risk_limit": 0.05, "decision": "stop",
            "estimated_total_draws": null, "missing_interpretations": 0, "sample_leaders": ["Alice"]
        }]})
    }

    fn store_with_audit_run(version: Option<u32>, body: serde_json::Value) -> Store {
        let store = Store::open_in_memory().expect("store");
        let run = store.begin_run(Engine::Audit, "audit status").expect("run");
        store.finish_run(run, &StoredSummary { engine: Engine::Audit, version, body }).expect("finish");
        store
    }

    fn rendered(store: &Store) -> Result<String, InputError> {
        let StoreContents { findings, runs } = read_store(store)?;
        let input = ReportInput {
            title: "t".into(),
            generated_at: Utc::now(),
            store: "s.db".into(),
            findings,
            runs,
            exercise: None,
        };
        Ok(render(&input))
    }

    /// An influence run whose one network has a member that always acts first: five
    /// accounts share twelve items, `lead` first and the others five minutes later.
    fn influence_summary() -> serde_json::Value {
        use scrutineer_influence::{Behaviour, Corpus, ScanParams, StateMediaList};
        let mut items = String::from("account,item,time\n");
        for k in 0..12i64 {
            for (m, account) in ["lead", "f1", "f2", "f3", "f4"].iter().enumerate() {
                let t = 1_476_000_000 + k * 86_400 + if m == 0 { 0 } else { 300 + m as i64 };
                items += &format!("{account},img{k},{t}\n");
            }
        }
        for p in 0..40 {
            for k in 0..10 {
                items += &format!(
                    "person{p},own{p}-{k},{}\n",
                    1_476_000_000 + (p * 7919 + k * 104_729) % 1_000_000
                );
            }
        }
        let params = ScanParams { behaviours: vec![Behaviour::CoItem], ..ScanParams::default() }
            .validated()
            .expect("valid");
        let mut corpus = Corpus::new(&params);
        scrutineer_influence::ingest_items(&mut corpus, items.as_bytes(), "items.csv").expect("reads");
        let analysis = scrutineer_influence::analyse(corpus, &params, &StateMediaList::default());
        let summary =
            scrutineer_influence::RunSummary::new(vec![], &analysis, &params, &[], Default::default());
        serde_json::to_value(summary).expect("serialize")
    }

    fn store_with_influence_run(version: u32, body: serde_json::Value) -> Store {
        let store = Store::open_in_memory().expect("store");
        let run = store.begin_run(Engine::Influence, "influence scan").expect("run");
        let stored = StoredSummary { engine: Engine::Influence, version: Some(version), body };
        store.finish_run(run, &stored).expect("finish");
        store
    }

    #[test]
    fn the_influence_section_shows_who_led_and_reads_version_1_summaries() {
        let body = influence_summary();
        let html = rendered(&store_with_influence_run(2, body.clone())).expect("renders");
        let who_led = html.split("<h3>Who led</h3>").nth(1).expect("a who-led section");
        let table = who_led.split("</table>").next().unwrap_or("");
        assert!(table.contains("lead (+1.00, 12/0/0"), "the account that always acts first leads: {table}");
        assert!(table.contains(", leader)"), "{table}");
        let mut old = body;
        let map = old.as_object_mut().expect("object");
        map.remove("leadership");
        map.remove("spread");
        let html = rendered(&store_with_influence_run(1, old)).expect("a version-1 summary still renders");
        assert!(html.contains("recorded before scrutineer measured who led"), "{html}");
    }

    #[test]
    fn an_unversioned_summary_of_the_current_layout_migrates() {
        let html = rendered(&store_with_audit_run(None, unversioned_audit_summary())).expect("migrates");
        assert!(
            html.contains("<td>Mayor</td><td>Alice</td><td>212</td><td>0.0310</td><td>0.05</td>"),
            "{html}"
        );
        assert!(!html.contains("No audit run in this store yet"));
    }

    #[test]
    fn an_unversioned_summary_of_another_layout_fails_naming_version_0() {
        let mut body = unversioned_audit_summary();
        body["status"][0].as_object_mut().expect("object").remove("ballots_examined");
        let err = rendered(&store_with_audit_run(None, body)).expect_err("no silent zero").to_string();
        assert!(err.contains("version 0"), "{err}");
        assert!(err.contains("ballots_examined"), "{err}");
        assert!(err.contains("audit status"), "the run is named: {err}");
    }

    #[test]
    fn an_unknown_version_fails_naming_it() {
        let err = rendered(&store_with_audit_run(Some(2), unversioned_audit_summary()))
            .expect_err("unknown version")
            .to_string();
        assert!(err.contains("version 2"), "{err}");
    }

    fn mail_summary(arc: bool) -> serde_json::Value {
        let mut body = serde_json::json!({
            "read": {"files": 1, "messages": 5, "unreadable": 1, "bytes": 900, "truncated_files": 0},
            "keys": 3, "signatures": 4,
            "verdicts": {"authentic": 2, "body_altered": 1, "headers_altered": 0, "unsigned_header_changed": 0,
                "key_unknown": 0, "key_revoked": 0, "expired": 0, "malformed_signature": 0, "unsigned": 1},
            "variant_groups": [{"message_id": "m1@x", "variants": [
                {"at": "d.mbox:0", "verdict": "authentic", "subject": "s", "sha256": "aa", "copies": 1},
                {"at": "d.mbox:900", "verdict": "body_altered", "subject": "s", "sha256": "bb", "copies": 1}]}],
            "near_duplicates": [], "findings": 2, "seconds": 0.1, "messages_per_second": 40.0,
            "verdicts_csv": "out/verdicts.csv"
        });
        if arc {
            body["arc"] = serde_json::json!({"chains": 3, "pass": 2, "fail": 1, "key_unknown": 0});
        }
        body
    }

    fn store_with_mail_run(version: u32, body: serde_json::Value) -> Store {
        let mut store = Store::open_in_memory().expect("store");
        let run = store.begin_run(Engine::Mail, "mail verify").expect("run");
        store
            .finish_run(run, &StoredSummary { engine: Engine::Mail, version: Some(version), body })
            .expect("finish");
        let spread =
            Finding::new(Engine::Mail, "dump_spread_network", "N3", "Network N3 spread the leaked mail");
        let altered =
            Finding::new(Engine::Mail, "body_altered", "bb", "Message m1@x: body changed after signing");
        store.put_findings(None, &[spread, altered]).expect("findings");
        store
    }

    #[test]
    fn the_mail_section_shows_verdicts_arc_variants_and_who_spreads_the_dump() {
        let html = rendered(&store_with_mail_run(2, mail_summary(true))).expect("version 2");
        let section = &html[html.find(r#"<section id="mail">"#).expect("section")..];
        let section = &section[..section.find("</section>").expect("end")];
        assert!(section.contains("3 messages carry them; 2 pass, 1 fail"), "{section}");
        assert!(section.contains("<td>m1@x</td><td>2</td><td>d.mbox:0</td>"), "{section}");
        let spread_at = section.find("Who spreads it").expect("spread");
        let findings_at = section.find("<h3>Findings</h3>").expect("findings");
        let network_at = section.find("Network N3 spread").expect("spread finding");
        let altered_at = section.find("body changed after signing").expect("verdict finding");
        assert!(spread_at < network_at && network_at < findings_at && findings_at < altered_at, "{section}");
        // A version-1 run still renders, saying that ARC was not counted.
        let html = rendered(&store_with_mail_run(1, mail_summary(false))).expect("version 1");
        assert!(html.contains("not counted by this run"), "{html}");
        // A version-2 body without its ARC counts is refused, naming the run.
        let err =
            rendered(&store_with_mail_run(2, mail_summary(false))).expect_err("missing arc").to_string();
        assert!(err.contains("arc") && err.contains("mail verify"), "{err}");
    }
}
