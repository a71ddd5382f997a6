//! HTTPS serving, client certificates, and certificate rotation without a restart.
//!
//! `server.rs` binds with [`server_config`] when `--tls-cert`/`--tls-key` are given. A running
//! actix server keeps the `ServerConfig` it was bound with, so nothing in it may be replaced;
//! instead the two parts that change when certificates rotate are indirections read on every
//! handshake: [`Certificates`] (the served certificate chain and key, rustls's
//! `ResolvesServerCert`) and [`ClientCa`] (the `--tls-client-ca` verifier, rustls's
//! `ClientCertVerifier`). A thread polls the files' metadata every second and swaps in what
//! they hold when they change; a new file that does not load (bad PEM, a key that does not
//! match the certificate, written half-way) keeps the old contents and logs why. Connections
//! already open keep the certificate they were made with.
//!
//! With `--tls-client-ca`, [`on_connect`] puts the client certificate's subject CN in the
//! connection's data as a [`TlsPrincipal`], for authentication to read with
//! `HttpRequest::conn_data` (it is in the per-request log line too).
//!
//! `schemata health` asks its own server over https with [`pinned_client_config`].
//!
//! rustls runs on `ring`, the provider ureq and reqwest already bring (no aws-lc-rs build).

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};
use std::time::{Duration, SystemTime};

use actix_tls::accept::rustls_0_23::TlsStream;
use actix_web::dev::Extensions;
use actix_web::rt::net::TcpStream;
use parking_lot::RwLock;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};

/// How often the certificate files are looked at.
const POLL: Duration = Duration::from_secs(1);

/// Who made a request over mutual TLS: the subject CN of the client certificate. Set per
/// connection; read it with `req.conn_data::<TlsPrincipal>()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPrincipal(pub String);

/// The rustls provider of everything TLS in Schemata (one, so that no process-wide default
/// has to be installed).
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server's TLS configuration, and the thread that reloads its files. Errors name the
/// flag and file at fault.
pub fn server_config(cert: &Path, key: &Path, client_ca: Option<&Path>) -> Result<ServerConfig, String> {
    let provider = provider();
    let certificates = Arc::new(Certificates { current: RwLock::new(Arc::new(load_pair(cert, key, &provider)?)) });
    let client_ca = match client_ca {
        Some(ca) => {
            Some((ca.to_path_buf(), Arc::new(ClientCa { current: RwLock::new(load_client_ca(ca, &provider)?) })))
        }
        None => None,
    };
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let builder = match &client_ca {
        Some((_, verifier)) => builder.with_client_cert_verifier(verifier.clone()),
        None => builder.with_no_client_auth(),
    };
    let config = builder.with_cert_resolver(certificates.clone());
    let watcher = Watcher {
        cert: Watched::new(cert),
        key: Watched::new(key),
        certificates: Arc::downgrade(&certificates),
        client_ca: client_ca.map(|(path, verifier)| (Watched::new(&path), Arc::downgrade(&verifier))),
        provider,
    };
    std::thread::Builder::new()
        .name("tls-reload".into())
        .spawn(move || watcher.run())
        .map_err(|e| format!("TLS: cannot start the reload thread: {e}"))?;
    Ok(config)
}

/// actix's `on_connect` hook: records the client certificate's CN as the connection's
/// [`TlsPrincipal`]. A certificate without a CN gives no principal.
pub fn on_connect(conn: &dyn Any, data: &mut Extensions) {
    let Some(tls) = conn.downcast_ref::<TlsStream<TcpStream>>() else { return };
    let Some(cert) = tls.get_ref().1.peer_certificates().and_then(|chain| chain.first()) else { return };
    match common_name(cert) {
        Some(cn) => {
            data.insert(TlsPrincipal(cn));
        }
        None => tracing::warn!("the client certificate has no subject CN: its requests have no principal"),
    }
}

/// The first subject CN of a certificate.
pub fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let cn = parsed.subject().iter_common_name().next()?.as_str().ok()?.to_string();
    Some(cn)
}

/// Every certificate in a PEM file; an error (naming `flag` and the file) when there is
/// none or one does not parse.
pub fn load_certs(flag: &str, path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bad = |why: String| format!("{flag} {}: {why}", path.display());
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(format!("not a PEM certificate file ({e})")))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(certs)
}

/// The certificate chain of `cert` with the key of `key`, checked to belong together.
fn load_pair(cert: &Path, key: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, String> {
    let chain = load_certs("--tls-cert", cert)?;
    let bad_key = |why: String| format!("--tls-key {}: {why}", key.display());
    let pem = std::fs::read(key).map_err(|e| bad_key(e.to_string()))?;
    let der = PrivateKeyDer::from_pem_slice(&pem).map_err(|e| bad_key(format!("no PEM private key in it ({e})")))?;
    CertifiedKey::from_der(chain, der, provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => {
            format!("--tls-key {} is not the key of the certificate in --tls-cert {}", key.display(), cert.display())
        }
        e => format!("--tls-cert {} / --tls-key {}: {e}", cert.display(), key.display()),
    })
}

