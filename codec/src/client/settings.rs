//! How to reach a registry: its URL, credentials, TLS trust and client certificate, and a
//! timeout. Kept apart from the client so that every user of it (producers, consumers, the
//! `schemata` command line tools) sets these the same way, and named after confluent-kafka's
//! schema registry client properties (`basic.auth.user.info`, `ssl.ca.location`, ...) so a
//! team's existing settings carry over unchanged ([`ClientSettings::from_properties`]).

use std::path::PathBuf;
use std::time::Duration;

use base64::prelude::{Engine, BASE64_STANDARD};
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};

use crate::Error;

/// Credentials sent with every request.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// HTTP Basic (`basic.auth.user.info` = `USER:PASSWORD`).
    Basic { username: String, password: String },
    /// A bearer token (`bearer.auth.token`), e.g. an OIDC access token.
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    /// Never prints a secret: settings end up in logs and error reports.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}:***)"),
            Credentials::Bearer(_) => write!(f, "Bearer(***)"),
        }
    }
}

impl Credentials {
    /// `USER:PASSWORD` as confluent-kafka's `basic.auth.user.info` takes it (the password may
    /// itself contain `:`).
    pub fn from_user_info(user_info: &str) -> Result<Credentials, Error> {
        let (username, password) = user_info
            .split_once(':')
            .ok_or_else(|| Error::Config("basic auth user info must be USER:PASSWORD".to_string()))?;
        Ok(Credentials::Basic { username: username.to_string(), password: password.to_string() })
    }

    fn header(&self) -> Result<HeaderValue, Error> {
        let value = match self {
            Credentials::Basic { username, password } => {
                format!("Basic {}", BASE64_STANDARD.encode(format!("{username}:{password}")))
            }
            Credentials::Bearer(token) => format!("Bearer {token}"),
        };
        let mut header = HeaderValue::from_str(&value)
            .map_err(|_| Error::Config("credentials must be printable ASCII in a header".to_string()))?;
        header.set_sensitive(true);
        Ok(header)
    }
}

/// Everything needed to open a connection to a registry.
#[derive(Clone, Debug)]
pub struct ClientSettings {
    /// The registry's base URL. A `user:password@` in it is taken as Basic credentials, as
    /// Confluent's clients do.
    pub url: String,
    pub credentials: Option<Credentials>,
    /// PEM file of CAs trusted for the registry's certificate, besides the public roots.
    pub ca_location: Option<PathBuf>,
    /// PEM client certificate (chain, leaf first) for registries that require one (mTLS).
    pub certificate_location: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of `certificate_location`.
    pub key_location: Option<PathBuf>,
    /// Per request, connection included.
    pub timeout: Duration,
    /// How long a subject's latest version is trusted before it is asked again.
    pub latest_ttl: Duration,
}

impl ClientSettings {
    /// Plain settings for `url`: no credentials, public roots, 30 s timeout, 5 min latest TTL.
    pub fn new(url: &str) -> ClientSettings {
        ClientSettings {
            url: url.to_string(),
            credentials: None,
            ca_location: None,
            certificate_location: None,
            key_location: None,
            timeout: Duration::from_secs(30),
            latest_ttl: Duration::from_secs(300),
        }
    }

