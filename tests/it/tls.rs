//! HTTPS serving: the real binary with certificates made here (rcgen) for 127.0.0.1 and
//! localhost, asked with reqwest over rustls trusting only the test CA. Client certificates
//! (mutual TLS, the CN as the request's principal), certificate files replaced under a
//! running server, startup errors, `schemata health` over https, and a follower forwarding
//! writes to an https:// leader.

use std::path::PathBuf;
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::common::*;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use reqwest::blocking::Client;
use reqwest::tls::TlsInfo;
use serde_json::Value;
use tempfile::TempDir;

/// A certificate authority of the test.
struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate and its key, PEM, and the certificate's DER.
struct Leaf {
    cert: String,
    key: String,
    der: Vec<u8>,
}

impl Ca {
    fn new(name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("CA");
        Ca { issuer }
    }

    fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for 127.0.0.1 and localhost.
    fn server(&self, cn: &str) -> Leaf {
        self.leaf(cn, &["127.0.0.1", "localhost"], ExtendedKeyUsagePurpose::ServerAuth)
    }

    /// A client certificate of subject CN `cn`.
    fn client(&self, cn: &str) -> Leaf {
        self.leaf(cn, &[], ExtendedKeyUsagePurpose::ClientAuth)
    }

    fn leaf(&self, cn: &str, names: &[&str], usage: ExtendedKeyUsagePurpose) -> Leaf {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![usage];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &self.issuer).expect("sign");
        Leaf { cert: cert.pem(), key: key.serialize_pem(), der: cert.der().to_vec() }
    }
}

/// A directory of PEM files for one server.
struct Files {
    dir: TempDir,
}

impl Files {
    fn new() -> Files {
        Files { dir: TempDir::new().expect("temp dir") }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `name` and returns its path as an argument.
    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.path(name), text).expect("write");
        self.arg(name)
    }

    fn arg(&self, name: &str) -> String {
        self.path(name).to_str().expect("utf-8 path").to_string()
    }

    /// Writes the server pair; returns `--tls-cert C --tls-key K`.
    fn server_pair(&self, leaf: &Leaf) -> Vec<String> {
        let cert = self.write("server.pem", &leaf.cert);
        let key = self.write("server.key", &leaf.key);
        vec!["--tls-cert".into(), cert, "--tls-key".into(), key]
    }
}

/// A client trusting only `ca`, presenting `identity` if given, with no pooled
/// connections (each request makes a new handshake) and the peer's certificate recorded.
fn client(ca: &Ca, identity: Option<&Leaf>) -> Client {
    let mut builder = Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).expect("CA"))
        .tls_info(true)
        .pool_max_idle_per_host(0)
        .no_proxy()
        .timeout(Duration::from_secs(10));
    if let Some(leaf) = identity {
        let pem = format!("{}{}", leaf.cert, leaf.key);
        builder = builder.identity(reqwest::Identity::from_pem(pem.as_bytes()).expect("identity"));
    }
    builder.build().expect("client")
}

