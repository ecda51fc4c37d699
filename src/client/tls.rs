//! TLS for the console's links to a gateway: one rustls client configuration, shared by the
//! stream driver (`wss://`) and the HTTP driver (`https://`), so both trust the same roots —
//! the system's, plus an optional extra CA from `--ca-cert`.
//!
//! Cryptography comes from `ring` (no C++ toolchain needed to build).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

/// Why the TLS configuration could not be built. Each one stops the console at startup.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the CA certificate {}: {source}", path.display())]
    ReadCa {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the CA certificate {} is not valid PEM: {reason}", path.display())]
    BadPem { path: PathBuf, reason: String },
    #[error("the CA certificate {} holds no PEM certificate", path.display())]
    NoCertificate { path: PathBuf },
    #[error("the CA certificate {} cannot be used as a root: {source}", path.display())]
    Rejected {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Config(rustls::Error),
}

/// Make `ring` the process-wide rustls provider, for code that builds TLS clients without an
/// explicit one (reqwest clients elsewhere). Calling it again does nothing.
pub fn install_crypto_provider() {
    // Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The client configuration: system roots, plus the PEM certificates in `ca_cert` if given.
pub fn client_config(ca_cert: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for error in &native.errors {
        tracing::warn!(%error, "some system root certificates could not be loaded");
    }
    let (added, ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, ignored, "system root certificates");
    if let Some(path) = ca_cert {
        for cert in read_pem_certificates(path)? {
            roots.add(cert).map_err(|source| TlsError::Rejected {
                path: path.to_path_buf(),
                source,
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn read_pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::ReadCa {
        path: path.to_path_buf(),
        source,
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadPem {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_ca_file_is_a_clear_error() {
        let err = client_config(Some(Path::new("/nonexistent/ca.pem")))
            .err()
            .map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("cannot read the CA certificate /nonexistent/ca.pem")),
            "{err:?}"
        );
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn a_file_without_certificates_is_a_clear_error() {
        let path =
            std::env::temp_dir().join(format!("opsdeck-not-a-ca-{}.pem", std::process::id()));
        std::fs::write(&path, "hello, not a certificate\n").unwrap();
        let err = client_config(Some(&path)).err().map(|e| e.to_string());
        let _ = std::fs::remove_file(&path);
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("holds no PEM certificate")),
            "{err:?}"
        );
    }

    #[test]
    fn without_an_extra_ca_the_system_roots_are_used() {
        assert!(client_config(None).is_ok());
    }
}
