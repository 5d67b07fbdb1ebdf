//! Mail-ballot reconciliation: roll, issuance, returns and check-ins to findings.
