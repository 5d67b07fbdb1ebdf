//! Detection parameters and their defaults.
//!
//! The defaults were chosen once and are documented in the crate README with the
//! figures behind them: a 6-hour window (human-run troll teams re-post each other over
//! hours, not seconds: on the IRA's 2016 election season a 60-second window finds under
//! half of the ties a 6-hour window finds), at least two shared actions per pair, and a
//! Poisson test against a configuration null model with the false discovery rate held
//! at 1%, so that chance overlaps among prolific accounts and viral posts do not knit
//! networks together.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A kind of coordinated behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Retweeting the same post.
    CoRetweet,
    /// Sharing the same normalised link in an original post.
    CoLink,
    /// Posting the same set of hashtags in an original post.
    CoHashtag,
    /// Posting the same hashtag, each tag of a post on its own: a campaign that pairs
    /// its tag with a different companion each time shares no hashtag *set*.
    CoTag,
    /// Posting identical or near-identical text (not a retweet).
    CoTweet,
    /// Being active in the same minutes far more often than chance.
    Sync,
    /// Replying to the same post (a Telegram message, a Reddit submission or comment, a
    /// Bluesky post, a YouTube or TikTok comment or video).
    CoReply,
    /// Commenting in the same thread: the same Reddit submission, YouTube or TikTok video,
    /// Bluesky thread.
    CoComment,
    /// Acting on the same user-supplied item (`--items`: an image hash, a phone number, an
    /// ad library id).
    CoItem,
}

impl Behaviour {
    /// Every behaviour, in the order of [`Behaviour::index`].
    pub const ALL: [Behaviour; 9] = [
        Behaviour::CoRetweet,
        Behaviour::CoLink,
        Behaviour::CoHashtag,
        Behaviour::CoTag,
        Behaviour::CoTweet,
        Behaviour::Sync,
        Behaviour::CoReply,
        Behaviour::CoComment,
        Behaviour::CoItem,
    ];

    /// The behaviours a scan computes unless told otherwise. Single hashtags (`co_tag`)
    /// are left out: on the 2021 German election collection they placed more pages that
    /// share their party's tags and found no more of the operations that hide (see the
    /// crate README); the co-reply and co-comment behaviours of the platform readers are
    /// asked for by name, and co-item comes with the items it needs.
    pub const DEFAULT: [Behaviour; 5] =
        [Behaviour::CoRetweet, Behaviour::CoLink, Behaviour::CoHashtag, Behaviour::CoTweet, Behaviour::Sync];

    /// The file stem used for `edges/<behaviour>.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Behaviour::CoRetweet => "co_retweet",
            Behaviour::CoLink => "co_link",
            Behaviour::CoHashtag => "co_hashtag",
            Behaviour::CoTag => "co_tag",
            Behaviour::CoTweet => "co_tweet",
            Behaviour::Sync => "sync",
            Behaviour::CoReply => "co_reply",
            Behaviour::CoComment => "co_comment",
            Behaviour::CoItem => "co_item",
        }
    }

    /// The behaviour's position in [`Behaviour::ALL`], for per-behaviour arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// What accounts linked by this behaviour did, as a finding says it.
    pub fn describe(self) -> &'static str {
        match self {
            Behaviour::CoRetweet => "retweeted the same posts",
            Behaviour::CoLink => "shared the same links",
            Behaviour::CoHashtag => "posted the same hashtag sets",
            Behaviour::CoTag => "posted the same hashtags",
            Behaviour::CoTweet => "posted the same or near-identical text",
            Behaviour::Sync => "were active in the same minutes",
            Behaviour::CoReply => "replied to the same posts",
            Behaviour::CoComment => "commented in the same threads",
            Behaviour::CoItem => "acted on the same supplied items",
        }
    }
}

impl fmt::Display for Behaviour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Behaviour {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().replace('-', "_");
        Behaviour::ALL.into_iter().find(|b| b.as_str() == s).ok_or_else(|| {
            let names: Vec<&str> = Behaviour::ALL.iter().map(|b| b.as_str()).collect();
            format!("unknown behaviour '{s}' (expected {})", names.join(", "))
        })
    }
}

