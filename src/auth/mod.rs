//! Who is calling: authentication of the registry's clients, kept apart from the HTTP layer
//! so each scheme can be tested on its own and wired in by `api`/`server`.
pub mod jwt;
