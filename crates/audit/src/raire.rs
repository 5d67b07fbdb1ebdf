//! Ranked-choice ballots in RAIRE's format and instant-runoff (IRV) tabulation.
//!
//! File layout: a line with the number of contests; per contest a line
//! `Contest,ID,N,cand_1,...,cand_N[,winner,W]`; then one line per ballot
//! `CONTEST_ID,BALLOT_ID,first,second,...` (an empty ranking is a blank ballot).

use std::collections::{BTreeMap, HashSet};
use std::io::BufRead;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{AuditError, Result, open_lines};

/// One ranked-choice contest of a RAIRE file.
#[derive(Debug, Clone, Serialize)]
pub struct RaireContest {
    /// The contest's id.
    pub id: String,
    /// Its candidates.
    pub candidates: Vec<String>,
    /// The winner the file declares, if any.
    pub declared_winner: Option<String>,
    /// Rankings, candidate indices into `candidates`, one per ballot.
    pub ballots: Vec<Vec<usize>>,
    /// Ballot ids, one per ballot.
    pub ballot_ids: Vec<String>,
}

/// A RAIRE file: its contests.
#[derive(Debug, Clone, Serialize)]
pub struct RaireFile {
    /// The contests.
    pub contests: Vec<RaireContest>,
    /// Ballots whose ranking repeats a candidate (kept, first occurrence counts).
    pub repeated_rankings: u64,
}

/// Reads a RAIRE file (plain, gzip or zstd).
pub fn read(path: &Path) -> Result<RaireFile> {
    let reader = open_lines(path)?;
    let mut lines = reader.lines().enumerate();
    let mut next = || -> Option<Result<(u64, String)>> {
        lines.next().map(|(i, l)| l.map(|s| (i as u64 + 1, s)).map_err(|e| AuditError::io(path, e)))
    };
    let (ln, first) = next().ok_or_else(|| AuditError::format(path, 1, "empty file"))??;
    let n_contests: usize = first.trim().parse().map_err(|e: std::num::ParseIntError| {
        AuditError::field(path, ln, "contests", first.trim(), e.to_string())
    })?;
    let mut contests = Vec::new();
    for _ in 0..n_contests {
        let (ln, l) = next().ok_or_else(|| AuditError::format(path, 0, "missing contest header"))??;
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        if f.first().map(|s| s.to_ascii_lowercase()) != Some("contest".into()) || f.len() < 3 {
            return Err(AuditError::format(path, ln, "expected 'Contest,ID,N,candidates...'"));
        }
        let n: usize = f[2]
            .parse()
            .map_err(|e: std::num::ParseIntError| AuditError::field(path, ln, "N", f[2], e.to_string()))?;
        if f.len() < 3 + n {
            return Err(AuditError::format(path, ln, format!("{n} candidates declared, fewer listed")));
        }
        let candidates: Vec<String> = f[3..3 + n].iter().map(|s| s.to_string()).collect();
        let rest = &f[3 + n..];
        let declared_winner = rest
            .iter()
            .position(|s| s.eq_ignore_ascii_case("winner"))
            .and_then(|i| rest.get(i + 1))
            .map(|s| s.to_string());
        contests.push(RaireContest {
            id: f[1].to_owned(),
            candidates,
            declared_winner,
            ballots: Vec::new(),
            ballot_ids: Vec::new(),
        });
    }
    let mut repeated = 0;
    while let Some(item) = next() {
        let (ln, l) = item?;
        if l.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = l.split(',').map(str::trim).collect();
        let c = contests
            .iter_mut()
            .find(|c| c.id == f[0])
            .ok_or_else(|| AuditError::field(path, ln, "contest", f[0], "not declared in the header"))?;
        let ballot_id = f.get(1).copied().unwrap_or("").to_owned();
        let mut ranking = Vec::new();
        let mut seen = HashSet::new();
        for cand in f.iter().skip(2).filter(|s| !s.is_empty()) {
            let i = c.candidates.iter().position(|x| x == cand).ok_or_else(|| {
                AuditError::field(path, ln, "ranking", cand, "candidate not declared for the contest")
            })?;
            if seen.insert(i) {
                ranking.push(i);
            } else {
                repeated += 1;
            }
        }
        c.ballots.push(ranking);
        c.ballot_ids.push(ballot_id);
    }
    Ok(RaireFile { contests, repeated_rankings: repeated })
}

