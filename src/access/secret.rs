//! Random bearer values (session cookies, OAuth bindings, access keys) and how they are kept:
//! only a SHA-256 hash is stored. The values carry 256 random bits, so a fast hash is enough
//! (nothing to brute-force) and a lookup by hash leaks nothing useful through timing.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// A fresh random value: shown to its holder once, stored only as [`RandomToken::hash`].
pub struct RandomToken(String);

impl RandomToken {
    /// 32 random bytes, hex-encoded, behind a short prefix that says what the value is.
    pub fn generate(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("{prefix}{}", hex::encode(bytes)))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> String {
        sha256_hex(&self.0)
    }
}

impl std::fmt::Debug for RandomToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RandomToken(…)")
    }
}

pub fn sha256_hex(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_prefixed_and_hashed_not_kept() {
        let a = RandomToken::generate("wrs_");
        let b = RandomToken::generate("wrs_");
        assert_ne!(a.expose(), b.expose());
        assert!(a.expose().starts_with("wrs_"));
        assert_eq!(a.expose().len(), 4 + 64);
        assert_eq!(a.hash(), sha256_hex(a.expose()));
        assert_ne!(a.hash(), a.expose());
        assert!(!format!("{a:?}").contains(a.expose()));
    }
}
