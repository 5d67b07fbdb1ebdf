//! Risk-limiting audits: sample sizes, seeded sampling, risk measurement, and the
//! readers of the files real audits publish.
//!
//! # Brief overview
//!
//! - **A ballot-polling audit** is an [`AuditFile`]: reported results ([`read_results`],
//!   one [`Contest`] each), a ballot [`Manifest`], a public seed and the draws made from
//!   it with the [`ConsistentSampler`] (SHA-256 tickets, as Rivest's `sampler.py`), and
//!   the audit board's interpretations ([`read_interpretations`]). [`status`] measures
//!   each contest's risk (BRAVO, [`pair_test`]; ALPHA, [`alpha_pvalues`]; or at the end of
//!   each round, Minerva and Providence, [`PollingMethod::round_by_round`]) and gives a
//!   [`ContestStatus`] with its [`Decision`]: stop, draw more, or a full hand count, and for
//!   Minerva and Providence the next round's sizes ([`RoundChoice`]);
//!   [`status_findings`] turns the unconfirmed ones into core findings.
//! - **Round by round** for one winner-loser pair: [`round_risks`] (each round's p-value,
//!   kmin and decision from cumulative [`PairRound`]s), [`next_round_sizes`] (the next
//!   round's [`RoundSize`] for stopping probabilities, with its chance of stopping),
//!   [`PairAudit`] for a round at a time, [`RoundsQuestion`] for figures given directly;
//!   errors are [`RoundsError`]s.
//! - **Sample sizes**: [`asn`] and [`asn_for_margin`] (BRAVO), [`comparison_sample_size`]
//!   (Kaplan-Markov ballot comparison), [`macro_sample_size`] (batch comparison),
//!   [`sample_size_grid`] over margins and risk limits, and [`round_size_grid`] (Minerva
//!   and Providence first rounds with their chance of finishing in one round).
//! - **Published audits re-checked**: Colorado's round reports ([`read_colorado_contests`],
//!   [`replay_colorado`] recomputes every sample size); Arlo exports
//!   ([`read_arlo_report`], [`arlo_conclusions`]); Dominion cast-vote records in JSON and
//!   CSV against their manifests ([`read_cvr_json`], [`check_dominion_json`],
//!   [`read_cvr_csv`], [`check_dominion_csv`], [`check_hashes`]); RAIRE ranked-choice
//!   files ([`read_raire`], IRV with [`tabulate_irv`], [`check_raire`]), NSW's ballot SQL
//!   ([`read_nsw_sql`]) and USIRV files ([`read_usirv`]).
//! - **Vendor cast-vote records**, ranked or plurality, into one [`VendorCvrs`] of
//!   [`RankedContest`]s: ES&S workbooks ([`read_ess`] with an [`EssLayout`]), Clear
//!   Ballot CSV ([`read_clear_ballot`]), Hart card folders ([`read_hart`]); labels and
//!   candidate codes from RCTab's configuration ([`RctabConfig`], [`ChoiceLabels`]);
//!   RCTab's ballot rules ([`BallotRules`]) give the first-round count ([`FirstRound`])
//!   and the rankings IRV reads; malformed rows are kept as [`MalformedRow`]s.
//! - **Ranked-choice (IRV) audits**: [`generate_assertions`] finds RAIRE's NEB and NEN
//!   assertions proving the winner (branch and bound over elimination-order tails with a
//!   [`DifficultyMeasure`], then [`Trim`]), an [`AssertionSet`] with each
//!   [`ScoredAssertion`]'s difficulty and margin; [`audit_assertions`] measures each one's
//!   risk on a sample; errors are [`RaireError`]s.
//!
//! - **A ballot-comparison audit** across jurisdictions is a [`ComparisonAudit`], kept in
//!   a versioned state file: each [`Jurisdiction`]'s manifest ([`read_ballot_manifest`])
//!   and CVRs ([`CvrSet`]), the [`SeedCeremony`], rounds drawn with Colorado's sizes,
//!   retrieval lists ([`RetrievalRow`], [`retrieval_html`]), the boards' readings
//!   ([`read_readings`]) compared with the CVRs ([`card_discrepancy`]), risk per contest
//!   ([`ComparisonStatus`]) and the final report in Colorado's `contest.csv` columns
//!   ([`ContestReportRow`]).
//!
//! - **A batch-comparison audit** (MACRO per contest, as Arlo runs it) is a [`BatchAudit`]:
//!   reported batch tallies ([`read_batch_tallies`]), each batch's error bound
//!   ([`ContestBounds`]), PPEB draws ([`ppeb_draws`]), hand tallies, the risk
//!   ([`macro_risk`]) and the next round's size ([`macro_round_size`]).
//!
//! - **A hybrid audit** (SUITE, as Arlo runs it) is a [`HybridAudit`]: a CVR stratum
//!   compared card by card ([`read_cvr_marks`]) and a no-CVR stratum polled, each with its
//!   manifest and draws; board readings ([`read_hybrid_readings`]); the combined risk by
//!   Fisher's function maximised over the margin's split ([`suite_risk`],
//!   [`fisher_combined_pvalue`]) and each stratum's next size ([`suite_sample_size`]);
//!   [`SuiteQuestion`] asks the same of figures given directly.
//!
//! Inputs may be plain, gzip or zstd ([`scrutineer_core::input`]); every error is an
//! [`AuditError`] naming the file, the line and the field. The crate never touches the
//! store.

#![deny(missing_docs)]
mod summary;

