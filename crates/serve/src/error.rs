//! The crate's error type: what stops the service from starting or running.
//!
//! Errors about a single request are not here: they become HTTP responses
//! (see [`crate::ApiError`]).

use std::net::SocketAddr;

/// Why the service could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A [`crate::ServeConfig`] value is out of range.
    #[error("{name} must be positive (and finite), got {value}")]
    InvalidConfig {
        /// The field.
        name: &'static str,
        /// The value given.
        value: String,
    },
    /// A [`crate::ServeConfig`] value is below what another one requires.
    #[error("{name} must be at least {minimum}, got {value}")]
    TooSmall {
        /// The field.
        name: &'static str,
        /// The value given.
        value: String,
        /// The smallest value that works, and why.
        minimum: String,
    },
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The server failed while running.
    #[error("the HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
}
