//! Web, IDS and auth-log attack detection, campaign linking and trend tests for election infrastructure.
