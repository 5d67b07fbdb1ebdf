//! The command-line tests: one binary (so the engines are linked once), a module per
//! area, the shared helpers in `util`. Every test runs the real `scrutineer` binary on
//! fixtures it writes itself.

mod audit;
mod audit_batch;
mod audit_comparison;
mod audit_vendor_cvr;
mod ballots_detection;
mod ballots_formats;
mod broken_pipe;
mod compressed_inputs;
mod demo_exercise;
mod hostile_input;
mod hunt;
mod hunt_infra_join;
mod influence_cnt_format;
mod influence_mixed;
mod influence_platforms;
mod influence_scan;
mod infra;
mod infra_zeek;
mod ledger_crash;
mod ledger_tamper;
mod mail;
mod mail_arc_zip;
mod mail_sightings;
mod report_browser;
mod server_api;
mod simulate_social;
mod util;
mod workspace;
