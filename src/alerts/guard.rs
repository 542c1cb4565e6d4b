//! The SSRF guard: alerts go to public addresses only, unless the operator allows private ones
//! (`ALERT_ALLOW_PRIVATE=true`). The name is resolved here and the request is pinned to the
//! checked addresses, so a DNS answer that changes between check and connect cannot slip by.

use std::net::{IpAddr, SocketAddr};

use url::Url;

use super::DeliveryError;

/// Whether an address is loopback, private, link-local or otherwise not on the public internet.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                // Carrier-grade NAT, 100.64.0.0/10.
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                // Unique local fc00::/7 and link-local fe80::/10.
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The addresses `url` resolves to, refused when one of them is private and that is not allowed.
pub async fn check_destination(
    url: &Url,
    allow_private: bool,
) -> Result<Vec<SocketAddr>, DeliveryError> {
    let host = url
        .host_str()
        .ok_or_else(|| DeliveryError::Refused("the alert URL has no host".into()))?;
    let port = url
        .port_or_known_default()
        .ok_or_else(|| DeliveryError::Refused("the alert URL has no port".into()))?;
    // `host_str` keeps the brackets of an IPv6 literal; lookup_host wants it bare.
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| DeliveryError::Network(format!("cannot resolve {host}: {e}")))?
        .collect();
    if addrs.is_empty() {
        return Err(DeliveryError::Network(format!("{host} has no address")));
    }
    if !allow_private && addrs.iter().any(|a| is_private(a.ip())) {
        return Err(DeliveryError::Refused(format!(
            "{host} resolves to a loopback, private or link-local address; \
             set ALERT_ALLOW_PRIVATE=true to allow it"
        )));
    }
    Ok(addrs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_ranges_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().expect("ip")), "{ip}");
        }
        for ip in ["8.8.8.8", "151.101.1.1", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().expect("ip")), "{ip}");
        }
    }

    #[tokio::test]
    async fn a_loopback_url_is_refused_unless_allowed() {
        let url = Url::parse("http://localhost:9/hook").expect("url");
        assert!(matches!(
            check_destination(&url, false).await,
            Err(DeliveryError::Refused(_))
        ));
        assert!(check_destination(&url, true).await.is_ok());
        let literal = Url::parse("http://[::1]:9/hook").expect("url");
        assert!(matches!(
            check_destination(&literal, false).await,
            Err(DeliveryError::Refused(_))
        ));
    }
}
