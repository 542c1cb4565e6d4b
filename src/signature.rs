//! Webex webhook signatures: `X-Spark-Signature` is the lowercase hex HMAC-SHA1 of the raw body.

use hmac::{Hmac, Mac};
use sha1::Sha1;

pub const SIGNATURE_HEADER: &str = "x-spark-signature";

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Spark-Signature header is missing")]
    Missing,
    #[error("the X-Spark-Signature header is not a hex HMAC-SHA1")]
    Malformed,
    #[error("the signature does not match the body")]
    Mismatch,
}

/// A body whose signature has been checked: the receiver parses nothing else.
#[derive(Debug)]
pub struct VerifiedBody<'a>(&'a [u8]);

impl<'a> VerifiedBody<'a> {
    pub fn bytes(&self) -> &'a [u8] {
        self.0
    }
}

/// Checks `header` against the HMAC of exactly the bytes received, in constant time.
pub fn verify<'a>(
    body: &'a [u8],
    header: Option<&str>,
    secret: &[u8],
) -> Result<VerifiedBody<'a>, SignatureError> {
    let header = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(SignatureError::Missing)?;
    let expected = hex::decode(header).map_err(|_| SignatureError::Malformed)?;
    if expected.len() != 20 {
        return Err(SignatureError::Malformed);
    }
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)?;
    Ok(VerifiedBody(body))
}

/// The header value Webex would send for `body` (used by `webhook-setup send-test` and tests).
pub fn sign(body: &[u8], secret: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(secret).unwrap_or_else(|_| unreachable!());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_vector_verifies() {
        // HMAC-SHA1("key", "The quick brown fox jumps over the lazy dog")
        let body = b"The quick brown fox jumps over the lazy dog";
        let sig = "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9";
        assert_eq!(sign(body, b"key"), sig);
        assert!(verify(body, Some(sig), b"key").is_ok());
        assert!(verify(body, Some(&sig.to_uppercase()), b"key").is_ok());
    }

    #[test]
    fn wrong_missing_or_malformed_signatures_are_refused() {
        let body = br#"{"id":"x"}"#;
        let good = sign(body, b"secret");
        assert_eq!(
            verify(body, None, b"secret").err(),
            Some(SignatureError::Missing)
        );
        assert_eq!(
            verify(body, Some(""), b"secret").err(),
            Some(SignatureError::Missing)
        );
        assert_eq!(
            verify(body, Some("zz"), b"secret").err(),
            Some(SignatureError::Malformed)
        );
        assert_eq!(
            verify(body, Some("abcd"), b"secret").err(),
            Some(SignatureError::Malformed)
        );
        assert_eq!(
            verify(body, Some(&good), b"other").err(),
            Some(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(br#"{"id":"y"}"#, Some(&good), b"secret").err(),
            Some(SignatureError::Mismatch)
        );
    }
}