/// Reads the ballots of NSW's `*_cvr_contest_info.sql` files (raire-service's test data:
/// `INSERT` rows `(cvr_id, county_id, '["name", ...]', contest_id, index)`), one contest
/// per contest id; candidates are numbered in order of first appearance, or as `candidates`
/// lists them when given (a name not in the list is an error).
pub fn read_nsw_sql(path: &Path, candidates: Option<&[String]>) -> Result<RaireFile> {
    let reader = open_lines(path)?;
    let mut contests: Vec<RaireContest> = Vec::new();
    for (i, l) in reader.lines().enumerate() {
        let ln = i as u64 + 1;
        let l = l.map_err(|e| AuditError::io(path, e))?;
        let t = l.trim();
        if !t.starts_with('(') {
            continue;
        }
        let (Some(a), Some(b)) = (t.find('\''), t.rfind('\'')) else {
            return Err(AuditError::format(path, ln, "expected a quoted JSON array of choices"));
        };
        if b <= a {
            return Err(AuditError::format(path, ln, "expected a quoted JSON array of choices"));
        }
        let head: Vec<&str> = t[1..a].split(',').map(str::trim).collect();
        let tail: Vec<&str> =
            t[b + 1..].trim_end_matches([')', ',', ';']).split(',').map(str::trim).collect();
        let json = t[a + 1..b].replace("\'\'", "\'");
        let names: Vec<String> = serde_json::from_str(&json)
            .map_err(|e| AuditError::field(path, ln, "choices", &json, e.to_string()))?;
        let contest_id = tail.get(1).copied().unwrap_or("").to_owned();
        let idx = match contests.iter().position(|c| c.id == contest_id) {
            Some(k) => k,
            None => {
                contests.push(RaireContest {
                    id: contest_id.clone(),
                    candidates: candidates.map(<[String]>::to_vec).unwrap_or_default(),
                    declared_winner: None,
                    ballots: Vec::new(),
                    ballot_ids: Vec::new(),
                });
                contests.len() - 1
            }
        };
        let c = &mut contests[idx];
        let mut ranking = Vec::new();
        for name in names {
            let k = match c.candidates.iter().position(|x| *x == name) {
                Some(k) => k,
                None if candidates.is_none() => {
                    c.candidates.push(name);
                    c.candidates.len() - 1
                }
                None => return Err(AuditError::field(path, ln, "choices", &name, "candidate not listed")),
            };
            if !ranking.contains(&k) {
                ranking.push(k);
            }
        }
        c.ballots.push(ranking);
        c.ballot_ids.push(head.first().copied().unwrap_or("").to_owned());
    }
    Ok(RaireFile { contests, repeated_rankings: 0 })
}

/// The most ballots a USIRV file may expand to (its counts are not trusted blindly).
pub const USIRV_MAX_BALLOTS: usize = 50_000_000;

/// Reads a USIRV file (the original RAIRE's test data): a line of candidate ids, a line
/// `-+-+-+-+-`, then `(first, second, ...) : count` per distinct ranking. The contest's id
/// is the file's stem.
pub fn read_usirv(path: &Path) -> Result<RaireFile> {
    let reader = open_lines(path)?;
    let id = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let mut lines = reader.lines().enumerate();
    let mut next =
        || lines.next().map(|(i, l)| l.map(|s| (i as u64 + 1, s)).map_err(|e| AuditError::io(path, e)));
    let (_, first) = next().ok_or_else(|| AuditError::format(path, 1, "empty file"))??;
    let candidates: Vec<String> =
        first.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
    let mut c =
        RaireContest { id, candidates, declared_winner: None, ballots: Vec::new(), ballot_ids: Vec::new() };
    let mut repeated = 0;
    while let Some(item) = next() {
        let (ln, l) = item?;
        let t = l.trim();
        if t.is_empty() || t.starts_with("-+") {
            continue;
        }
        let (r, k) =
            t.rsplit_once(':').ok_or_else(|| AuditError::format(path, ln, "expected '(ranking) : count'"))?;
        let k: usize = k.trim().parse().map_err(|e: std::num::ParseIntError| {
            AuditError::field(path, ln, "count", k.trim(), e.to_string())
        })?;
        let r = r.trim().trim_start_matches('(').trim_end_matches(')');
        let mut ranking = Vec::new();
        for cand in r.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let i = c.candidates.iter().position(|x| x == cand).ok_or_else(|| {
                AuditError::field(path, ln, "ranking", cand, "candidate not declared on the first line")
            })?;
            if ranking.contains(&i) {
                repeated += k as u64;
            } else {
                ranking.push(i);
            }
        }
        let n = c.ballots.len();
        if n + k > USIRV_MAX_BALLOTS {
            return Err(AuditError::field(
                path,
                ln,
                "count",
                &k.to_string(),
                format!("more than {USIRV_MAX_BALLOTS} ballots in the file"),
            ));
        }
        c.ballots.extend(std::iter::repeat_n(ranking, k));
        c.ballot_ids.extend((n..n + k).map(|j| j.to_string()));
    }
    Ok(RaireFile { contests: vec![c], repeated_rankings: repeated })
}

