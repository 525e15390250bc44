//! The service's limits ([`ServeConfig`]).

use std::time::Duration;

/// Limits that keep the service responsive and its memory bounded, whatever it is sent.
///
/// Memory held by requests is at most about
/// `(max_concurrency + queue) · (max_upload_bytes + decoded audio)`: requests beyond
/// `max_concurrency + queue` are refused with 503 before their body is read.
#[derive(Debug, Clone, PartialEq)]
pub struct ServeConfig {
    /// Largest accepted audio file, in bytes (the `file` part of a multipart request, or a
    /// raw body). Larger requests get 413. Default 20 MiB: a 16-bit 8 kHz mono WAV of
    /// 20 minutes, far beyond any auscultation recording.
    pub max_upload_bytes: usize,
    /// Longest accepted recording, in seconds; longer ones get 422 `too_long`. Checked from
    /// the file header before decoding where the header says, and again after decoding.
    /// Default 120 s (SPRSound recordings last 9–15 s, ICBHI ones up to 86 s).
    pub max_duration_s: f64,
    /// Recordings decoded and classified at the same time (each on a blocking thread).
    /// Default: the number of available CPU cores.
    pub max_concurrency: usize,
    /// Requests allowed to wait for a free slot beyond `max_concurrency`; further requests
    /// get 503 with `Retry-After`. Default 64.
    pub queue: usize,
    /// Seconds suggested to refused clients in the `Retry-After` header. Default 1.
    pub retry_after_s: u64,
    /// Time allowed to receive a request body; a slower upload gets 408. Default 60 s.
    pub body_timeout: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            max_upload_bytes: 20 * 1024 * 1024,
            max_duration_s: 120.0,
            max_concurrency: std::thread::available_parallelism().map_or(1, |n| n.get()),
            queue: 64,
            retry_after_s: 1,
            body_timeout: Duration::from_secs(60),
        }
    }
}

impl ServeConfig {
    /// Checks the values: `max_upload_bytes`, `max_concurrency` and `retry_after_s` must be
    /// positive, `max_duration_s` positive and finite, `body_timeout` non-zero.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let bad =
            |name: &'static str, value: String| Err(crate::Error::InvalidConfig { name, value });
        if self.max_upload_bytes == 0 {
            return bad("max_upload_bytes", "0".into());
        }
        if !(self.max_duration_s.is_finite() && self.max_duration_s > 0.0) {
            return bad("max_duration_s", self.max_duration_s.to_string());
        }
        if self.max_concurrency == 0 {
            return bad("max_concurrency", "0".into());
        }
        if self.retry_after_s == 0 {
            return bad("retry_after_s", "0".into());
        }
        if self.body_timeout.is_zero() {
            return bad("body_timeout", "0 s".into());
        }
        Ok(())
    }

    /// The limit put on whole request bodies: the upload limit plus 64 KiB for multipart
    /// boundaries, headers and an events part.
    pub(crate) fn body_limit(&self) -> usize {
        self.max_upload_bytes.saturating_add(64 * 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_zero_limits_are_not() {
        assert!(ServeConfig::default().validate().is_ok());
        for config in [
            ServeConfig {
                max_upload_bytes: 0,
                ..Default::default()
            },
            ServeConfig {
                max_duration_s: f64::NAN,
                ..Default::default()
            },
            ServeConfig {
                max_duration_s: 0.0,
                ..Default::default()
            },
            ServeConfig {
                max_concurrency: 0,
                ..Default::default()
            },
            ServeConfig {
                retry_after_s: 0,
                ..Default::default()
            },
            ServeConfig {
                body_timeout: Duration::ZERO,
                ..Default::default()
            },
        ] {
            let err = config.validate().expect_err("invalid");
            assert!(err.to_string().contains("must be"), "{err}");
        }
    }
}