/// `GET url` on a new connection: the status and the DER of the certificate the server
/// presented, or the error with its causes.
fn get(client: &Client, url: &str) -> Result<(u16, Vec<u8>), String> {
    let r = client.get(url).send().map_err(|e| {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(&e);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    })?;
    let der = r.extensions().get::<TlsInfo>().and_then(|t| t.peer_certificate()).map(<[u8]>::to_vec);
    Ok((r.status().as_u16(), der.unwrap_or_default()))
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Waits (bounded) until `f` holds.
fn eventually(what: &str, within: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !f() {
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        sleep(Duration::from_millis(100));
    }
}

#[test]
fn https_is_served_with_the_configured_certificate_and_plain_http_is_refused() {
    let ca = Ca::new("Test CA");
    let leaf = ca.server("schemata");
    let files = Files::new();
    let server = Server::start_https(&args(&files.server_pair(&leaf)), &[], client(&ca, None));

    server.register("tls-value", USER_V1);
    assert_eq!(server.get("/subjects").1, serde_json::json!(["tls-value"]));
    let (status, der) = get(&client(&ca, None), &server.url("/")).expect("https");
    assert_eq!((status, der == leaf.der), (200, true));
    // The name is checked: localhost is in the certificate, and so it is accepted too.
    let by_name = format!("https://localhost:{}/", server.port());
    assert_eq!(get(&client(&ca, None), &by_name).map(|r| r.0), Ok(200));

    // Plain HTTP to the TLS port gets no HTTP answer.
    let plain = Client::builder().no_proxy().timeout(Duration::from_secs(5)).build().expect("client");
    let http = format!("http://127.0.0.1:{}/", server.port());
    assert!(plain.get(&http).send().is_err(), "plain HTTP was answered on the TLS port");
    // A client that does not trust the CA refuses the server.
    let other = client(&Ca::new("Other CA"), None);
    let refused = get(&other, &server.url("/")).expect_err("a server of an untrusted CA was accepted");
    assert!(refused.contains("certificate"), "{refused}");
}

#[test]
fn client_certificates_are_required_and_their_cn_is_the_principal() {
    let ca = Ca::new("Test CA");
    let files = Files::new();
    let mut pair = files.server_pair(&ca.server("schemata"));
    let client_ca = Ca::new("Client CA");
    pair.extend(["--tls-client-ca".into(), files.write("clients.pem", &client_ca.pem())]);
    let alice = client_ca.client("alice");
    let server = Server::start_https(&args(&pair), &[("RUST_LOG", "info")], client(&ca, Some(&alice)));

    assert_eq!(get(&client(&ca, Some(&alice)), &server.url("/subjects")).map(|r| r.0), Ok(200));
    let log = server.log();
    assert!(
        log.lines().any(|l| l.contains("/subjects") && l.contains("principal=\"alice\"")),
        "no request logged with alice's principal:\n{log}"
    );
    // No certificate, or one of another CA: the handshake is refused.
    assert!(get(&client(&ca, None), &server.url("/")).is_err(), "a client without a certificate was served");
    let mallory = Ca::new("Client CA").client("alice");
    assert!(get(&client(&ca, Some(&mallory)), &server.url("/")).is_err(), "a certificate of another CA was accepted");

    // A new client CA applies to new connections within seconds: alice's CA is no longer
    // trusted, bob's is.
    let other_ca = Ca::new("Other client CA");
    let bob = other_ca.client("bob");
    files.write("clients.pem", &other_ca.pem());
    eventually("the new client CA", Duration::from_secs(5), || get(&client(&ca, Some(&bob)), &server.url("/")).is_ok());
    assert!(get(&client(&ca, Some(&alice)), &server.url("/")).is_err(), "the old client CA is still trusted");
    // A broken CA file keeps the one in force.
    files.write("clients.pem", "not a certificate\n");
    eventually("a warning about the broken client CA", Duration::from_secs(5), || {
        server.log().contains("TLS client CA not reloaded")
    });
    assert_eq!(get(&client(&ca, Some(&bob)), &server.url("/")).map(|r| r.0), Ok(200));
    let log = server.log();
    assert!(log.lines().any(|l| l.contains("principal=\"bob\"")), "no request logged with bob's principal:\n{log}");
}

#[test]
fn replaced_certificate_files_are_served_without_a_restart_and_broken_ones_are_not() {
    let ca = Ca::new("Test CA");
    let first = ca.server("first");
    let files = Files::new();
    let server = Server::start_https(&args(&files.server_pair(&first)), &[], client(&ca, None));
    let served = || get(&client(&ca, None), &server.url("/")).expect("https").1;
    assert!(served() == first.der);

    // A connection kept open across the change keeps its certificate; new ones get the new.
    let kept = Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).expect("CA"))
        .tls_info(true)
        .build()
        .expect("client");
    assert!(get(&kept, &server.url("/")).expect("https").1 == first.der);

    let second = ca.server("second");
    files.server_pair(&second);
    let started = Instant::now();
    eventually("the new certificate", Duration::from_secs(5), || served() == second.der);
    println!("new certificate served after {:?}", started.elapsed());
    assert!(get(&kept, &server.url("/")).expect("https").1 == first.der, "the open connection changed");

    // A certificate whose key is not in the key file, then a file that is no PEM at all:
    // each is refused with a warning, and the second pair is served all along. (Writing the
    // pair above may have given a warning already, if the reload came between the files.)
    let warnings = || server.log().matches("TLS certificate not reloaded").count();
    let before = warnings();
    files.write("server.pem", &ca.server("third").cert);
    eventually("a warning about the mismatched pair", Duration::from_secs(5), || warnings() > before);
    assert!(server.log().contains("is not the key of the certificate"), "{}", server.log());
    assert!(served() == second.der);
    let before = warnings();
    files.write("server.pem", "-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n");
    eventually("a warning about the broken file", Duration::from_secs(5), || warnings() > before);
    assert!(served() == second.der);
    assert_eq!(server.get("/subjects").0, 200);
    let log = server.log();
    assert!(log.contains(files.path("server.pem").to_str().unwrap()), "the warnings do not name the file:\n{log}");
}