/// A verifier requiring a client certificate issued by a CA of `path`.
fn load_client_ca(path: &Path, provider: &Arc<CryptoProvider>) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs("--tls-client-ca", path)? {
        roots.add(cert).map_err(|e| format!("--tls-client-ca {}: {e}", path.display()))?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("--tls-client-ca {}: {e}", path.display()))
}

/// The served certificate: what the files held when they last loaded.
#[derive(Debug)]
struct Certificates {
    current: RwLock<Arc<CertifiedKey>>,
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.read().clone())
    }
}

/// The `--tls-client-ca` verifier of the moment. It sends clients no CA names to choose a
/// certificate by (the list would have to outlive a reload): a client then sends the one
/// it has, as TLS prescribes for an empty list.
#[derive(Debug)]
struct ClientCa {
    current: RwLock<Arc<dyn ClientCertVerifier>>,
}

impl ClientCa {
    fn get(&self) -> Arc<dyn ClientCertVerifier> {
        self.current.read().clone()
    }
}

impl ClientCertVerifier for ClientCa {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.get().verify_client_cert(end_entity, intermediates, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get().verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.get().verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.get().supported_verify_schemes()
    }
}

/// A file and what its metadata was when last looked at.
struct Watched {
    path: PathBuf,
    seen: Option<Stamp>,
}

/// Modification time, size and inode: a file replaced by a rename (as Kubernetes updates a
/// mounted secret, through a symlink) changes inode even within one mtime tick.
type Stamp = (SystemTime, u64, u64);

impl Watched {
    fn new(path: &Path) -> Watched {
        let mut watched = Watched { path: path.to_path_buf(), seen: None };
        watched.changed();
        watched
    }

    /// Whether the file's metadata differs from the last look (a file that cannot be read is
    /// no change: it is being replaced, or gone, and the current contents stay).
    fn changed(&mut self) -> bool {
        let Some(stamp) = stamp(&self.path) else { return false };
        let changed = self.seen != Some(stamp);
        self.seen = Some(stamp);
        changed
    }
}

fn stamp(path: &Path) -> Option<Stamp> {
    let meta = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    #[cfg(not(unix))]
    let inode = 0;
    Some((meta.modified().ok()?, meta.len(), inode))
}

/// The reload loop's state; it ends when the server's configuration is dropped.
struct Watcher {
    cert: Watched,
    key: Watched,
    certificates: Weak<Certificates>,
    client_ca: Option<(Watched, Weak<ClientCa>)>,
    provider: Arc<CryptoProvider>,
}

impl Watcher {
    fn run(mut self) {
        loop {
            std::thread::sleep(POLL);
            let Some(certificates) = self.certificates.upgrade() else { return };
            // Both are looked at: a pair written one file after the other loads once the
            // second is in place (the first gives a warning of a mismatch).
            let (cert_changed, key_changed) = (self.cert.changed(), self.key.changed());
            if cert_changed || key_changed {
                match load_pair(&self.cert.path, &self.key.path, &self.provider) {
                    Ok(pair) => {
                        *certificates.current.write() = Arc::new(pair);
                        tracing::info!(cert = %self.cert.path.display(), "TLS certificate reloaded");
                    }
                    Err(e) => tracing::warn!("TLS certificate not reloaded, the current one stays: {e}"),
                }
            }
            if let Some((watched, verifier)) = &mut self.client_ca {
                let Some(verifier) = verifier.upgrade() else { return };
                if watched.changed() {
                    match load_client_ca(&watched.path, &self.provider) {
                        Ok(new) => {
                            *verifier.current.write() = new;
                            tracing::info!(client_ca = %watched.path.display(), "TLS client CA reloaded");
                        }
                        Err(e) => tracing::warn!("TLS client CA not reloaded, the current one stays: {e}"),
                    }
                }
            }
        }
    }
}

/// A client configuration trusting only a server that presents the certificate of
/// `server_cert` (`schemata health` asking its own server), with an optional client
/// certificate and key.
pub fn pinned_client_config(server_cert: &Path, client: Option<(&Path, &Path)>) -> Result<ClientConfig, String> {
    let provider = provider();
    let pinned = Pinned {
        cert: load_certs("--tls-cert", server_cert)?.swap_remove(0),
        path: server_cert.to_path_buf(),
        provider: provider.clone(),
    };
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(pinned));
    match client {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => {
            let chain = load_certs("--client-cert", cert)?;
            let pem = std::fs::read(key).map_err(|e| format!("--client-key {}: {e}", key.display()))?;
            let key_der = PrivateKeyDer::from_pem_slice(&pem)
                .map_err(|e| format!("--client-key {}: no PEM private key in it ({e})", key.display()))?;
            builder.with_client_auth_cert(chain, key_der).map_err(|e| format!("--client-cert {}: {e}", cert.display()))
        }
    }
}

/// Trusts one certificate, whatever its issuer and names; the server must still prove it
/// holds the key (the handshake signatures are checked).
#[derive(Debug)]
struct Pinned {
    cert: CertificateDer<'static>,
    path: PathBuf,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.cert.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!("the server's certificate is not the one in {}", self.path.display())))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}