mod arlo;
mod batch;
mod bravo;
mod colorado;
mod comparison;
mod cvr;
mod cvr_clear_ballot;
mod cvr_ess;
mod cvr_hart;
mod cvr_nist;
mod dominion;
mod error;
mod hybrid;
mod manifest;
mod minerva;
mod raire;
mod raire_search;
mod rctab;
mod risk;
mod sampler;
mod suite;
mod workflow;

pub use arlo::{
    ArloBatch, ArloConclusion, ArloContest, ArloReport, ArloRound, ArloSettings,
    conclusions as arlo_conclusions, jurisdiction_totals, read_report as read_arlo_report,
};
pub use batch::{
    BATCH_STATE_VERSION, BatchAudit, BatchContest, BatchDecision, BatchRetrieval, BatchStartOptions,
    BatchStatus, BatchTallies, ChoiceVotes, ContestBounds, PpebDraw, TallyFile, macro_risk, macro_round_size,
    ppeb_draws, read_batch_tallies, write_batch_retrieval_csv,
};
pub use bravo::{PairTest, StoppingDistribution, asn, asn_for_margin, pair_test, stopping_distribution};
pub use colorado::{
    ColoradoContestRow, Discrepancies, ReplayRow, diluted_margin, estimated_samples, optimistic_samples,
    read_contest_csv as read_colorado_contests, replay as replay_colorado, write_replay_csv,
};
pub use comparison::{
    AuditedContest, COMPARISON_STATE_VERSION, CardReading, ComparisonAudit, ComparisonDecision,
    ComparisonParams, ComparisonStatus, ContestDef, ContestReportRow, CvrCard, CvrFileFormat, CvrSet,
    DrawnCard, Jurisdiction, JurisdictionFiles, LocatedReading, ManifestBatch, RetrievalRow, RiskFunction,
    Round, SeedCeremony, Universe, canvass_row, card_discrepancy, colorado_canvass,
    colorado_comparison_discrepancies, read_ballot_manifest, read_jurisdictions, read_readings,
    retrieval_html, write_report_csv, write_retrieval_csv,
};
pub use cvr::{
    BallotOutcome, BallotRules, ChoiceLabels, FirstRound, MalformedRow, OvervoteRule, RankMark, RankedBallot,
    RankedContest, RctabCandidate, RctabConfig, RctabOutput, RctabRules, RctabSource, UNDECLARED_WRITE_IN,
    VendorContestSummary, VendorCvrs, VendorFormat, summarise_vendor,
};
pub use cvr_clear_ballot::read_clear_ballot;
pub use cvr_ess::{EssLayout, read_ess};
pub use cvr_hart::{hart_files, read_hart};
pub use cvr_nist::read_nist_cdf;
pub use dominion::{
    Card, CardContest, CsvCheck, CsvContest, CsvExport, CsvRecord, CvrExport, DominionManifests, HashCheck,
    Interpretation, JsonCheck, Mark, Session, check_csv as check_dominion_csv, check_hashes,
    check_json as check_dominion_json, declared_hash, read_cvr_csv, read_cvr_json, read_cvr_json_lossless,
    sha256_file,
};
pub use error::{AuditError, Result};
pub use hybrid::{
    CardMarks, CardReading as HybridReading, HYBRID_STATE_VERSION, HybridAudit, HybridContest,
    HybridDecision, HybridDraw, HybridRetrieval, HybridStatus, Stratum, SuiteAnswer, SuiteQuestion,
    read_cvr_marks, read_hybrid_readings, write_hybrid_retrieval_csv,
};
pub use manifest::{Batch, Manifest};
pub use minerva::{
    NextRound, PairAudit, PairRound, RoundByRound, RoundRisk, RoundSize, RoundsAnswer, RoundsError,
    RoundsQuestion, ScheduleWork, SizeCheck, next_round_sizes, round_risks, schedule_work,
};
pub use raire::{
    Assertion, IrvResult, RaireCheck, RaireContest, RaireFile, RankedFormat, assertions as raire_assertions,
    check as check_raire, read as read_raire, read_nsw_sql, read_ranked, read_usirv,
    tabulate as tabulate_irv,
};
pub use raire_search::{
    AssertionRisk, AssertionSet, DifficultyMeasure, GenerateOptions, RaireError, ScoredAssertion, Trim,
    assertions_prove_winner, audit_assertions, generate_assertions,
};
pub use rctab::{
    CountRound, CountRules, JavaRandom, RctabCount, TieBroken, TiebreakMode, java_hash_set_order, rctab_count,
};
pub use risk::{
    BatchTally, alpha_pvalues, comparison_assort, comparison_sample_size, kaplan_markov_pvalue, macro_bound,
    macro_pvalue, macro_sample_size, macro_taint, plurality_assort, supermajority_assort,
};
pub use sampler::{ConsistentSampler, Ticket};
pub use suite::{
    ComparisonStratum, HybridSize, Misstatements, PairRisk, PollingStratum, SUITE_GAMMA, SUITE_MIN_SAMPLE,
    SuiteContest, SuiteRisk, comparison_pvalue, fisher_combined_pvalue, polling_pvalue, suite_risk,
    suite_sample_size,
};
pub use summary::{AuditDecision, ContestSummary, RunSummary};
pub use workflow::{
    AuditFile, Contest, ContestKind, ContestStatus, Decision, Draw, FirstRoundSize, PollingMethod,
    ROUND_CHOICES, RoundChoice, SampleSize, SampleSizeMethod, draws_from, read_interpretations, read_results,
    round_size_grid, sample_size_grid, status, status_findings,
};