/// How edges that chance could explain are removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeFilter {
    /// Keep every pair at or above the minimum count (the QUT toolkit's behaviour).
    None,
    /// Keep pairs whose shared-item count is improbable under a configuration null
    /// model (Poisson test), controlling the false discovery rate at `alpha` over the
    /// candidate pairs (Benjamini–Hochberg).
    Poisson,
    /// The same test, Bonferroni-corrected: controls the chance of any false edge, at
    /// the cost of missing weaker real ones.
    Bonferroni,
}

impl FromStr for EdgeFilter {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(EdgeFilter::None),
            "poisson" | "fdr" => Ok(EdgeFilter::Poisson),
            "bonferroni" => Ok(EdgeFilter::Bonferroni),
            _ => Err(format!("unknown edge filter '{s}' (expected poisson, bonferroni or none)")),
        }
    }
}

/// The parameters of a scan ([`ScanParams::default`] are the documented defaults).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ScanParams {
    /// Behaviours to compute.
    pub behaviours: Vec<Behaviour>,
    /// Two actions coincide when they are at most this many seconds apart.
    pub window_secs: i64,
    /// Minimum directed weight (posts of A matched by B) for an edge.
    pub min_count: u32,
    /// Jaccard similarity at or above which two texts are the same co-tweet item;
    /// 1.0 means identical normalised text only.
    pub text_similarity: f64,
    /// Texts with fewer distinct words than this are matched exactly only.
    pub min_tokens_near_dup: usize,
    /// Sync: minutes are the items; accounts need at least this many active minutes.
    pub sync_min_minutes: u32,
    /// Sync: minimum shared active minutes for an edge.
    pub sync_min_count: u32,
    /// How pairs that chance explains are dropped.
    pub edge_filter: EdgeFilter,
    /// False discovery rate of the edge filter (family-wise rate with Bonferroni).
    pub alpha: f64,
    /// Networks smaller than this are not reported.
    pub min_network_size: usize,
    /// Leiden resolution (modularity; 1.0 is standard modularity).
    pub resolution: f64,
    /// Seed for Leiden and MinHash, so runs are reproducible.
    pub seed: u64,
    /// Items acted on by more accounts than this are crowd items: they still count in
    /// the null model, but their pairs are not enumerated (the null model explains them,
    /// and enumerating them is quadratic). 0 means no limit.
    pub max_item_accounts: usize,
    /// An account is placed in a network only when its coordinated items, each weighted
    /// by how little of a crowd shares it (see [`crate::AccountEvidence`]), sum to at least
    /// this: 3 is the equivalent of three actions that no ungrouped account shares.
    pub min_account_evidence: f64,
    /// ... and only when those coordinated actions fall on at least this many distinct
    /// UTC days (coordination repeated, not one burst).
    pub min_account_days: u32,
    /// The group test (see the crate README): pairs whose p-value is below
    /// this, though the pair test did not keep them, are kept when they lie inside a group
    /// of accounts whose ties are far denser than chance allows. 0 turns the test off.
    #[serde(default = "default_group_alpha")]
    pub group_alpha: f64,
    /// Who led: a tie between two members is in the network's fast sub-network when
    /// their median gap on the items they shared is at most this many seconds.
    #[serde(default = "default_fast_lag_secs")]
    pub fast_lag_secs: i64,
}

fn default_fast_lag_secs() -> i64 {
    ScanParams::default().fast_lag_secs
}

fn default_group_alpha() -> f64 {
    ScanParams::default().group_alpha
}

impl Default for ScanParams {
    fn default() -> Self {
        ScanParams {
            behaviours: Behaviour::DEFAULT.to_vec(),
            window_secs: 6 * 3600,
            min_count: 2,
            text_similarity: 0.8,
            min_tokens_near_dup: 5,
            sync_min_minutes: 10,
            sync_min_count: 5,
            edge_filter: EdgeFilter::Poisson,
            alpha: 0.01,
            min_network_size: 3,
            resolution: 1.0,
            seed: 42,
            max_item_accounts: 1000,
            min_account_evidence: 3.0,
            min_account_days: 3,
            group_alpha: 1e-3,
            fast_lag_secs: 10,
        }
    }
}

