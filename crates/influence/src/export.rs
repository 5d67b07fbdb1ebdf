//! Exports with fixed names that other tools and scripts rely on:
//! `networks.json`, `accounts.csv`, `leaders.csv`, `edges/<behaviour>.csv`, `network.gexf`,
//! `network.graphml`.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use scrutineer_core::text::{csv_safe_record, xml_escape as xml};
use serde::Serialize;

use crate::Analysis;
use crate::detect::{BehaviourEdges, BehaviourStats};
use crate::params::{Behaviour, ScanParams};
use crate::summary::{GraphEdge, GraphNode, GraphSummary};

#[derive(Debug, thiserror::Error)]
/// An export that could not be written.
pub enum ExportError {
    #[error("cannot write {path}: {source}")]
    /// A file could not be written.
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    #[error("cannot write {path}: {source}")]
    /// A CSV file could not be written.
    Csv {
        /// The file.
        path: PathBuf,
        /// The error.
        source: csv::Error,
    },
    #[error("cannot write {path}: {source}")]
    /// A JSON file could not be written.
    Json {
        /// The file.
        path: PathBuf,
        /// The error.
        source: serde_json::Error,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> ExportError + '_ {
    move |source| ExportError::Io { path: path.to_path_buf(), source }
}

#[derive(Serialize)]
struct BehaviourReport<'a> {
    behaviour: Behaviour,
    #[serde(flatten)]
    stats: &'a BehaviourStats,
}

/// The layout version of `networks.json`, written in it as `schema_version`: 2 added each
/// network's `leadership` and the file's `spread`; files without the field are version 1.
pub const NETWORKS_SCHEMA_VERSION: u32 = 2;

#[derive(Serialize)]
struct NetworksFile<'a> {
    generator: &'static str,
    version: &'static str,
    schema_version: u32,
    params: &'a ScanParams,
    posts: u64,
    accounts: usize,
    accounts_in_networks: usize,
    behaviours: Vec<BehaviourReport<'a>>,
    networks: &'a [crate::explain::Network],
    /// Accounts that community detection grouped but whose own evidence was too weak to
    /// place them (see `crate::evidence`), so an analyst can see who was left out and why.
    not_placed: Vec<NotPlaced<'a>>,
    /// Links and texts seen on several platforms (see `crate::spread`).
    spread: &'a crate::spread::Spread,
}

#[derive(Serialize)]
struct NotPlaced<'a> {
    account: &'a str,
    #[serde(flatten)]
    pruned: &'a crate::evidence::Pruned,
}

/// Writes every export into `dir` (created if missing). Returns the files written.
pub fn write_all(analysis: &Analysis, params: &ScanParams, dir: &Path) -> Result<Vec<PathBuf>, ExportError> {
    fs::create_dir_all(dir.join("edges")).map_err(io_err(dir))?;
    /// One file to write; the files are independent, so they are written side by side.
    enum Job<'a> {
        Networks,
        Accounts,
        Leaders,
        Edges(&'a BehaviourEdges),
        Gexf,
        Graphml,
    }
    let mut jobs = vec![Job::Networks, Job::Accounts, Job::Leaders];
    jobs.extend(analysis.detection.behaviours.iter().map(Job::Edges));
    jobs.extend([Job::Gexf, Job::Graphml]);
    jobs.into_par_iter()
        .map(|job| match job {
            Job::Networks => write_networks(analysis, params, &dir.join("networks.json")),
            Job::Accounts => write_accounts(analysis, &dir.join("accounts.csv")),
            Job::Leaders => write_leaders(analysis, &dir.join("leaders.csv")),
            Job::Edges(be) => {
                write_edges(analysis, be, &dir.join("edges").join(format!("{}.csv", be.behaviour.as_str())))
            }
            Job::Gexf => {
                let path = dir.join("network.gexf");
                write_gexf(analysis, &path).map(|()| path)
            }
            Job::Graphml => {
                let path = dir.join("network.graphml");
                write_graphml(analysis, &path).map(|()| path)
            }
        })
        .collect()
}

fn csv_err(path: &Path) -> impl FnOnce(csv::Error) -> ExportError + '_ {
    move |source| ExportError::Csv { path: path.to_path_buf(), source }
}

