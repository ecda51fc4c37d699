//! TLS for the gateway (`serve --tls-cert --tls-key`): the certificate and key files, the
//! listener that turns accepted TCP connections into TLS streams for axum, and the reload of a
//! renewed certificate.
//!
//! Every handshake asks [`CertStore`] for the current certificate, so a reload changes what new
//! connections get and leaves the open ones (and their streams) as they are. A new certificate
//! that cannot be read, parsed or paired with its key is refused and the old one kept.
//!
//! Cryptography comes from `ring`, as for the console's client side.

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Where the gateway's certificate and key are, and how often their files are looked at.
#[derive(Clone, Debug, PartialEq)]
pub struct TlsFiles {
    /// PEM: the server certificate first, then any intermediates.
    pub cert: PathBuf,
    /// PEM: the certificate's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// How often the files' modification times are compared; a change reloads them.
    pub poll: Duration,
}

impl TlsFiles {
    /// `cert` and `key`, looked at every five seconds.
    pub fn new(cert: PathBuf, key: PathBuf) -> Self {
        TlsFiles {
            cert,
            key,
            poll: Duration::from_secs(5),
        }
    }
}

/// Why a certificate and key could not be used. At start this stops the gateway; on reload the
/// old certificate stays.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is not valid PEM: {reason}", path.display())]
    BadPem { path: PathBuf, reason: String },
    #[error("{} holds no PEM certificate", path.display())]
    NoCertificate { path: PathBuf },
    #[error("{} holds no PEM private key: {reason}", path.display())]
    NoKey { path: PathBuf, reason: String },
    #[error("the key {} cannot be used: {source}", path.display())]
    BadKey {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("the certificate {} does not go with the key {}: {source}", cert.display(), key.display())]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("cannot set up TLS: {0}")]
    Config(rustls::Error),
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Read and check the certificate chain and key in `files`.
pub fn load(files: &TlsFiles) -> Result<Arc<CertifiedKey>, CertError> {
    let cert_pem = read(&files.cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CertError::BadPem {
            path: files.cert.clone(),
            reason: e.to_string(),
        })?;
    if chain.is_empty() {
        return Err(CertError::NoCertificate {
            path: files.cert.clone(),
        });
    }
    let key_pem = read(&files.key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| CertError::NoKey {
        path: files.key.clone(),
        reason: e.to_string(),
    })?;
    let signing_key = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|source| CertError::BadKey {
            path: files.key.clone(),
            source,
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    // Parses the certificate too, so one that is not X.509 is refused here.
    certified
        .keys_match()
        .map_err(|source| CertError::Mismatch {
            cert: files.cert.clone(),
            key: files.key.clone(),
            source,
        })?;
    Ok(Arc::new(certified))
}

fn read(path: &Path) -> Result<Vec<u8>, CertError> {
    std::fs::read(path).map_err(|source| CertError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// The files' modification times, as last looked at.
type Stamps = (Option<SystemTime>, Option<SystemTime>);

fn stamps(files: &TlsFiles) -> Stamps {
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (modified(&files.cert), modified(&files.key))
}

/// The certificate handshakes are given, and the files it comes from.
#[derive(Debug)]
pub struct CertStore {
    files: TlsFiles,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' times when they were last loaded (or refused).
    seen: Mutex<Stamps>,
}

impl CertStore {
    /// Load `files`; an error here means the gateway cannot serve TLS at all.
    pub fn open(files: TlsFiles) -> Result<Arc<CertStore>, CertError> {
        let seen = stamps(&files);
        let current = load(&files)?;
        Ok(Arc::new(CertStore {
            files,
            current: RwLock::new(current),
            seen: Mutex::new(seen),
        }))
    }

    /// Load the files again. On success new connections get the new certificate; on failure
    /// the current one stays. Either way the outcome is logged.
    pub fn reload(&self) -> Result<(), CertError> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = stamps(&self.files);
        match load(&self.files) {
            Ok(certified) => {
                *self.current.write().unwrap_or_else(PoisonError::into_inner) = certified;
                tracing::info!(
                    cert = %self.files.cert.display(),
                    key = %self.files.key.display(),
                    "TLS certificate reloaded; new connections use it, open ones keep theirs"
                );
                Ok(())
            }
            Err(error) => {
                tracing::error!(
                    %error,
                    "the new TLS certificate is refused; still serving the previous one"
                );
                Err(error)
            }
        }
    }

    /// Reload if either file's modification time changed since the last load.
    pub fn reload_if_changed(&self) {
        let now = stamps(&self.files);
        let changed = *self.seen.lock().unwrap_or_else(PoisonError::into_inner) != now;
        if changed {
            // The outcome is logged; a refused certificate is tried again at the next change.
            let _ = self.reload();
        }
    }

    /// Look at the files every `files.poll`, forever.
    pub async fn watch(self: Arc<Self>) {
        let mut tick = tokio::time::interval(self.files.poll.max(Duration::from_millis(10)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let store = self.clone();
            // File I/O off the async workers.
            let _ = tokio::task::spawn_blocking(move || store.reload_if_changed()).await;
        }
    }

    fn current(&self) -> Arc<CertifiedKey> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl ResolvesServerCert for CertStore {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current())
    }
}

/// The rustls server configuration: certificates from `store`, HTTP/1.1 (the gateway's only
/// protocol, WebSocket upgrades included).
pub fn server_config(store: Arc<CertStore>) -> Result<Arc<rustls::ServerConfig>, CertError> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(CertError::Config)?
        .with_no_client_auth()
        .with_cert_resolver(store);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// How long a client may take from connecting to finishing the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshaken connections waiting for the server to take them.
const ACCEPT_QUEUE: usize = 128;

/// The answer to plain HTTP on the TLS port: a clear error instead of a reset connection.
const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.1 400 Bad Request\r\n\
content-type: application/json\r\n\
connection: close\r\n\
content-length: 108\r\n\
\r\n\
{\"error\":{\"code\":\"tls_required\",\"message\":\"this gateway serves TLS only: connect with https:// or wss://\"}}\n";

/// A TCP listener whose connections come out TLS-handshaken, for `axum::serve`. Handshakes run
/// on their own tasks, so a slow or silent client never holds up the others.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    acceptor: JoinHandle<()>,
}

impl TlsListener {
    pub fn new(listener: TcpListener, config: Arc<rustls::ServerConfig>) -> io::Result<Self> {
        let local = listener.local_addr()?;
        let (tx, ready) = mpsc::channel(ACCEPT_QUEUE);
        let acceptor = tokio::spawn(accept_loop(listener, TlsAcceptor::from(config), tx));
        Ok(TlsListener {
            local,
            ready,
            acceptor,
        })
    }
}

impl Drop for TlsListener {
    fn drop(&mut self) {
        // The server is done: stop accepting, so the port closes.
        self.acceptor.abort();
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accept loop only ends when this listener is dropped.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: back off rather than spin.
                tracing::warn!(%error, "cannot accept a connection");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake(&acceptor, socket)).await {
                Ok(Ok(Some(tls))) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Ok(None)) => {
                    tracing::info!(%peer, "plain HTTP on the TLS port; answered 400 tls_required");
                }
                Ok(Err(error)) => tracing::info!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

/// The TLS stream, or `None` when the client spoke plain HTTP (it has been answered).
async fn handshake(
    acceptor: &TlsAcceptor,
    mut socket: TcpStream,
) -> io::Result<Option<TlsStream<TcpStream>>> {
    let mut first = [0u8; 1];
    let n = socket.peek(&mut first).await?;
    // A TLS connection starts with a handshake record (0x16); HTTP with a method's letters.
    if n == 1 && first[0].is_ascii_uppercase() {
        socket.write_all(PLAIN_HTTP_ANSWER).await?;
        socket.shutdown().await?;
        return Ok(None);
    }
    acceptor.accept(socket).await.map(Some)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_http_answer_declares_its_body_length() {
        let text = std::str::from_utf8(PLAIN_HTTP_ANSWER).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let parsed: crate::protocol::ErrorBody = serde_json::from_str(body).unwrap();
        assert_eq!(parsed.error.code, "tls_required");
    }

    #[test]
    fn missing_files_and_files_without_pem_are_clear_errors() {
        let dir = std::env::temp_dir().join(format!("opsdeck-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let junk = dir.join("junk.pem");
        std::fs::write(&junk, "not a certificate\n").unwrap();
        let missing = TlsFiles::new(dir.join("none.pem"), junk.clone());
        let err = load(&missing).err().map(|e| e.to_string()).unwrap();
        assert!(
            err.starts_with("cannot read ") && err.contains("none.pem"),
            "{err}"
        );
        let no_cert = TlsFiles::new(junk.clone(), junk.clone());
        let err = load(&no_cert).err().map(|e| e.to_string()).unwrap();
        assert!(err.ends_with("junk.pem holds no PEM certificate"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
