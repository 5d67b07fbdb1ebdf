//! Risk-limiting audits: sample sizes, seeded sampling, risk measurement.
