//! Password hashes exactly as Karapace computes them, so that its auth files verify here and
//! entries made by `schemata passwd` verify in Karapace.
//!
//! Karapace (`karapace/core/auth.py`, `hash_password`) derives a key from the password's
//! UTF-8 bytes with the salt string's UTF-8 bytes as salt (the salt is *not* base64-decoded),
//! and stores it base64-encoded (standard alphabet, padded):
//! - `scrypt`: `hashlib.scrypt(n=16384, r=8, p=1)`, 64-byte key (hashlib's default);
//! - `sha1`, `sha256`, `sha512`: `hashlib.pbkdf2_hmac` with 5000 iterations and the digest's
//!   size as key length (20, 32 or 64 bytes).

use std::fmt;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use subtle::ConstantTimeEq;

/// PBKDF2 iterations of Karapace's `sha*` algorithms.
const PBKDF2_ROUNDS: u32 = 5000;
/// Karapace's scrypt cost: n = 2^14, r = 8, p = 1.
const SCRYPT_LOG_N: u8 = 14;
const SCRYPT_R: u32 = 8;
const SCRYPT_P: u32 = 1;
/// Random bytes in a fresh salt, as Karapace's `secrets.token_urlsafe(nbytes=16)`.
const SALT_BYTES: usize = 16;

/// A password hashing algorithm of the auth file's `algorithm` field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Algorithm {
    Scrypt,
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 4] = [Algorithm::Scrypt, Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512];

    /// The name used in the auth file (lower case, as Karapace spells it).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Scrypt => "scrypt",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Parses an auth file name; exact and case-sensitive, as Karapace's `HashAlgorithm(...)`.
    pub fn from_name(name: &str) -> Option<Algorithm> {
        Algorithm::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Length of the derived key, which a stored hash must decode to.
    fn key_len(self) -> usize {
        match self {
            Algorithm::Scrypt | Algorithm::Sha512 => 64,
            Algorithm::Sha1 => 20,
            Algorithm::Sha256 => 32,
        }
    }

    /// The derived key for a password and salt, as Karapace computes it (before base64).
    fn derive(self, password: &[u8], salt: &[u8]) -> Vec<u8> {
        let mut key = vec![0u8; self.key_len()];
        match self {
            Algorithm::Scrypt => {
                let params = scrypt::Params::new(SCRYPT_LOG_N, SCRYPT_R, SCRYPT_P).expect("constant scrypt parameters");
                scrypt::scrypt(password, salt, &params, &mut key).expect("non-empty scrypt output");
            }
            Algorithm::Sha1 => pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, PBKDF2_ROUNDS, &mut key),
            Algorithm::Sha256 => pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, PBKDF2_ROUNDS, &mut key),
            Algorithm::Sha512 => pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, PBKDF2_ROUNDS, &mut key),
        }
        key
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One user's stored credentials, checked when the file is read so that a typo shows at load
/// time rather than as a user who can never log in.
#[derive(Clone)]
pub(crate) struct PasswordHash {
    algorithm: Algorithm,
    salt: String,
    key: Vec<u8>,
}

impl PasswordHash {
    /// From the file's `algorithm`, `salt` and `password_hash` fields.
    pub(crate) fn parse(algorithm: &str, salt: &str, password_hash: &str) -> Result<PasswordHash, String> {
        let algorithm = Algorithm::from_name(algorithm)
            .ok_or_else(|| format!("unknown algorithm '{algorithm}' (expected one of scrypt, sha1, sha256, sha512)"))?;
        // Karapace compares the stored string with the canonical padded encoding of the key,
        // so strict decoding accepts exactly the hashes Karapace could ever match.
        let key =
            STANDARD.decode(password_hash).map_err(|e| format!("password_hash is not valid standard base64: {e}"))?;
        if key.len() != algorithm.key_len() {
            return Err(format!(
                "password_hash decodes to {} bytes, but {algorithm} hashes are {} bytes",
                key.len(),
                algorithm.key_len()
            ));
        }
        Ok(PasswordHash { algorithm, salt: salt.to_string(), key })
    }

    /// Hashes a password under a fresh random salt (`schemata passwd`).
    pub(crate) fn generate(algorithm: Algorithm, password: &str) -> Result<PasswordHash, String> {
        let mut bytes = [0u8; SALT_BYTES];
        getrandom::fill(&mut bytes).map_err(|e| format!("no randomness for a salt: {e}"))?;
        let salt = URL_SAFE_NO_PAD.encode(bytes);
        let key = algorithm.derive(password.as_bytes(), salt.as_bytes());
        Ok(PasswordHash { algorithm, salt, key })
    }

    /// A hash for users that do not exist: verifying against it costs what verifying a real
    /// user's password does. Its key is all zeros; callers discard the result anyway.
    pub(crate) fn dummy(algorithm: Algorithm) -> PasswordHash {
        PasswordHash { algorithm, salt: "schemata-no-such-user0".to_string(), key: vec![0; algorithm.key_len()] }
    }

    /// Derives the key for `password` (slow by design) and compares in constant time.
    pub(crate) fn verify(&self, password: &str) -> bool {
        let candidate = self.algorithm.derive(password.as_bytes(), self.salt.as_bytes());
        candidate.ct_eq(&self.key).into()
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) fn salt(&self) -> &str {
        &self.salt
    }

    /// The file's `password_hash` field.
    pub(crate) fn encoded(&self) -> String {
        STANDARD.encode(&self.key)
    }
}