#[test]
fn unusable_certificate_files_at_start_are_errors_naming_the_file() {
    let ca = Ca::new("Test CA");
    let files = Files::new();
    let leaf = ca.server("schemata");
    let cert = files.write("server.pem", &leaf.cert);
    let other_key = files.write("other.key", &ca.server("other").key);
    let data = TempDir::new().expect("temp dir");

    let cases: Vec<(Vec<String>, String)> = vec![
        (
            vec!["--tls-cert".into(), cert.clone(), "--tls-key".into(), other_key.clone()],
            format!("--tls-key {other_key} is not the key of the certificate in --tls-cert {cert}"),
        ),
        (
            vec!["--tls-cert".into(), files.arg("missing.pem"), "--tls-key".into(), other_key.clone()],
            format!("--tls-cert {}", files.arg("missing.pem")),
        ),
        (
            vec!["--tls-cert".into(), files.write("empty.pem", "nothing\n"), "--tls-key".into(), other_key.clone()],
            format!("--tls-cert {}: no PEM certificate in it", files.arg("empty.pem")),
        ),
        (
            vec!["--tls-cert".into(), cert.clone(), "--tls-key".into(), cert.clone()],
            format!("--tls-key {cert}: no PEM private key in it"),
        ),
        (
            vec![
                "--tls-cert".into(),
                cert.clone(),
                "--tls-key".into(),
                files.write("server.key", &leaf.key),
                "--tls-client-ca".into(),
                files.write("bad-ca.pem", "nothing\n"),
            ],
            format!("--tls-client-ca {}: no PEM certificate in it", files.arg("bad-ca.pem")),
        ),
    ];
    for (args, expected) in cases {
        let (status, stderr) = run_expecting_exit_with(data.path(), &args);
        assert!(!status.success(), "{args:?} started");
        assert!(stderr.contains(&expected), "{args:?}: expected {expected:?} in:\n{stderr}");
    }
    // The key flag alone is refused by the command line.
    let (status, stderr) = run_expecting_exit_with(data.path(), &["--tls-key".into(), other_key]);
    assert!(!status.success() && stderr.contains("--tls-cert"), "{stderr}");
}