/// A file layout of ranked ballots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RankedFormat {
    /// RAIRE's layout ([`read`]).
    Raire,
    /// NSW's `*_cvr_contest_info.sql` ([`read_nsw_sql`]).
    NswSql,
    /// USIRV's layout ([`read_usirv`]).
    Usirv,
}

/// Reads ranked ballots in the given layout.
pub fn read_ranked(path: &Path, format: RankedFormat) -> Result<RaireFile> {
    match format {
        RankedFormat::Raire => read(path),
        RankedFormat::NswSql => read_nsw_sql(path, None),
        RankedFormat::Usirv => read_usirv(path),
    }
}

/// Result of an IRV count.
#[derive(Debug, Clone, Serialize)]
pub struct IrvResult {
    /// Candidates (indices) in order of elimination; the last is the winner.
    pub elimination_order: Vec<usize>,
    /// The IRV winner (an index into the candidates).
    pub winner: usize,
    /// First-preference tallies per candidate.
    pub first_preferences: Vec<u64>,
    /// Ballots that rank nobody.
    pub blank: u64,
}

/// The top-ranked continuing candidate of a ranking.
fn top_of(ranking: &[usize], continuing: &[bool]) -> Option<usize> {
    ranking.iter().copied().find(|&c| continuing[c])
}

/// Counts IRV: repeatedly eliminate the candidate with the fewest top-ranked votes among
/// continuing candidates (ties broken by the lower first-preference tally, then index).
pub fn tabulate(n_candidates: usize, ballots: &[Vec<usize>]) -> Option<IrvResult> {
    if n_candidates == 0 {
        return None;
    }
    let mut first = vec![0u64; n_candidates];
    let mut blank = 0;
    for b in ballots {
        match b.first() {
            Some(&c) => first[c] += 1,
            None => blank += 1,
        }
    }
    let mut continuing = vec![true; n_candidates];
    let mut order = Vec::new();
    for _ in 1..n_candidates {
        let mut tally = vec![0u64; n_candidates];
        for b in ballots {
            if let Some(c) = top_of(b, &continuing) {
                tally[c] += 1;
            }
        }
        let out = (0..n_candidates).filter(|&c| continuing[c]).min_by_key(|&c| (tally[c], first[c], c))?;
        continuing[out] = false;
        order.push(out);
    }
    let winner = (0..n_candidates).find(|&c| continuing[c])?;
    order.push(winner);
    Some(IrvResult { elimination_order: order, winner, first_preferences: first, blank })
}

/// A RAIRE assertion. Its assorter maps a ballot to [0, 1]; the assertion holds when the
/// mean over all ballots exceeds 1/2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Assertion {
    /// "Winner never loses to loser": w's first preferences exceed the ballots on which
    /// l is ranked above w (or w unranked).
    NotEliminatedBefore {
        /// The candidate who must not be eliminated first (an index).
        winner: usize,
        /// The candidate who is (an index).
        loser: usize,
    },
    /// "Not eliminated next": with only `continuing` left, w has more top votes than l.
    NotEliminatedNext {
        /// The candidate with more top votes (an index).
        winner: usize,
        /// The candidate eliminated next (an index).
        loser: usize,
        /// The candidates still standing.
        continuing: Vec<usize>,
    },
}

