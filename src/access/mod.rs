//! Who may do what: roles, the one table of what each role may do, and the principal a request
//! acts as. Authentication (which principal a request is) lives in `http::auth`; this module
//! only decides, so the API, the console and the CLI cannot disagree.

mod limiter;
mod policy;
mod secret;

pub use limiter::{FailedAuthLimiter, Throttled};
pub use policy::{RouteRule, SEARCH_ACTION, route_rule};
pub use secret::{RandomToken, sha256_hex};

use serde::{Deserialize, Serialize};

/// A key's role (CONTRACT.md, "Access keys, roles …").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
#[derive(strum::EnumString, strum::Display, strum::IntoStaticStr, strum::VariantArray)]
#[strum(serialize_all = "lowercase")]
pub enum Role {
    Viewer,
    Supervisor,
    Auditor,
    Admin,
}

/// The rows of the contract's role table. Every route names one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display, strum::VariantArray)]
#[strum(serialize_all = "snake_case")]
pub enum Permission {
    /// List, search, read recordings, play and download audio, use the console.
    Read,
    /// Reprocess, fetch (backfill now), manage trackers.
    Operate,
    /// Read the audit log, set and release legal holds.
    Audit,
    /// Delete recordings, purge, manage keys, connect the Webex account (OAuth login).
    Administer,
}

impl Permission {
    /// What it allows, in words for a refusal.
    pub fn what(self) -> &'static str {
        match self {
            Self::Read => "read recordings",
            Self::Operate => "reprocess, fetch from Webex or change trackers",
            Self::Audit => "read the audit log or set and release legal holds",
            Self::Administer => "delete recordings, manage keys or connect the Webex account",
        }
    }

    /// The roles that have it, in words, read from the role table.
    pub fn who(self) -> String {
        use strum::VariantArray;
        let roles: Vec<&str> = Role::VARIANTS
            .iter()
            .filter(|r| r.may(self))
            .map(|r| r.into())
            .collect();
        match roles.as_slice() {
            [one] => format!("only {one}"),
            all if all.len() == Role::VARIANTS.len() => "every role".into(),
            some => some.join(" and "),
        }
    }
}

impl Role {
    /// The role table, written once.
    pub fn may(self, permission: Permission) -> bool {
        use Permission as P;
        match permission {
            P::Read => true,
            P::Operate => matches!(self, Self::Supervisor | Self::Admin),
            P::Audit => matches!(self, Self::Auditor | Self::Admin),
            P::Administer => matches!(self, Self::Admin),
        }
    }
}

/// Who a request acts as: a named key, a console session of one, or the loopback operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's name (`api-token` for `API_TOKEN`, `loopback` for the keyless local operator).
    pub actor: String,
    pub role: Role,
}

/// A principal asked for something its role does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {role} role may not {what}; {who} may", what = permission.what(), who = permission.who())]
pub struct Forbidden {
    pub role: Role,
    pub permission: Permission,
}

impl Principal {
    /// `API_TOKEN` acts as this admin key.
    pub const API_TOKEN_ACTOR: &'static str = "api-token";
    /// Without `API_TOKEN`, loopback clients act as this admin.
    pub const LOOPBACK_ACTOR: &'static str = "loopback";

    pub fn new(actor: impl Into<String>, role: Role) -> Self {
        Self {
            actor: actor.into(),
            role,
        }
    }

    pub fn require(&self, permission: Permission) -> Result<(), Forbidden> {
        if self.role.may(permission) {
            Ok(())
        } else {
            Err(Forbidden {
                role: self.role,
                permission,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strum::VariantArray;

    #[test]
    fn the_role_table_is_the_contracts() {
        // (role, read, operate, audit, administer), as CONTRACT.md's table reads.
        let table = [
            (Role::Viewer, [true, false, false, false]),
            (Role::Supervisor, [true, true, false, false]),
            (Role::Auditor, [true, false, true, false]),
            (Role::Admin, [true, true, true, true]),
        ];
        for (role, allowed) in table {
            for (permission, expected) in Permission::VARIANTS.iter().zip(allowed) {
                assert_eq!(role.may(*permission), expected, "{role} / {permission}");
                let principal = Principal::new("k", role);
                assert_eq!(principal.require(*permission).is_ok(), expected);
            }
        }
    }

    #[test]
    fn a_refusal_says_what_was_refused_and_who_may() {
        let refused = |role, permission| Forbidden { role, permission }.to_string();
        assert_eq!(
            refused(Role::Supervisor, Permission::Audit),
            "the supervisor role may not read the audit log or set and release legal holds; \
             auditor and admin may"
        );
        assert_eq!(
            refused(Role::Viewer, Permission::Administer),
            "the viewer role may not delete recordings, manage keys or connect the Webex \
             account; only admin may"
        );
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::VARIANTS {
            let name = role.to_string();
            assert_eq!(name.parse::<Role>().ok(), Some(*role));
        }
        assert!("root".parse::<Role>().is_err());
    }
}
