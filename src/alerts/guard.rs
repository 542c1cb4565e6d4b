//! The SSRF guard: alerts go to public addresses only, unless the operator allows private ones
//! (`ALERT_ALLOW_PRIVATE=true`). The name is resolved here and the request is pinned to the
//! checked addresses, so a DNS answer that changes between check and connect cannot slip by.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::Url;

use super::DeliveryError;

/// Whether an address is loopback, private, link-local or otherwise not on the public internet:
/// everything the IANA special-purpose registries do not mark globally reachable, and an IPv6
/// address that carries an IPv4 one (mapped, compatible, NAT64, 6to4) is judged by that.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, d] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                // Carrier-grade NAT 100.64.0.0/10, IETF protocol assignments 192.0.0.0/24,
                // benchmarking 198.18.0.0/15, reserved 240.0.0.0/4.
                || (a == 100 && (64..128).contains(&b))
                // (but for its two global anycast addresses, .9 and .10)
                || (a == 192 && b == 0 && c == 0 && !matches!(d, 9 | 10))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = embedded_ipv4(v6) {
                return is_private(IpAddr::V4(v4));
            }
            // Only global unicast, 2000::/3, is on the internet; within it not the IETF protocol
            // assignments 2001::/23 (Teredo among them; a few are global, below) nor the
            // documentation prefixes 2001:db8::/32 and 3fff::/20.
            let [first, second, third, ..] = v6.segments();
            let global_assignment = match second {
                // 2001:1::1/128, 2001:1::2/128, 2001:1::3/128 (anycast services).
                0x0001 => matches!(v6.segments()[2..], [0, 0, 0, 0, 0, 1..=3]),
                // AMT 2001:3::/32, AS112 2001:4:112::/48, ORCHIDv2 2001:20::/28, DETs 2001:30::/28.
                0x0003 => true,
                0x0004 => third == 0x0112,
                0x0020..=0x003f => true,
                _ => false,
            };
            (first & 0xe000) != 0x2000
                || (first == 0x2001 && second < 0x0200 && !global_assignment)
                || (first == 0x2001 && second == 0x0db8)
                || (first & 0xfff0) == 0x3ff0
        }
    }
}

/// The IPv4 address an IPv6 one stands for: IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible
/// `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d`, 6to4 `2002:aabb:ccdd::`.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let from = |high: u16, low: u16| Ipv4Addr::from((u32::from(high) << 16) | u32::from(low));
    match s {
        [0, 0, 0, 0, 0, 0xffff, high, low] | [0x64, 0xff9b, 0, 0, 0, 0, high, low] => {
            Some(from(high, low))
        }
        // `::` and `::1` are IPv6's own unspecified and loopback addresses, judged as such.
        [0, 0, 0, 0, 0, 0, high, low] if high != 0 => Some(from(high, low)),
        [0x2002, high, low, ..] => Some(from(high, low)),
        _ => None,
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
            "198.18.0.1",
            "198.19.255.1",
            "192.0.0.1",
            "192.0.2.1",
            "240.0.0.1",
            "224.0.0.1",
            "0.1.2.3",
            "64:ff9b::7f00:1",
            "2002:7f00:1::",
            "2002:a00:1::",
            "::127.0.0.1",
            "::",
            "2001:db8::1",
            "2001::1",
            "ff02::1",
            "100::1",
            "3fff::1",
            "3fff:fff:ffff::1",
            "2001:2::1",
        ] {
            assert!(is_private(ip.parse().expect("ip")), "{ip}");
        }
        for ip in [
            "8.8.8.8",
            "151.101.1.1",
            "2606:4700::1111",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "192.0.0.9",
            "192.0.0.10",
            "2001:1::1",
            "2001:3::1",
            "2001:4:112::1",
            "2001:20::1",
            "2001:30::1",
            "2001:200::1",
        ] {
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