/// `schemata health` with the given arguments: its exit code and stderr.
fn health(args: &[&str]) -> (i32, String) {
    let out = Command::new(binary())
        .arg("health")
        .args(args)
        .env_remove("SCHEMATA_TLS_CERT")
        .env_remove("SCHEMATA_LISTEN")
        .output()
        .expect("run schemata health");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn health_asks_over_https_trusting_exactly_the_configured_certificate() {
    let ca = Ca::new("Test CA");
    let files = Files::new();
    let mut pair = files.server_pair(&ca.server("schemata"));
    let server = Server::start_https(&args(&pair), &[], client(&ca, None));
    let listen = format!("127.0.0.1:{}", server.port());
    let cert = files.arg("server.pem");

    assert_eq!(health(&["--listen", &listen, "--tls-cert", &cert]), (0, String::new()));
    let (code, stderr) = health(&["--listen", &listen]);
    assert_eq!(code, 1, "plain http health passed against a TLS port");
    assert!(stderr.starts_with("not ready"), "{stderr}");
    // Another certificate, even of the same CA, is not the server's.
    let other = files.write("other.pem", &ca.server("schemata").cert);
    let (code, stderr) = health(&["--listen", &listen, "--tls-cert", &other]);
    assert_eq!(code, 1);
    assert!(stderr.contains("is not the one in"), "{stderr}");
    drop(server);

    // A server requiring client certificates: health presents one.
    let client_ca = Ca::new("Client CA");
    let probe = client_ca.client("health");
    pair.extend(["--tls-client-ca".into(), files.write("clients.pem", &client_ca.pem())]);
    let server = Server::start_https(&args(&pair), &[], client(&ca, Some(&probe)));
    let listen = format!("127.0.0.1:{}", server.port());
    let (code, _) = health(&["--listen", &listen, "--tls-cert", &cert]);
    assert_eq!(code, 1, "health passed without a client certificate");
    let (client_cert, client_key) = (files.write("probe.pem", &probe.cert), files.write("probe.key", &probe.key));
    let with_cert =
        ["--listen", &listen, "--tls-cert", &cert, "--client-cert", &client_cert, "--client-key", &client_key];
    assert_eq!(health(&with_cert), (0, String::new()));
}

/// The state `/health/ready` reports.
fn ready(s: &Server) -> Value {
    s.raw("GET", "/health/ready", None, None, &[]).json
}

#[test]
fn a_follower_forwards_writes_to_an_https_leader_whose_ca_it_trusts() {
    let broker = Broker::start();
    let topic = fresh_topic();
    let ca = Ca::new("Cluster CA");
    let (leader_files, follower_files) = (Files::new(), Files::new());
    let node_args = |files: &Files, extra: &[&str]| -> Vec<String> {
        let mut v = files.server_pair(&ca.server("node"));
        v.extend(["--tls-peer-ca".into(), files.write("peers.pem", &ca.pem())]);
        v.extend(["--kafka-session-timeout-ms", "6000"].iter().map(|a| a.to_string()));
        v.extend(extra.iter().map(|a| a.to_string()));
        v
    };
    let leader_args = node_args(&leader_files, &["--advertised-url", "https://localhost:{port}"]);
    let leader = Server::start_https_kafka(&broker.bootstrap(), &topic, &args(&leader_args), client(&ca, None));
    let follower_args = node_args(&follower_files, &["--leader-eligible", "false"]);
    let follower = Server::start_https_kafka(&broker.bootstrap(), &topic, &args(&follower_args), client(&ca, None));

    let leader_url = format!("https://localhost:{}", leader.port());
    eventually("the follower knowing the leader", Duration::from_secs(30), || {
        let r = ready(&follower);
        r["role"] == "follower" && r["leader"] == leader_url.as_str()
    });
    let id = follower.register("forwarded-value", USER_V1);
    let (status, body) = leader.get("/subjects/forwarded-value/versions/1");
    assert_eq!((status, body["id"].as_u64()), (200, Some(id)), "{body}");
    // The follower reads its own write back.
    assert_eq!(follower.get("/subjects/forwarded-value/versions").1, serde_json::json!([1]));
}

/// `schemata ARGS` with `env` added and `input` on stdin: exit code, stdout, stderr.
fn schemata(args: &[&str], env: &[(&str, &str)], input: &[u8]) -> (i32, Vec<u8>, String) {
    use std::io::Write;
    let mut child = Command::new(binary())
        .args(args)
        .envs(env.iter().copied())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run schemata");
    child.stdin.take().expect("stdin").write_all(input).expect("write stdin");
    let out = child.wait_with_output().expect("schemata ran");
    (out.status.code().expect("exit code"), out.stdout, String::from_utf8_lossy(&out.stderr).into())
}

/// The command line tools and the codec's registry client against a server that requires
/// both a client certificate and a permission: the CA, the client certificate and Basic
/// credentials are taken as flags, as variables and under confluent-kafka's property names,
/// the certificate's CN alone is a principal with its own permissions, and each missing
/// piece is refused with the server's (or the handshake's) reason.
#[test]
fn command_line_tools_and_the_codec_client_bring_certificates_and_credentials() {
    use schemata_codec::client::{blocking, ClientSettings, Schema};

    let ca = Ca::new("Test CA");
    let files = Files::new();
    let mut serve = files.server_pair(&ca.server("schemata"));
    let client_ca = Ca::new("Client CA");
    serve.extend(["--tls-client-ca".into(), files.write("clients.pem", &client_ca.pem())]);
    let rules = serde_json::json!({
        "users": [user("admin", "secret", "sha256")],
        "permissions": [permission("admin", "Write", ".*"), permission("ci-bot", "Read", r"Subject:general\..*")],
    });
    serve.extend(["--auth-file".into(), files.write("auth.json", &rules.to_string())]);
    let bot = client_ca.client("ci-bot");
    let ca_file = files.write("ca.pem", &ca.pem());
    let (cert, key) = (files.write("bot.pem", &bot.cert), files.write("bot.key", &bot.key));
    let server = Server::start_https(&args(&serve), &[], client(&ca, Some(&bot)));
    let url = server.url("");

    let settings = ClientSettings::from_properties([
        ("url", url.as_str()),
        ("basic.auth.user.info", "admin:secret"),
        ("ssl.ca.location", &ca_file),
        ("ssl.certificate.location", &cert),
        ("ssl.key.location", &key),
    ])
    .expect("settings");
    let admin = blocking::RegistryClient::new(&settings).expect("client");
    let id = admin.register("general.users", &Schema::avro(USER_V1)).expect("admin registers");
    admin.register("other.users", &Schema::avro(USER_V1)).expect("admin registers");

    // encode with every setting in the environment (as the admin), decode with flags and the
    // certificate alone (as ci-bot).
    let env = [
        ("SCHEMATA_BASIC_AUTH_USER_INFO", "admin:secret"),
        ("SCHEMATA_SSL_CA_LOCATION", ca_file.as_str()),
        ("SCHEMATA_SSL_CERTIFICATE_LOCATION", cert.as_str()),
        ("SCHEMATA_SSL_KEY_LOCATION", key.as_str()),
    ];
    let (code, bytes, err) =
        schemata(&["encode", "--registry", &url, "--subject", "general.users"], &env, br#"{"name":"ada"}"#);
    assert_eq!(code, 0, "{err}");
    assert_eq!(bytes[..5], [0, 0, 0, 0, id as u8]);
    let tls = ["--ssl-ca-location", &ca_file, "--ssl-certificate-location", &cert, "--ssl-key-location", &key];
    let decode = [&["decode", "--registry", &url, "--show-id"][..], &tls].concat();
    let (code, out, err) = schemata(&decode, &[], &bytes);
    assert_eq!(code, 0, "{err}");
    let decoded: Value = serde_json::from_slice(&out).expect("JSON");
    assert_eq!(decoded, serde_json::json!({"schemaId": id, "value": {"name": "ada"}}));

    files.write("user.avsc", USER_V1);
    let check = |subject: &str, extra: &[&str]| {
        let base = ["check", "--registry", &url, "--subject", subject, &files.arg("user.avsc")];
        schemata(&[&base[..], &tls, extra].concat(), &[], b"")
    };
    let (code, out, err) = check("general.users", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(String::from_utf8_lossy(&out).contains("compatible"));

    // ci-bot may not read other.*; a wrong password is a 401 even with a good certificate.
    let (code, _, err) = check("other.users", &[]);
    assert_eq!(code, 2);
    assert!(err.contains("HTTP 403") && err.contains("User ci-bot is denied operation Read"), "{err}");
    let (code, _, err) = check("general.users", &["--basic-auth-user-info", "admin:wrong"]);
    assert_eq!(code, 2);
    assert!(err.contains("HTTP 401") && err.contains("Unauthorized"), "{err}");
    // Without the CA the server is not trusted; without a client certificate the handshake fails.
    let (code, _, err) = schemata(&["decode", "--registry", &url], &[], &bytes);
    assert_eq!(code, 1);
    assert!(err.contains("certificate"), "{err}");
    let (code, _, err) = schemata(&["decode", "--registry", &url, "--ssl-ca-location", &ca_file], &[], &bytes);
    assert_eq!(code, 1);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}