fn write_networks(analysis: &Analysis, params: &ScanParams, path: &Path) -> Result<PathBuf, ExportError> {
    let file = NetworksFile {
        generator: "scrutineer",
        version: env!("CARGO_PKG_VERSION"),
        schema_version: NETWORKS_SCHEMA_VERSION,
        params,
        posts: analysis.corpus.posts,
        accounts: analysis.corpus.accounts.len(),
        accounts_in_networks: analysis.networks.iter().map(|n| n.size).sum(),
        behaviours: analysis
            .detection
            .behaviours
            .iter()
            .map(|b| BehaviourReport { behaviour: b.behaviour, stats: &b.stats })
            .collect(),
        networks: &analysis.networks,
        not_placed: analysis
            .detection
            .pruned
            .iter()
            .map(|p| NotPlaced { account: analysis.corpus.account_key(p.account), pruned: p })
            .collect(),
        spread: &analysis.spread,
    };
    let f = File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::new(f);
    serde_json::to_writer_pretty(&mut w, &file)
        .map_err(|source| ExportError::Json { path: path.to_path_buf(), source })?;
    w.flush().map_err(io_err(path))?;
    Ok(path.to_path_buf())
}

fn write_accounts(analysis: &Analysis, path: &Path) -> Result<PathBuf, ExportError> {
    let mut w = csv::Writer::from_path(path).map_err(csv_err(path))?;
    w.write_record(["account", "network", "score"]).map_err(csv_err(path))?;
    for net in &analysis.networks {
        for a in &net.accounts {
            // Account names come from the input: neutralised against formula injection.
            w.write_record(csv_safe_record([
                a.account.as_str(),
                net.id.as_str(),
                &format!("{:.4}", a.score),
            ]))
            .map_err(csv_err(path))?;
        }
    }
    w.flush().map_err(io_err(path))?;
    Ok(path.to_path_buf())
}

/// `leaders.csv`: each member's timing against its network (see `crate::lead`). Kept apart
/// from `accounts.csv`, whose three columns scripts read as they are.
fn write_leaders(analysis: &Analysis, path: &Path) -> Result<PathBuf, ExportError> {
    let mut w = csv::Writer::from_path(path).map_err(csv_err(path))?;
    w.write_record([
        "account",
        "network",
        "led",
        "followed",
        "tied",
        "leader_score",
        "sign_test_p",
        "median_lag_secs",
        "role",
        "fast",
    ])
    .map_err(csv_err(path))?;
    for net in &analysis.networks {
        for a in &net.leadership.accounts {
            w.write_record(csv_safe_record([
                a.account.as_str(),
                net.id.as_str(),
                &a.led.to_string(),
                &a.followed.to_string(),
                &a.tied.to_string(),
                &format!("{:.4}", a.leader_score),
                &format!("{:.3e}", a.sign_test_p),
                &a.median_lag_secs.map(|l| l.to_string()).unwrap_or_default(),
                a.role.as_str(),
                if a.fast { "true" } else { "false" },
            ]))
            .map_err(csv_err(path))?;
        }
    }
    w.flush().map_err(io_err(path))?;
    Ok(path.to_path_buf())
}

fn write_edges(analysis: &Analysis, be: &BehaviourEdges, path: &Path) -> Result<PathBuf, ExportError> {
    let mut w = csv::Writer::from_path(path).map_err(csv_err(path))?;
    w.write_record(["account_a", "account_b", "weight"]).map_err(csv_err(path))?;
    for &(a, b, weight) in &be.directed {
        w.write_record(csv_safe_record([
            analysis.corpus.account_key(a),
            analysis.corpus.account_key(b),
            &weight.to_string(),
        ]))
        .map_err(csv_err(path))?;
    }
    w.flush().map_err(io_err(path))?;
    Ok(path.to_path_buf())
}

/// Node attributes shared by the two graph formats.
struct NodeRow {
    id: String,
    label: String,
    network: String,
    score: f64,
    posts: u32,
    category: String,
    /// Who led (0 and not fast for an account not compared, or not placed).
    leader_score: f64,
    role: &'static str,
    fast: bool,
}

struct EdgeRow {
    a: String,
    b: String,
    weight: f64,
    per_behaviour: Vec<u32>,
}