    /// Settings from confluent-kafka's schema registry client properties: `url`,
    /// `basic.auth.user.info` (with `basic.auth.credentials.source` USER_INFO or URL),
    /// `bearer.auth.token` (with `bearer.auth.credentials.source` STATIC_TOKEN),
    /// `ssl.ca.location`, `ssl.certificate.location`, `ssl.key.location`, `timeout`
    /// (seconds) and `cache.latest.ttl.sec`. An unknown key is an error rather than a
    /// setting silently ignored.
    pub fn from_properties<'a>(properties: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, Error> {
        let mut settings = ClientSettings::new("");
        let mut url = None;
        let seconds = |key: &str, value: &str| {
            value
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| Error::Config(format!("{key} must be a number of seconds, not {value:?}")))
        };
        for (key, value) in properties {
            match key {
                "url" => url = Some(value.to_string()),
                "basic.auth.user.info" => settings.set_credentials(Credentials::from_user_info(value)?)?,
                "bearer.auth.token" => settings.set_credentials(Credentials::Bearer(value.to_string()))?,
                "basic.auth.credentials.source" if matches!(value, "USER_INFO" | "URL") => {}
                "bearer.auth.credentials.source" if value == "STATIC_TOKEN" => {}
                "basic.auth.credentials.source" | "bearer.auth.credentials.source" => {
                    return Err(Error::Config(format!("{key} {value} is not supported")))
                }
                "ssl.ca.location" => settings.ca_location = Some(value.into()),
                "ssl.certificate.location" => settings.certificate_location = Some(value.into()),
                "ssl.key.location" => settings.key_location = Some(value.into()),
                "timeout" => settings.timeout = seconds(key, value)?,
                "cache.latest.ttl.sec" => settings.latest_ttl = seconds(key, value)?,
                _ => return Err(Error::Config(format!("unknown registry client property {key:?}"))),
            }
        }
        settings.url = url.ok_or_else(|| Error::Config("the registry client needs a url".to_string()))?;
        Ok(settings)
    }

    /// Sets the credentials; Basic and bearer together are a mistake worth refusing.
    pub fn set_credentials(&mut self, credentials: Credentials) -> Result<(), Error> {
        if self.credentials.as_ref().is_some_and(|c| c != &credentials) {
            return Err(Error::Config("give Basic credentials or a bearer token, not both".to_string()));
        }
        self.credentials = Some(credentials);
        Ok(())
    }

    /// The HTTP client these settings describe, and the base URL without its user info.
    pub(crate) fn connect(&self) -> Result<(reqwest::Client, String), Error> {
        let mut url = reqwest::Url::parse(&self.url)
            .map_err(|e| Error::Config(format!("the registry URL {:?}: {e}", self.url)))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Error::Config(format!("the registry URL {:?} is not http(s)", self.url)));
        }
        let mut credentials = self.credentials.clone();
        if !url.username().is_empty() {
            let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
            let from_url =
                Credentials::Basic { username: decode(url.username()), password: decode(url.password().unwrap_or("")) };
            if credentials.as_ref().is_some_and(|c| c != &from_url) {
                return Err(Error::Config("credentials both in the URL and in the settings".to_string()));
            }
            credentials = Some(from_url);
            // Infallible for http(s) URLs.
            let _ = url.set_username("");
            let _ = url.set_password(None);
        }
        let mut builder = reqwest::Client::builder().timeout(self.timeout).connect_timeout(self.timeout);
        if let Some(c) = &credentials {
            builder = builder.default_headers(HeaderMap::from_iter([(AUTHORIZATION, c.header()?)]));
        }
        if let Some(path) = &self.ca_location {
            let pem = read(path, "ssl.ca.location")?;
            let cas = reqwest::Certificate::from_pem_bundle(&pem)
                .map_err(|e| Error::Config(format!("ssl.ca.location {}: {e}", path.display())))?;
            if cas.is_empty() {
                return Err(Error::Config(format!("ssl.ca.location {}: no certificate in it", path.display())));
            }
            for ca in cas {
                builder = builder.add_root_certificate(ca);
            }
        }
        match (&self.certificate_location, &self.key_location) {
            (Some(cert), Some(key)) => {
                let mut pem = read(key, "ssl.key.location")?;
                pem.push(b'\n');
                pem.extend(read(cert, "ssl.certificate.location")?);
                let identity = reqwest::Identity::from_pem(&pem)
                    .map_err(|e| Error::Config(format!("client certificate {}: {e}", cert.display())))?;
                builder = builder.identity(identity);
            }
            (None, None) => {}
            _ => {
                return Err(Error::Config(
                    "a client certificate needs both ssl.certificate.location and ssl.key.location".to_string(),
                ))
            }
        }
        let http = builder.build().map_err(|e| Error::Config(format!("registry client: {e}")))?;
        Ok((http, url.as_str().trim_end_matches('/').to_string()))
    }
}

fn read(path: &std::path::Path, what: &str) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|e| Error::Config(format!("{what} {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_as_confluent_names_them() {
        let s = ClientSettings::from_properties([
            ("url", "https://registry:8081"),
            ("basic.auth.credentials.source", "USER_INFO"),
            ("basic.auth.user.info", "ada:pa:ss"),
            ("ssl.ca.location", "/ca.pem"),
            ("timeout", "2.5"),
        ])
        .unwrap();
        assert_eq!(s.credentials, Some(Credentials::Basic { username: "ada".into(), password: "pa:ss".into() }));
        assert_eq!(s.ca_location, Some(PathBuf::from("/ca.pem")));
        assert_eq!(s.timeout, Duration::from_millis(2500));
        assert_eq!(format!("{:?}", s.credentials.unwrap()), "Basic(ada:***)");

        let err = |props: &[(&'static str, &'static str)]| {
            ClientSettings::from_properties(props.iter().copied()).unwrap_err().to_string()
        };
        assert!(err(&[("url", "http://r"), ("ssl.ca.locaton", "x")]).contains("ssl.ca.locaton"));
        assert!(err(&[("basic.auth.user.info", "a:b")]).contains("needs a url"));
        assert!(err(&[("url", "http://r"), ("basic.auth.user.info", "ab")]).contains("USER:PASSWORD"));
        assert!(err(&[("url", "http://r"), ("basic.auth.user.info", "a:b"), ("bearer.auth.token", "t")])
            .contains("not both"));
        assert!(err(&[("url", "http://r"), ("timeout", "soon")]).contains("seconds"));
    }

    #[test]
    fn url_user_info_becomes_basic_credentials() {
        let (_, base) = ClientSettings::new("http://ada:s%40cret@localhost:8081/").connect().unwrap();
        assert_eq!(base, "http://localhost:8081");
        let mut clash = ClientSettings::new("http://ada:x@localhost:8081");
        clash.credentials = Some(Credentials::Bearer("t".into()));
        assert!(clash.connect().is_err());
        assert!(ClientSettings::new("ftp://localhost").connect().is_err());
        let mut half = ClientSettings::new("https://localhost");
        half.certificate_location = Some("cert.pem".into());
        assert!(half.connect().unwrap_err().to_string().contains("ssl.key.location"));
    }
}
