//! The co-link null model's site term: readers of one site share its pages.
//!
//! The configuration model of [`crate::nullmodel`] lets each account pick items in
//! proportion to their popularity over the whole data set. Links are not picked that way:
//! an account that reads one news site picks that site's pages, so two heavy readers of
//! one site share many of its popular stories, hours after they appear, without anyone
//! coordinating them (on the 2021 German election posts, whole networks of pages rested on
//! nothing else). The site term is the same model within one site: with `k_as` the
//! account's repeated pages of site `s`, `c_as = Σ (d_i − 1)` over them and
//! `D_s = Σ d_i` over the site's repeated pages,
//!
//! ```text
//! λ_site(a,b) = Σ_s (k_bs · c_as + k_as · c_bs) / (2 D_s)
//! ```
//!
//! over the sites both link to, and it is added to the pair's global expectation (so the
//! test only grows stricter). A site counts only when it has **casual readers**: at least
//! [`CASUAL_READERS`] accounts that linked to just one of its repeated pages. A site only a
//! team links to (its own outlets, pushed page after page by every member) has none, and
//! reading it explains nothing: that is the team. Only repeated pages are counted (pages
//! linked once are not kept by the corpus); both the numerator and `D_s` lose them alike.

use rustc_hash::FxHashMap;

use crate::corpus::{Action, Corpus};

/// Fewest accounts that linked to exactly one of a site's repeated pages for reading the
/// site to explain shared links to it: the site has an audience beyond any team.
pub const CASUAL_READERS: u32 = 3;

/// Per account, its reading of each counted site; per site, `D_s`.
#[derive(Default)]
pub struct SiteReading {
    /// `(site, k_as, c_as)` sorted by site, per account.
    by_account: FxHashMap<u32, Vec<(u64, u32, f64)>>,
    incidences: FxHashMap<u64, f64>,
}

impl SiteReading {
    /// Site statistics from a behaviour's repeated-item actions, sorted by item (as
    /// co-occurrence leaves them).
    pub fn from_actions(corpus: &Corpus, actions: &[Action]) -> SiteReading {
        let mut url_buf = String::new();
        // (site, account) -> (k, c); site -> D_s.
        let mut reading: FxHashMap<(u64, u32), (u32, f64)> = FxHashMap::default();
        let mut incidences: FxHashMap<u64, f64> = FxHashMap::default();
        let mut accounts: Vec<u32> = Vec::new();
        let mut start = 0;
        while start < actions.len() {
            let item = actions[start].item;
            let mut end = start + 1;
            while end < actions.len() && actions[end].item == item {
                end += 1;
            }
            if let Some(site) =
                corpus.labels.get(&item).and_then(|l| crate::evidence::link_site(l, &mut url_buf))
            {
                accounts.clear();
                accounts.extend(actions[start..end].iter().map(|a| a.account));
                accounts.sort_unstable();
                accounts.dedup();
                let d = accounts.len() as f64;
                *incidences.entry(site).or_insert(0.0) += d;
                for &a in &accounts {
                    let e = reading.entry((site, a)).or_insert((0, 0.0));
                    e.0 += 1;
                    e.1 += d - 1.0;
                }
            }
            start = end;
        }
        let mut casual: FxHashMap<u64, u32> = FxHashMap::default();
        for (&(site, _), &(k, _)) in &reading {
            if k == 1 {
                *casual.entry(site).or_insert(0) += 1;
            }
        }
        let counted = |site: &u64| casual.get(site).copied().unwrap_or(0) >= CASUAL_READERS;
        incidences.retain(|s, _| counted(s));
        let mut by_account: FxHashMap<u32, Vec<(u64, u32, f64)>> = FxHashMap::default();
        for ((site, a), (k, c)) in reading {
            if incidences.contains_key(&site) {
                by_account.entry(a).or_default().push((site, k, c));
            }
        }
        for v in by_account.values_mut() {
            v.sort_unstable_by_key(|x| x.0);
        }
        SiteReading { by_account, incidences }
    }

    /// `λ_site(a, b)`: the shared pages the two accounts' reading of the same sites gives.
    pub fn expected(&self, a: u32, b: u32) -> f64 {
        let (Some(ra), Some(rb)) = (self.by_account.get(&a), self.by_account.get(&b)) else { return 0.0 };
        let (mut i, mut j, mut sum) = (0, 0, 0.0);
        while i < ra.len() && j < rb.len() {
            match ra[i].0.cmp(&rb[j].0) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    let (site, k_a, c_a) = ra[i];
                    let (_, k_b, c_b) = rb[j];
                    let d = self.incidences[&site];
                    sum += (f64::from(k_b) * c_a + f64::from(k_a) * c_b) / (2.0 * d);
                    i += 1;
                    j += 1;
                }
            }
        }
        sum
    }
}