fn graph_rows(analysis: &Analysis) -> (Vec<NodeRow>, Vec<EdgeRow>, Vec<Behaviour>) {
    let corpus = &analysis.corpus;
    let mut placed: FxHashMap<&str, (&str, f64)> = FxHashMap::default();
    let mut lead: FxHashMap<&str, &crate::lead::AccountLead> = FxHashMap::default();
    for net in &analysis.networks {
        for a in &net.accounts {
            placed.insert(a.account.as_str(), (net.id.as_str(), a.score));
        }
        for a in &net.leadership.accounts {
            lead.insert(a.account.as_str(), a);
        }
    }
    let behaviours: Vec<Behaviour> = analysis.detection.behaviours.iter().map(|b| b.behaviour).collect();
    let mut per: FxHashMap<(u32, u32), Vec<u32>> = FxHashMap::default();
    for (i, be) in analysis.detection.behaviours.iter().enumerate() {
        for p in &be.pairs {
            per.entry((p.a, p.b)).or_insert_with(|| vec![0; behaviours.len()])[i] = p.shared;
        }
    }
    let mut node_ids: Vec<u32> = analysis.detection.combined.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    node_ids.sort_unstable();
    node_ids.dedup();
    let nodes = node_ids
        .iter()
        .map(|&id| {
            let p = &corpus.accounts[id as usize];
            let (network, score) = placed.get(p.key.as_str()).copied().unwrap_or(("", 0.0));
            let lead = lead.get(p.key.as_str());
            NodeRow {
                leader_score: lead.map_or(0.0, |l| l.leader_score),
                role: lead.map_or("", |l| l.role.as_str()),
                fast: lead.is_some_and(|l| l.fast),
                id: p.key.clone(),
                label: p.handle.clone().unwrap_or_else(|| p.key.clone()),
                network: network.to_owned(),
                score,
                posts: p.posts,
                category: p.category.clone().unwrap_or_default(),
            }
        })
        .collect();
    let edges = analysis
        .detection
        .combined
        .iter()
        .map(|&(a, b, w)| EdgeRow {
            a: corpus.account_key(a).to_owned(),
            b: corpus.account_key(b).to_owned(),
            weight: w,
            per_behaviour: per.get(&(a, b)).cloned().unwrap_or_else(|| vec![0; behaviours.len()]),
        })
        .collect();
    (nodes, edges, behaviours)
}