impl Assertion {
    /// The assorter value of one ballot.
    pub fn assort(&self, ranking: &[usize]) -> f64 {
        match self {
            Assertion::NotEliminatedBefore { winner, loser } => {
                let w = ranking.first() == Some(winner);
                let pos = |c: &usize| ranking.iter().position(|x| x == c);
                let l_above = match (pos(loser), pos(winner)) {
                    (Some(pl), Some(pw)) => pl < pw,
                    (Some(_), None) => true,
                    _ => false,
                };
                (1.0 + w as u8 as f64 - l_above as u8 as f64) / 2.0
            }
            Assertion::NotEliminatedNext { winner, loser, continuing } => {
                let top = ranking.iter().find(|c| continuing.contains(c));
                let w = top == Some(winner);
                let l = top == Some(loser);
                (1.0 + w as u8 as f64 - l as u8 as f64) / 2.0
            }
        }
    }

    /// Mean assorter value over ballots.
    pub fn mean(&self, ballots: &[Vec<usize>]) -> f64 {
        if ballots.is_empty() {
            return 0.5;
        }
        ballots.iter().map(|b| self.assort(b)).sum::<f64>() / ballots.len() as f64
    }
}

/// A set of assertions that, if all hold, imply the reported winner really won.
///
/// When the winner beats every other candidate pairwise in the NEB sense, those NEB
/// assertions suffice. Otherwise the assertions pin down the whole elimination order:
/// at each round every other continuing candidate has more top votes than the one
/// eliminated (NEN). This is conservative (RAIRE's search finds smaller sets), but
/// always sufficient.
pub fn assertions(n_candidates: usize, ballots: &[Vec<usize>], result: &IrvResult) -> Vec<Assertion> {
    let w = result.winner;
    let neb: Vec<Assertion> = (0..n_candidates)
        .filter(|&l| l != w)
        .map(|l| Assertion::NotEliminatedBefore { winner: w, loser: l })
        .collect();
    if neb.iter().all(|a| a.mean(ballots) > 0.5) {
        return neb;
    }
    let mut out = Vec::new();
    let order = &result.elimination_order;
    for (i, &eliminated) in order.iter().enumerate().take(order.len().saturating_sub(1)) {
        let continuing: Vec<usize> = order[i..].to_vec();
        for &other in &continuing {
            if other != eliminated {
                out.push(Assertion::NotEliminatedNext {
                    winner: other,
                    loser: eliminated,
                    continuing: continuing.clone(),
                });
            }
        }
    }
    out
}

/// Counts checked for one contest.
#[derive(Debug, Clone, Serialize)]
pub struct RaireCheck {
    /// The contest's id.
    pub contest: String,
    /// Candidates.
    pub candidates: usize,
    /// Ballots.
    pub ballots: u64,
    /// Blank ballots.
    pub blank: u64,
    /// Rankings written, over all ballots.
    pub rankings: u64,
    /// The IRV winner.
    pub winner: String,
    /// The winner the file declares, if any.
    pub declared_winner: Option<String>,
    /// Whether the two agree (none when nothing is declared).
    pub winner_agrees: Option<bool>,
    /// Assertions that prove the winner: RAIRE's generated set, or (when it cannot be
    /// generated, e.g. the declared winner differs or ties) the conservative set of
    /// [`assertions`].
    pub assertions: usize,
    /// The generated set's difficulty (1 / diluted margin), when it was generated (none
    /// also when the search passed 20 seconds).
    pub raire_difficulty: Option<f64>,
    /// The smallest assorter margin over them (2 × mean − 1).
    pub smallest_assorter_margin: f64,
    /// First preferences per candidate.
    pub first_preferences: BTreeMap<String, u64>,
}

/// How long [`check`] lets the RAIRE search run per contest before it falls back to the
/// conservative assertions.
pub const CHECK_TIME_LIMIT_SECONDS: u64 = 20;

