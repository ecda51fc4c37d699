//! Whether `opsdeck serve` may listen where it was told to: anywhere but loopback, the gateway
//! needs TLS (nobody reads or changes its traffic) and tokens (nobody unknown acts through it).
//! Decided before anything binds.

use std::net::SocketAddr;

/// What protects the gateway's port.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Protection {
    pub tls: bool,
    pub tokens: bool,
    /// `--insecure-listen`: the operator accepts serving unprotected.
    pub insecure_listen: bool,
}

/// `Ok(None)`: listen. `Ok(Some(warning))`: listen, and say the warning at start and in
/// `/healthz`. `Err(message)`: refuse, saying why and how to proceed.
pub fn check_listen(addr: SocketAddr, protection: Protection) -> Result<Option<String>, String> {
    if addr.ip().to_canonical().is_loopback() {
        return Ok(None);
    }
    let missing = match (protection.tls, protection.tokens) {
        (true, true) => return Ok(None),
        (false, false) => "TLS and tokens",
        (false, true) => "TLS",
        (true, false) => "tokens",
    };
    if protection.insecure_listen {
        return Ok(Some(format!(
            "--insecure-listen: serving {addr}, not a loopback address, without {missing}; \
             anyone who can reach it can act on the platform as anyone"
        )));
    }
    let mut how = Vec::new();
    if !protection.tls {
        how.push("--tls-cert FILE --tls-key FILE");
    }
    if !protection.tokens {
        how.push("--tokens FILE");
    }
    Err(format!(
        "refusing to listen on {addr} without {missing}: it is not a loopback address, so \
         anyone who can reach it could scale, roll back, approve runbook steps and silence \
         alerts{}. Give {} (see docs/security.md), or listen on 127.0.0.1 behind your own \
         proxy, or pass --insecure-listen to accept the risk",
        if protection.tls {
            ""
        } else {
            ", and read or change the traffic on the way"
        },
        how.join(" and ")
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    const NOTHING: Protection = Protection {
        tls: false,
        tokens: false,
        insecure_listen: false,
    };

    #[test]
    fn loopback_needs_nothing() {
        for a in [
            "127.0.0.1:7070",
            "127.8.9.1:0",
            "[::1]:7070",
            "[::ffff:127.0.0.1]:1",
        ] {
            assert_eq!(check_listen(addr(a), NOTHING), Ok(None), "{a}");
        }
    }

    #[test]
    fn elsewhere_needs_tls_and_tokens() {
        for a in [
            "0.0.0.0:7070",
            "[::]:7070",
            "10.1.2.3:7070",
            "[::ffff:10.0.0.1]:1",
        ] {
            let err = check_listen(addr(a), NOTHING).unwrap_err();
            assert!(
                err.starts_with(&format!("refusing to listen on {}", addr(a))),
                "{err}"
            );
            assert!(err.contains("without TLS and tokens"), "{err}");
            assert!(
                err.contains("--tls-cert FILE --tls-key FILE and --tokens FILE"),
                "{err}"
            );
            assert!(err.contains("--insecure-listen"), "{err}");
        }
        let tls_only = Protection {
            tls: true,
            ..NOTHING
        };
        let err = check_listen(addr("0.0.0.0:1"), tls_only).unwrap_err();
        assert!(
            err.contains("without tokens") && err.contains("Give --tokens FILE ("),
            "{err}"
        );
        let tokens_only = Protection {
            tokens: true,
            ..NOTHING
        };
        let err = check_listen(addr("0.0.0.0:1"), tokens_only).unwrap_err();
        assert!(
            err.contains("without TLS:") && err.contains("Give --tls-cert"),
            "{err}"
        );
        let both = Protection {
            tls: true,
            tokens: true,
            ..NOTHING
        };
        assert_eq!(check_listen(addr("0.0.0.0:1"), both), Ok(None));
    }

    #[test]
    fn insecure_listen_serves_with_a_warning_only_when_unprotected() {
        let insecure = Protection {
            insecure_listen: true,
            ..NOTHING
        };
        let warning = check_listen(addr("0.0.0.0:7070"), insecure)
            .unwrap()
            .unwrap();
        assert!(
            warning.starts_with("--insecure-listen: serving 0.0.0.0:7070"),
            "{warning}"
        );
        assert!(warning.contains("without TLS and tokens"), "{warning}");
        assert_eq!(check_listen(addr("127.0.0.1:7070"), insecure), Ok(None));
        let all = Protection {
            tls: true,
            tokens: true,
            insecure_listen: true,
        };
        assert_eq!(check_listen(addr("0.0.0.0:7070"), all), Ok(None));
    }
}