/// A scan parameter out of its range.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParamsError {
    /// The text similarity is a Jaccard index: 0 to 1.
    #[error("the text similarity must be between 0 and 1, got {0}")]
    TextSimilarity(f64),
    /// The false discovery (or family-wise) rate is a probability strictly between 0 and 1.
    #[error("alpha must be between 0 and 1 (exclusive), got {0}")]
    Alpha(f64),
    /// The account-level evidence threshold is a finite, non-negative sum.
    #[error("the minimum account evidence must be a non-negative number, got {0}")]
    MinAccountEvidence(f64),
    /// The group test's per-pair level is a probability below 1 (0 turns the test off).
    #[error("the group test's level must be at least 0 and below 1, got {0}")]
    GroupAlpha(f64),
    /// The time window is a duration.
    #[error("the time window must not be negative, got {0} seconds")]
    Window(i64),
    /// The fast sub-network's threshold is a duration.
    #[error("the fast-lag threshold must not be negative, got {0} seconds")]
    FastLag(i64),
}

impl ScanParams {
    /// Whether behaviour `b` is computed.
    pub fn has(&self, b: Behaviour) -> bool {
        self.behaviours.contains(&b)
    }

    /// Checks parameters that came from a user and puts them in the form detection
    /// expects: behaviours sorted and each named once, networks of at least two accounts
    /// (a network of one is no coordination).
    pub fn validated(mut self) -> Result<ScanParams, ParamsError> {
        if !(0.0..=1.0).contains(&self.text_similarity) {
            return Err(ParamsError::TextSimilarity(self.text_similarity));
        }
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(ParamsError::Alpha(self.alpha));
        }
        if !(self.min_account_evidence >= 0.0 && self.min_account_evidence.is_finite()) {
            return Err(ParamsError::MinAccountEvidence(self.min_account_evidence));
        }
        if self.window_secs < 0 {
            return Err(ParamsError::Window(self.window_secs));
        }
        if self.fast_lag_secs < 0 {
            return Err(ParamsError::FastLag(self.fast_lag_secs));
        }
        if !(self.group_alpha >= 0.0 && self.group_alpha < 1.0) {
            return Err(ParamsError::GroupAlpha(self.group_alpha));
        }
        self.behaviours.sort();
        self.behaviours.dedup();
        self.min_network_size = self.min_network_size.max(2);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_rejects_each_out_of_range_parameter() {
        let ok = ScanParams::default();
        assert!(ok.clone().validated().is_ok());
        for (params, want) in [
            (ScanParams { text_similarity: 1.5, ..ok.clone() }, ParamsError::TextSimilarity(1.5)),
            (ScanParams { text_similarity: -0.1, ..ok.clone() }, ParamsError::TextSimilarity(-0.1)),
            (ScanParams { alpha: 0.0, ..ok.clone() }, ParamsError::Alpha(0.0)),
            (ScanParams { alpha: 1.0, ..ok.clone() }, ParamsError::Alpha(1.0)),
            (ScanParams { min_account_evidence: -1.0, ..ok.clone() }, ParamsError::MinAccountEvidence(-1.0)),
            (ScanParams { window_secs: -1, ..ok.clone() }, ParamsError::Window(-1)),
            (ScanParams { fast_lag_secs: -1, ..ok.clone() }, ParamsError::FastLag(-1)),
            (ScanParams { group_alpha: 1.0, ..ok.clone() }, ParamsError::GroupAlpha(1.0)),
            (ScanParams { group_alpha: -0.1, ..ok.clone() }, ParamsError::GroupAlpha(-0.1)),
        ] {
            assert_eq!(params.validated().err(), Some(want));
        }
        assert!(matches!(
            ScanParams { alpha: f64::NAN, ..ok.clone() }.validated(),
            Err(ParamsError::Alpha(_))
        ));
        assert!(matches!(
            ScanParams { min_account_evidence: f64::INFINITY, ..ok }.validated(),
            Err(ParamsError::MinAccountEvidence(_))
        ));
    }

    #[test]
    fn validation_sorts_and_dedups_behaviours_and_floors_the_network_size() {
        let params = ScanParams {
            behaviours: vec![Behaviour::Sync, Behaviour::CoRetweet, Behaviour::Sync],
            min_network_size: 0,
            ..ScanParams::default()
        }
        .validated()
        .expect("valid parameters");
        assert_eq!(params.behaviours, [Behaviour::CoRetweet, Behaviour::Sync]);
        assert_eq!(params.min_network_size, 2);
    }
}