/// Never prints the key: rules are logged and debug-printed.
impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordHash").field("algorithm", &self.algorithm).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Fixtures made with Python's hashlib exactly as Karapace's `hash_password` does:
    //   python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.scrypt(
    //     bytearray('s3cret-pw','utf-8'), salt=bytearray('c2FsdHlzYWx0','utf-8'),
    //     n=16384, r=8, p=1)).decode())"
    //   python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac(
    //     'sha1', bytearray('s3cret-pw','UTF-8'), bytearray('c2FsdHlzYWx0','UTF-8'), 5000)).decode('ascii'))"
    // (and 'sha256', 'sha512' in place of 'sha1').
    const PASSWORD: &str = "s3cret-pw";
    const SALT: &str = "c2FsdHlzYWx0";
    const SCRYPT: &str = "53WRU6fv4uxu2yOfb6nmxGSwZd10o0BP8xfv2/0zJyvqzLgRIRbCnRdGer7x8b8mlR+PtCAGADgUYS2/0KfUpA==";
    const SHA1: &str = "UfXTLXAfgOxBCsX5d3O4Hu35QCY=";
    const SHA256: &str = "aY5hyLDsn4DnnYZcVVR4qtsoplD/PpJJkpiRUT1Htmw=";
    const SHA512: &str = "j4Qqx52rpXCW+FV4c49qVJZrLOsS99NC4TalM4LD/BN2jv5L5oZj6NiAqhheGIyYaUNQOR3/iX66aCNt2atHLg==";

    fn fixture(algorithm: Algorithm) -> PasswordHash {
        let hash = match algorithm {
            Algorithm::Scrypt => SCRYPT,
            Algorithm::Sha1 => SHA1,
            Algorithm::Sha256 => SHA256,
            Algorithm::Sha512 => SHA512,
        };
        PasswordHash::parse(algorithm.name(), SALT, hash).unwrap()
    }

    #[test]
    fn verifies_karapace_hashes_of_every_algorithm() {
        for algorithm in Algorithm::ALL {
            let stored = fixture(algorithm);
            assert!(stored.verify(PASSWORD), "{algorithm}");
            assert!(!stored.verify("s3cret-pW"), "{algorithm}");
            assert!(!stored.verify(""), "{algorithm}");
        }
    }

    #[test]
    fn the_salt_is_used_as_text_not_decoded() {
        // SALT looks like base64 ("saltysalt"); Karapace hashes its characters as they are.
        let decoded = PasswordHash { salt: "saltysalt".to_string(), ..fixture(Algorithm::Sha256) };
        assert!(!decoded.verify(PASSWORD));
    }

    #[test]
    fn non_ascii_passwords_are_hashed_as_utf8() {
        // python3 -c "import hashlib,base64; print(base64.b64encode(hashlib.pbkdf2_hmac(
        //   'sha256', bytearray('pässwörd','UTF-8'), bytearray('sälz','UTF-8'), 5000)).decode('ascii'))"
        let stored = PasswordHash::parse("sha256", "sälz", "/Eqx8nT2hFHXrbLXftbJB4OHUdv3L7o+zoKlSSFuxEI=").unwrap();
        assert!(stored.verify("pässwörd"));
    }

    #[test]
    fn rejects_unknown_algorithms_and_malformed_hashes() {
        let err = PasswordHash::parse("SHA256", SALT, SHA256).unwrap_err();
        assert!(err.contains("unknown algorithm 'SHA256'"), "{err}");
        let err = PasswordHash::parse("md5", SALT, SHA256).unwrap_err();
        assert!(err.contains("unknown algorithm 'md5'"), "{err}");
        let err = PasswordHash::parse("sha256", SALT, "not base64!").unwrap_err();
        assert!(err.contains("not valid standard base64"), "{err}");
        // Karapace writes padded base64; unpadded never matches there either.
        let err = PasswordHash::parse("sha256", SALT, SHA256.trim_end_matches('=')).unwrap_err();
        assert!(err.contains("not valid standard base64"), "{err}");
        // A sha1 key under the sha256 name: right encoding, wrong size.
        let err = PasswordHash::parse("sha256", SALT, SHA1).unwrap_err();
        assert!(err.contains("decodes to 20 bytes, but sha256 hashes are 32 bytes"), "{err}");
    }

    #[test]
    fn generated_hashes_verify_and_round_trip_through_the_file_fields() {
        for algorithm in [Algorithm::Sha1, Algorithm::Sha512, Algorithm::Scrypt] {
            let made = PasswordHash::generate(algorithm, "hunter2").unwrap();
            assert_eq!(made.salt().len(), 22, "16 bytes, unpadded url-safe base64, as token_urlsafe(16)");
            let read = PasswordHash::parse(made.algorithm().name(), made.salt(), &made.encoded()).unwrap();
            assert!(read.verify("hunter2"));
            assert!(!read.verify("hunter3"));
        }
        let a = PasswordHash::generate(Algorithm::Sha1, "same").unwrap();
        let b = PasswordHash::generate(Algorithm::Sha1, "same").unwrap();
        assert_ne!(a.salt(), b.salt());
        assert_ne!(a.encoded(), b.encoded());
    }

    #[test]
    fn debug_output_hides_the_hash() {
        let printed = format!("{:?}", fixture(Algorithm::Sha256));
        assert!(!printed.contains(SHA256) && !printed.contains(SALT), "{printed}");
    }
}
