//! A test certificate authority made with rcgen, and gateways that serve TLS with its
//! certificates (for `localhost` and `127.0.0.1`), all on loopback. Nothing here is trusted
//! beyond the test that made it.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use opsdeck::gateway::{GatewayConfig, Running, TlsFiles};
use opsdeck::platform::sim::{SimConfig, SimPlatform};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
    SerialNumber,
};

use super::gateway::loopback_config;

/// A certificate authority of the test's own.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A server certificate and its key, PEM.
pub struct Issued {
    pub cert_pem: String,
    pub key_pem: String,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    /// The CA certificate, PEM: what a client passes to `--ca-cert`.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Write the CA certificate to `dir/name` and return its path.
    pub fn write(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, self.pem()).unwrap();
        path
    }

    /// A server certificate for `localhost` and `127.0.0.1`, numbered `serial`, with a new key.
    pub fn issue(&self, serial: u64) -> Issued {
        let mut params =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()]).unwrap();
        params.serial_number = Some(SerialNumber::from(serial));
        params
            .distinguished_name
            .push(DnType::CommonName, format!("opsdeck test gateway {serial}"));
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// The cert and key files in `dir`, looked at every `poll`.
pub fn files_in(dir: &Path, poll: Duration) -> TlsFiles {
    TlsFiles {
        cert: dir.join("gateway.pem"),
        key: dir.join("gateway-key.pem"),
        poll,
    }
}

/// Put `issued` in place of `files`, each file replaced at once (written aside, then renamed),
/// as certificate renewal tools do.
pub fn install(files: &TlsFiles, issued: &Issued) {
    replace(&files.key, issued.key_pem.as_bytes());
    replace(&files.cert, issued.cert_pem.as_bytes());
}

/// Replace `path` with `bytes` in one rename.
pub fn replace(path: &Path, bytes: &[u8]) {
    let aside = path.with_extension("new");
    std::fs::write(&aside, bytes).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

/// A simulator gateway on 127.0.0.1:0 serving TLS from `files`.
pub async fn start_tls_sim(files: &TlsFiles) -> Running {
    let config = GatewayConfig {
        tls: Some(files.clone()),
        ..loopback_config()
    };
    let sim = SimPlatform::new(SimConfig {
        seed: 5,
        speed: 20.0,
        ..SimConfig::default()
    });
    super::gateway::start(config, Arc::new(sim)).await
}

/// The console's TLS client configuration: system roots plus `ca`, if given.
pub fn client_tls(ca: Option<&Path>) -> Arc<rustls::ClientConfig> {
    opsdeck::client::tls::client_config(ca).unwrap()
}