fn write_gexf(analysis: &Analysis, path: &Path) -> Result<(), ExportError> {
    let (nodes, edges, behaviours) = graph_rows(analysis);
    let f = File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::new(f);
    let mut body = || -> io::Result<()> {
        writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(w, r#"<gexf xmlns="http://gexf.net/1.3" version="1.3">"#)?;
        writeln!(
            w,
            r#"  <meta><creator>scrutineer {}</creator><description>Coordination network: accounts tied by significant shared behaviour</description></meta>"#,
            env!("CARGO_PKG_VERSION")
        )?;
        writeln!(w, r#"  <graph mode="static" defaultedgetype="undirected">"#)?;
        writeln!(w, r#"    <attributes class="node">"#)?;
        writeln!(w, r#"      <attribute id="network" title="network" type="string"/>"#)?;
        writeln!(w, r#"      <attribute id="score" title="score" type="double"/>"#)?;
        writeln!(w, r#"      <attribute id="posts" title="posts" type="integer"/>"#)?;
        writeln!(w, r#"      <attribute id="category" title="category" type="string"/>"#)?;
        writeln!(w, r#"      <attribute id="leader_score" title="leader_score" type="double"/>"#)?;
        writeln!(w, r#"      <attribute id="lead_role" title="lead_role" type="string"/>"#)?;
        writeln!(w, r#"      <attribute id="fast" title="fast" type="boolean"/>"#)?;
        writeln!(w, r#"    </attributes>"#)?;
        writeln!(w, r#"    <attributes class="edge">"#)?;
        for b in &behaviours {
            writeln!(w, r#"      <attribute id="{0}" title="{0}" type="integer"/>"#, b.as_str())?;
        }
        writeln!(w, r#"    </attributes>"#)?;
        writeln!(w, "    <nodes>")?;
        for n in &nodes {
            writeln!(
                w,
                r#"      <node id="{}" label="{}"><attvalues><attvalue for="network" value="{}"/><attvalue for="score" value="{:.4}"/><attvalue for="posts" value="{}"/><attvalue for="category" value="{}"/><attvalue for="leader_score" value="{:.4}"/><attvalue for="lead_role" value="{}"/><attvalue for="fast" value="{}"/></attvalues></node>"#,
                xml(&n.id),
                xml(&n.label),
                xml(&n.network),
                n.score,
                n.posts,
                xml(&n.category),
                n.leader_score,
                n.role,
                n.fast
            )?;
        }
        writeln!(w, "    </nodes>")?;
        writeln!(w, "    <edges>")?;
        for (i, e) in edges.iter().enumerate() {
            write!(
                w,
                r#"      <edge id="{i}" source="{}" target="{}" weight="{}"><attvalues>"#,
                xml(&e.a),
                xml(&e.b),
                e.weight
            )?;
            for (b, v) in behaviours.iter().zip(&e.per_behaviour) {
                write!(w, r#"<attvalue for="{}" value="{v}"/>"#, b.as_str())?;
            }
            writeln!(w, "</attvalues></edge>")?;
        }
        writeln!(w, "    </edges>")?;
        writeln!(w, "  </graph>")?;
        writeln!(w, "</gexf>")?;
        w.flush()
    };
    body().map_err(io_err(path))
}

fn write_graphml(analysis: &Analysis, path: &Path) -> Result<(), ExportError> {
    let (nodes, edges, behaviours) = graph_rows(analysis);
    let f = File::create(path).map_err(io_err(path))?;
    let mut w = BufWriter::new(f);
    let mut body = || -> io::Result<()> {
        writeln!(w, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
        writeln!(
            w,
            r#"<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">"#
        )?;
        writeln!(w, r#"  <key id="label" for="node" attr.name="label" attr.type="string"/>"#)?;
        writeln!(w, r#"  <key id="network" for="node" attr.name="network" attr.type="string"/>"#)?;
        writeln!(w, r#"  <key id="score" for="node" attr.name="score" attr.type="double"/>"#)?;
        writeln!(w, r#"  <key id="posts" for="node" attr.name="posts" attr.type="int"/>"#)?;
        writeln!(w, r#"  <key id="category" for="node" attr.name="category" attr.type="string"/>"#)?;
        writeln!(w, r#"  <key id="leader_score" for="node" attr.name="leader_score" attr.type="double"/>"#)?;
        writeln!(w, r#"  <key id="lead_role" for="node" attr.name="lead_role" attr.type="string"/>"#)?;
        writeln!(w, r#"  <key id="fast" for="node" attr.name="fast" attr.type="boolean"/>"#)?;
        writeln!(w, r#"  <key id="weight" for="edge" attr.name="weight" attr.type="double"/>"#)?;
        for b in &behaviours {
            writeln!(w, r#"  <key id="{0}" for="edge" attr.name="{0}" attr.type="int"/>"#, b.as_str())?;
        }
        writeln!(w, r#"  <graph id="coordination" edgedefault="undirected">"#)?;
        for n in &nodes {
            writeln!(
                w,
                r#"    <node id="{}"><data key="label">{}</data><data key="network">{}</data><data key="score">{:.4}</data><data key="posts">{}</data><data key="category">{}</data><data key="leader_score">{:.4}</data><data key="lead_role">{}</data><data key="fast">{}</data></node>"#,
                xml(&n.id),
                xml(&n.label),
                xml(&n.network),
                n.score,
                n.posts,
                xml(&n.category),
                n.leader_score,
                n.role,
                n.fast
            )?;
        }
        for e in &edges {
            write!(
                w,
                r#"    <edge source="{}" target="{}"><data key="weight">{}</data>"#,
                xml(&e.a),
                xml(&e.b),
                e.weight
            )?;
            for (b, v) in behaviours.iter().zip(&e.per_behaviour) {
                write!(w, r#"<data key="{}">{v}</data>"#, b.as_str())?;
            }
            writeln!(w, "</edge>")?;
        }
        writeln!(w, "  </graph>")?;
        writeln!(w, "</graphml>")?;
        w.flush()
    };
    body().map_err(io_err(path))
}

/// The coordination graph of the highest-ranked networks, for drawing: whole networks in
/// rank order while the node count stays within `max_nodes`, and the edges among them.
pub fn graph_summary(analysis: &Analysis, max_nodes: usize) -> GraphSummary {
    let (nodes, edges, behaviours) = graph_rows(analysis);
    let mut shown: Vec<&str> = Vec::new();
    let mut count = 0;
    for net in &analysis.networks {
        if count + net.size > max_nodes {
            break;
        }
        count += net.size;
        shown.push(net.id.as_str());
    }
    let keep: std::collections::HashSet<&str> =
        nodes.iter().filter(|n| shown.contains(&n.network.as_str())).map(|n| n.id.as_str()).collect();
    let graph_nodes: Vec<GraphNode> = nodes
        .iter()
        .filter(|n| keep.contains(n.id.as_str()))
        .map(|n| GraphNode {
            id: n.id.clone(),
            label: n.label.clone(),
            network: n.network.clone(),
            score: n.score,
            posts: n.posts,
        })
        .collect();
    let graph_edges: Vec<GraphEdge> = edges
        .iter()
        .filter(|e| keep.contains(e.a.as_str()) && keep.contains(e.b.as_str()))
        .map(|e| GraphEdge {
            a: e.a.clone(),
            b: e.b.clone(),
            weight: e.weight,
            behaviours: behaviours
                .iter()
                .zip(&e.per_behaviour)
                .filter(|(_, v)| **v > 0)
                .map(|(b, v)| (b.as_str().to_owned(), *v))
                .collect(),
        })
        .collect();
    GraphSummary {
        nodes: graph_nodes,
        edges: graph_edges,
        networks_shown: shown.len(),
        networks_total: analysis.networks.len(),
    }
}
