//! The one error type of the registry. Every failure a request can meet is a variant here,
//! and each variant knows its HTTP status and Confluent `error_code`, so that handlers never
//! choose codes themselves and clients see exactly what Confluent would send.

use thiserror::Error;

use crate::store::StoreError;

#[derive(Debug, Error, Clone, PartialEq)]
pub enum RegistryError {
    // Framework-level errors: the bare HTTP status is the error_code.
    #[error("{0}")]
    BadRequest(String),
    #[error("HTTP 404 Not Found")]
    NotFound,
    #[error("HTTP 405 Method Not Allowed")]
    MethodNotAllowed,
    #[error("HTTP 406 Not Acceptable")]
    NotAcceptable,
    #[error("HTTP 415 Unsupported Media Type")]
    UnsupportedMediaType,
    #[error("{0}")]
    Unprocessable(String),

    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(i64),
    #[error("Schema not found")]
    SchemaNotFound,
    #[error("Schema {0} not found")]
    SchemaIdNotFound(i64),
    /// A GUID (8.0+ framing) no stored schema has; the text as the client sent it.
    #[error("Schema {0} not found")]
    SchemaGuidNotFound(String),
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, u32),
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, u32),
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotFound(String),
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotFound(String),

    /// Confluent 7.9 answers an incompatible registration with error_code 409.
    #[error("Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]", messages.join(", "))]
    Incompatible { subject: String, messages: Vec<String> },

    #[error("{0}")]
    InvalidSchema(String),
    #[error("The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"")]
    InvalidVersion(String),
    #[error("Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive")]
    InvalidCompatibilityLevel,
    #[error("Invalid mode. Valid values are READWRITE, READONLY, and IMPORT.")]
    InvalidMode,
    #[error("{0}")]
    OperationNotPermitted(String),
    #[error("One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={0},version={1}}}.")]
    ReferenceExists(String, u32),
    #[error("The specified subject '{0}' is not a valid.")]
    InvalidSubject(String),
    #[error("Register operation failed because schema is too large")]
    SchemaTooLarge,

    /// The data directory or the Kafka log could not be written; the state is unchanged.
    #[error("Error while writing to the store: {0}")]
    Store(String),
    /// The store did not answer in time (Confluent's 50002): a Kafka write not acknowledged
    /// or not read back in time, or a node still catching up with its topic.
    #[error("{0}")]
    StoreTimeout(String),
    /// No node may write now (Confluent's 50004 "Leader not known."), with why.
    #[error("Leader not known. {0}")]
    LeaderNotKnown(String),
    /// A follower could not reach the leader (Confluent's 50003).
    #[error("Error while forwarding the request to the leader: {0}")]
    Forwarding(String),
    /// No valid credentials (401, with a `WWW-Authenticate` challenge). Says nothing of why,
    /// so that it never hints whether a user exists.
    #[error("Unauthorized")]
    Unauthorized,
    /// Authenticated, but not allowed (Confluent's 40301), naming the operation and resource.
    #[error("{0}")]
    Forbidden(String),
    /// The caller's request rate is over `--rate-limit`; it may try again after the seconds.
    #[error("Request rate limit exceeded; retry after {0} seconds")]
    RateLimited(u64),
    /// More heavy work (schema parsing, checks) is waiting than the server queues.
    #[error("Too many schema checks are waiting; retry after 1 seconds")]
    Overloaded,
    #[error("Internal Server Error")]
    Internal,
}

impl RegistryError {
    pub fn error_code(&self) -> u32 {
        use RegistryError::*;
        match self {
            BadRequest(_) => 400,
            NotFound => 404,
            MethodNotAllowed => 405,
            NotAcceptable => 406,
            UnsupportedMediaType => 415,
            Unprocessable(_) => 422,
            SubjectNotFound(_) => 40401,
            VersionNotFound(_) => 40402,
            SchemaNotFound | SchemaIdNotFound(_) | SchemaGuidNotFound(_) => 40403,
            SubjectSoftDeleted(_) => 40404,
            SubjectNotSoftDeleted(_) => 40405,
            VersionSoftDeleted(..) => 40406,
            VersionNotSoftDeleted(..) => 40407,
            SubjectConfigNotFound(_) => 40408,
            SubjectModeNotFound(_) => 40409,
            Incompatible { .. } => 409,
            InvalidSchema(_) => 42201,
            InvalidVersion(_) => 42202,
            InvalidCompatibilityLevel => 42203,
            InvalidMode => 42204,
            OperationNotPermitted(_) => 42205,
            ReferenceExists(..) => 42206,
            InvalidSubject(_) => 42208,
            SchemaTooLarge => 42209,
            Store(_) => 50001,
            StoreTimeout(_) => 50002,
            Forwarding(_) => 50003,
            LeaderNotKnown(_) => 50004,
            Unauthorized => 401,
            Forbidden(_) => 40301,
            RateLimited(_) | Overloaded => 429,
            Internal => 500,
        }
    }

    /// The HTTP status is the first three digits of the error code.
    pub fn http_status(&self) -> u16 {
        let code = self.error_code();
        if code >= 1000 {
            (code / 100) as u16
        } else {
            code as u16
        }
    }

    /// Seconds after which a refused client may try again (`Retry-After`), for the refusals
    /// that are about load rather than the request.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            RegistryError::RateLimited(seconds) => Some(*seconds),
            RegistryError::Overloaded => Some(1),
            _ => None,
        }
    }

    pub fn read_only(subject: &str) -> RegistryError {
        RegistryError::OperationNotPermitted(format!("Subject {subject} is in read-only mode"))
    }
}

impl From<StoreError> for RegistryError {
    fn from(e: StoreError) -> Self {
        if let StoreError::NotLeader(reason) = e {
            RegistryError::LeaderNotKnown(reason)
        } else if e.is_timeout() {
            RegistryError::StoreTimeout(e.to_string())
        } else {
            RegistryError::Store(e.to_string())
        }
    }
}

pub type Result<T> = std::result::Result<T, RegistryError>;