/// Tabulates every contest, with its assertions (RAIRE's generated set, or the
/// conservative one when it cannot be generated within 20 seconds) and
/// the checks of the counts.
pub fn check(file: &RaireFile) -> Vec<RaireCheck> {
    file.contests
        .iter()
        .filter_map(|c| {
            let r = tabulate(c.candidates.len(), &c.ballots)?;
            let opts = crate::raire_search::GenerateOptions {
                time_limit: Some(std::time::Duration::from_secs(CHECK_TIME_LIMIT_SECONDS)),
                ..Default::default()
            };
            let generated = crate::raire_search::generate_assertions(c, &opts).ok();
            let a = match &generated {
                Some(set) => set.assertions.iter().map(|x| x.assertion.clone()).collect(),
                None => assertions(c.candidates.len(), &c.ballots, &r),
            };
            let margin = a.iter().map(|x| 2.0 * x.mean(&c.ballots) - 1.0).fold(f64::INFINITY, f64::min);
            let winner = c.candidates[r.winner].clone();
            Some(RaireCheck {
                contest: c.id.clone(),
                candidates: c.candidates.len(),
                ballots: c.ballots.len() as u64,
                blank: r.blank,
                rankings: c.ballots.iter().map(|b| b.len() as u64).sum(),
                winner_agrees: c.declared_winner.as_ref().map(|d| *d == winner),
                declared_winner: c.declared_winner.clone(),
                winner,
                assertions: a.len(),
                raire_difficulty: generated.as_ref().map(|g| g.difficulty),
                smallest_assorter_margin: margin,
                first_preferences: c
                    .candidates
                    .iter()
                    .cloned()
                    .zip(r.first_preferences.iter().copied())
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irv_eliminates_lowest_and_transfers() {
        // A 4, B 3, C 2 (C→B): C out, B gets 5 and wins.
        let mut ballots = vec![vec![0]; 4];
        ballots.extend(vec![vec![1]; 3]);
        ballots.extend(vec![vec![2, 1]; 2]);
        let r = tabulate(3, &ballots).expect("count");
        assert_eq!(r.elimination_order, vec![2, 0, 1]);
        assert_eq!(r.winner, 1);
        let a = assertions(3, &ballots, &r);
        assert!(a.iter().all(|x| x.mean(&ballots) > 0.5), "assertions hold on the reported ballots");
        // If the winner were wrong, some assertion must fail: relabel the winner as A.
        let wrong = IrvResult { winner: 0, elimination_order: vec![2, 1, 0], ..r.clone() };
        let a = assertions(3, &ballots, &wrong);
        assert!(a.iter().any(|x| x.mean(&ballots) <= 0.5));
    }

    fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("scrutineer-raire-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn nsw_sql_rows_become_rankings_and_bad_rows_name_the_line() {
        let text = "-- note\nINSERT INTO cvr_contest_info (cvr_id, county_id, choices, contest_id, index) VALUES\n\
            ( 1,32,'[\"O''BRIEN Pat\",\"MILES Zac\"]',32,0),\n\
            ( 2,32,'[\"MILES Zac\"]',32,0),\n\
            ( 3,32,'[]',32,0);\n";
        let f = read_nsw_sql(&temp_file("ok.sql", text), None).expect("reads");
        assert_eq!(f.contests.len(), 1);
        let c = &f.contests[0];
        assert_eq!(c.id, "32");
        assert_eq!(c.candidates, vec!["O'BRIEN Pat".to_string(), "MILES Zac".to_string()]);
        assert_eq!(c.ballots, vec![vec![0, 1], vec![1], vec![]]);
        let bad = "( 1,32,'[\"A\",',32,0),\n";
        let e = read_nsw_sql(&temp_file("bad.sql", &format!("x\n{bad}")), None).expect_err("bad JSON");
        assert!(matches!(e, AuditError::Field { line: 2, .. }), "{e}");
    }

    #[test]
    fn usirv_counts_expand_to_ballots_and_unknown_candidates_are_errors() {
        let f = read_usirv(&temp_file("c.txt", "1, 2, 3\n-+-+-+-+-\n(1, 3) : 2\n(2) : 1\n")).expect("reads");
        let c = &f.contests[0];
        assert_eq!(c.id, "c");
        assert_eq!(c.ballots, vec![vec![0, 2], vec![0, 2], vec![1]]);
        let e = read_usirv(&temp_file("d.txt", "1, 2\n-+-+-+-+-\n(1, 4) : 2\n")).expect_err("4 undeclared");
        assert!(matches!(e, AuditError::Field { line: 3, .. }), "{e}");
        let e =
            read_usirv(&temp_file("e.txt", "1, 2\n-+-+-+-+-\n(1) : 99999999999\n")).expect_err("too many");
        assert!(matches!(e, AuditError::Field { line: 3, .. }), "{e}");
    }

    #[test]
    fn neb_assorter_values() {
        let a = Assertion::NotEliminatedBefore { winner: 0, loser: 1 };
        assert_eq!(a.assort(&[0, 1]), 1.0);
        assert_eq!(a.assort(&[1, 0]), 0.0);
        assert_eq!(a.assort(&[2]), 0.5);
        assert_eq!(a.assort(&[2, 1]), 0.0);
    }
}
