//! Joins between engines' findings in the store: a hunt finding (a password-spraying
//! source seen in a Windows event log, an account logging on from it) and an infra
//! finding (a campaign, a brute-force source, an attacked account seen in the office's
//! web and authentication logs) that name the same address or account are linked, both
//! ways. Engines never read each other's findings, so the binary joins them after
//! either engine writes its own; each join rewrites its whole set of links, which keeps
//! a re-run from duplicating them and drops the links of findings gone since.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context as _;
use scrutineer_core::{Engine, Finding};
use scrutineer_store::{FindingFilter, LinkKeyKind, LinkSync, NewLink, Store};

use crate::ui::Context;

/// The name under which the hunt-infra links are stored.
pub const HUNT_INFRA: &str = "hunt-infra";

/// The addresses and accounts a finding names, as link keys.
fn keys(f: &Finding) -> BTreeSet<(LinkKeyKind, String)> {
    let (addresses, accounts) = match f.engine {
        Engine::Hunt => (scrutineer_hunt::source_addresses(f), scrutineer_hunt::source_accounts(f)),
        Engine::Infra => (scrutineer_infra::source_addresses(f), scrutineer_infra::source_accounts(f)),
        _ => (Vec::new(), Vec::new()),
    };
    let addresses = addresses.into_iter().map(|a| (LinkKeyKind::Address, a.to_string()));
    addresses.chain(accounts.into_iter().map(|a| (LinkKeyKind::Account, a))).collect()
}

/// The links between hunt findings and infra findings that share an address or an
/// account, one per pair and key, hunt finding first.
pub fn hunt_infra_links(hunt: &[Finding], infra: &[Finding]) -> Vec<NewLink> {
    let mut by_key: BTreeMap<(LinkKeyKind, String), Vec<&str>> = BTreeMap::new();
    for f in infra {
        for key in keys(f) {
            by_key.entry(key).or_default().push(&f.id.0);
        }
    }
    let mut out = Vec::new();
    for h in hunt {
        for key in keys(h) {
            for infra_id in by_key.get(&key).into_iter().flatten() {
                out.push(NewLink {
                    finding_id: h.id.0.clone(),
                    linked_id: (*infra_id).to_owned(),
                    kind: key.0,
                    value: key.1.clone(),
                });
            }
        }
    }
    out
}

/// Recomputes the hunt-infra links from the findings in the store, after either engine
/// wrote its own; says on stderr how many links there are when any changed.
pub fn link_hunt_and_infra(ctx: &Context, store: &mut Store) -> anyhow::Result<LinkSync> {
    let of = |engine| FindingFilter { engine: Some(engine), ..FindingFilter::default() };
    let hunt = store.findings(&of(Engine::Hunt)).context("reading hunt findings to link")?;
    let infra = store.findings(&of(Engine::Infra)).context("reading infra findings to link")?;
    let links = hunt_infra_links(&hunt, &infra);
    let sync = store.sync_links(HUNT_INFRA, &links).context("storing the hunt-infra links")?;
    if sync.added > 0 || sync.removed > 0 {
        let pairs: BTreeSet<(&str, &str)> =
            links.iter().map(|l| (l.finding_id.as_str(), l.linked_id.as_str())).collect();
        ctx.note(format!(
            "{} hunt finding(s) linked to infra findings by a shared address or account ({} pair(s); see `scrutineer findings show`)",
            pairs.iter().map(|p| p.0).collect::<BTreeSet<_>>().len(),
            pairs.len(),
        ));
    }
    Ok(sync)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scrutineer_core::Evidence;
    use serde_json::json;

    fn hunt_finding(key: &str, address: &str, accounts: &[&str]) -> Finding {
        Finding::new(Engine::Hunt, "password_spraying", key, "spraying").evidence(Evidence::new(
            "sources",
            "sources",
            json!({"addresses": [address], "accounts": accounts}),
        ))
    }

    fn infra_finding(kind: &str, address: &str, accounts: &[&str]) -> Finding {
        Finding::new(Engine::Infra, kind, address, "brute force")
            .evidence(Evidence::new(
                "observable",
                format!("source address {address}"),
                json!({"type": "ipv4-addr", "value": address}),
            ))
            .evidence(Evidence::new("accounts", "tried", json!({"accounts": accounts})))
    }

    #[test]
    fn findings_sharing_an_address_or_account_are_linked_and_others_are_not() {
        let hunt =
            vec![hunt_finding("a", "192.0.2.7", &["admin"]), hunt_finding("b", "192.0.2.8", &["clerk"])];
        let infra = vec![
            infra_finding("brute_force", "192.0.2.7", &["root"]),
            infra_finding("campaign", "198.51.100.1", &["Admin"]),
        ];
        let links = hunt_infra_links(&hunt, &infra);
        let got: Vec<(&str, &str, LinkKeyKind, &str)> = links
            .iter()
            .map(|l| (l.finding_id.as_str(), l.linked_id.as_str(), l.kind, l.value.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (hunt[0].id.0.as_str(), infra[0].id.0.as_str(), LinkKeyKind::Address, "192.0.2.7"),
                (hunt[0].id.0.as_str(), infra[1].id.0.as_str(), LinkKeyKind::Account, "admin"),
            ]
        );
    }
}
