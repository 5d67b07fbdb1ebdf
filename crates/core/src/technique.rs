use std::fmt;

use serde::{Deserialize, Serialize};

/// The framework a technique identifier belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Framework {
    /// DISARM Red framework: tactics and techniques of disinformation campaigns.
    Disarm,
    /// MITRE ATT&CK Enterprise: tactics and techniques of intrusions.
    MitreAttack,
}

impl Framework {
    pub fn as_str(self) -> &'static str {
        match self {
            Framework::Disarm => "DISARM",
            Framework::MitreAttack => "MITRE ATT&CK",
        }
    }

    /// The `source_name` STIX 2.1 uses in `external_references` for this framework.
    pub fn stix_source_name(self) -> &'static str {
        match self {
            Framework::Disarm => "DISARM",
            Framework::MitreAttack => "mitre-attack",
        }
    }
}

/// A technique in DISARM or ATT&CK, such as `T0049.003` or `T1190`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Technique {
    pub framework: Framework,
    pub id: String,
    pub name: String,
}

/// Names of the technique ids Scrutineer's engines emit (DISARM Red framework v1.x,
/// ATT&CK Enterprise v18). A technique outside this list keeps an empty name rather
/// than a guessed one.
const KNOWN: &[(Framework, &str, &str)] = &[
    (Framework::Disarm, "T0015", "Create Hashtags and Search Artefacts"),
    (Framework::Disarm, "T0049", "Flood Information Space"),
    (Framework::Disarm, "T0049.001", "Trolls Amplify and Manipulate"),
    (Framework::Disarm, "T0049.002", "Flood Existing Hashtag"),
    (Framework::Disarm, "T0049.003", "Bots Amplify via Automated Forwarding and Reposting"),
    (Framework::Disarm, "T0084.001", "Use Copypasta"),
    (Framework::Disarm, "T0085.002", "Develop False or Altered Documents"),
    (Framework::Disarm, "T0089.001", "Obtain Authentic Documents"),
    (Framework::Disarm, "T0090", "Create Inauthentic Accounts"),
    (Framework::Disarm, "T0118", "Amplify Existing Narrative"),
    (Framework::Disarm, "T0119", "Cross-Posting"),
    (Framework::Disarm, "T0121", "Manipulate Platform Algorithm"),
    (Framework::MitreAttack, "T1078", "Valid Accounts"),
    (Framework::MitreAttack, "T1083", "File and Directory Discovery"),
    (Framework::MitreAttack, "T1059", "Command and Scripting Interpreter"),
    (Framework::MitreAttack, "T1110", "Brute Force"),
    (Framework::MitreAttack, "T1114", "Email Collection"),
    (Framework::MitreAttack, "T1110.001", "Password Guessing"),
    (Framework::MitreAttack, "T1110.003", "Password Spraying"),
    (Framework::MitreAttack, "T1110.004", "Credential Stuffing"),
    (Framework::MitreAttack, "T1189", "Drive-by Compromise"),
    (Framework::MitreAttack, "T1190", "Exploit Public-Facing Application"),
    (Framework::MitreAttack, "T1491.002", "External Defacement"),
    (Framework::MitreAttack, "T1498", "Network Denial of Service"),
    (Framework::MitreAttack, "T1499", "Endpoint Denial of Service"),
    (Framework::MitreAttack, "T1505.003", "Web Shell"),
    (Framework::MitreAttack, "T1565.001", "Stored Data Manipulation"),
    (Framework::MitreAttack, "T1595", "Active Scanning"),
    (Framework::MitreAttack, "T1595.002", "Vulnerability Scanning"),
    (Framework::MitreAttack, "T1595.003", "Wordlist Scanning"),
];

impl Technique {
    fn known(framework: Framework, id: &str) -> Technique {
        let name = KNOWN
            .iter()
            .find(|(f, i, _)| *f == framework && *i == id)
            .map(|(_, _, n)| (*n).to_owned())
            .unwrap_or_default();
        Technique { framework, id: id.to_owned(), name }
    }

    /// A DISARM technique by id.
    pub fn disarm(id: &str) -> Technique {
        Technique::known(Framework::Disarm, id)
    }

    /// A MITRE ATT&CK technique by id.
    pub fn attack(id: &str) -> Technique {
        Technique::known(Framework::MitreAttack, id)
    }
}

impl fmt::Display for Technique {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            write!(f, "{} {}", self.framework.as_str(), self.id)
        } else {
            write!(f, "{} {} {}", self.framework.as_str(), self.id, self.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ids_get_names_and_unknown_ones_stay_unnamed() {
        assert_eq!(Technique::attack("T1190").name, "Exploit Public-Facing Application");
        assert_eq!(Technique::disarm("T0084.001").name, "Use Copypasta");
        assert_eq!(Technique::attack("T9999").name, "");
        // The same id in the other framework is not confused with it.
        assert_eq!(Technique::disarm("T1190").name, "");
    }
}
