//! STIX 2.1 import and export of Scrutineer findings.
