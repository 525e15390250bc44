//! The service's limits ([`ServeConfig`]).

use std::time::{Duration, Instant};

/// Limits that keep the service responsive and its memory bounded, whatever it is sent.
///
/// A request goes through two separately bounded stages:
///
/// 1. **Upload**: its body is received. At most [`max_uploads_in_flight`] bodies are
///    received at once, holding at most [`max_upload_bytes_in_flight`] bytes together
///    (counted as they arrive, and until the recording is decoded). A body must keep up
///    [`min_body_rate_bytes_per_s`] after [`body_rate_grace`] and arrive within
///    [`body_timeout`], or the request is answered 408 and the connection closed. Uploads
///    beyond the count or the bytes get 503.
/// 2. **Compute**: a fully arrived upload waits for one of [`max_concurrency`] slots
///    (at most [`queue`] wait; more get 503) and is then decoded and classified on a
///    blocking thread. If no answer is ready [`compute_timeout`] after the body arrived,
///    the request gets 503 (`compute_timeout`).
///
/// Memory held by requests is therefore at most about
/// `max_upload_bytes_in_flight + max_uploads_in_flight × 400 KiB (hyper's read buffer)
/// + max_concurrency × per-request compute budget`, where the compute budget is a copy of
/// the upload, the decoded samples (4 bytes × duration × sample rate) and what the model
/// needs; see `BENCHMARKS.md` ("Service under abuse") for measured figures.
///
/// [`max_uploads_in_flight`]: ServeConfig::max_uploads_in_flight
/// [`max_upload_bytes_in_flight`]: ServeConfig::max_upload_bytes_in_flight
/// [`min_body_rate_bytes_per_s`]: ServeConfig::min_body_rate_bytes_per_s
/// [`body_rate_grace`]: ServeConfig::body_rate_grace
/// [`body_timeout`]: ServeConfig::body_timeout
/// [`max_concurrency`]: ServeConfig::max_concurrency
/// [`queue`]: ServeConfig::queue
/// [`compute_timeout`]: ServeConfig::compute_timeout
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
    /// Fully received uploads allowed to wait for a free compute slot; further ones get 503
    /// with `Retry-After`. Uploads still arriving do not count here (see
    /// [`ServeConfig::max_uploads_in_flight`]). Default 64.
    pub queue: usize,
    /// Seconds suggested to refused clients in the `Retry-After` header. Default 1.
    pub retry_after_s: u64,
    /// Time allowed to receive a whole request body, however fast it comes; a slower upload
    /// gets 408 and the connection is closed. Default 60 s.
    pub body_timeout: Duration,
    /// Slowest accepted upload, in bytes per second: once [`ServeConfig::body_rate_grace`]
    /// has passed since the request arrived, a body that has brought fewer than
    /// `min_body_rate_bytes_per_s × (elapsed − grace)` bytes gets 408 and the connection is
    /// closed. Default 8192 (8 KiB/s, a 1 MB recording in two minutes; a client dripping a
    /// few bytes at a time is cut after the grace).
    pub min_body_rate_bytes_per_s: usize,
    /// Time a body may take to get going before [`ServeConfig::min_body_rate_bytes_per_s`]
    /// applies. Default 2 s.
    pub body_rate_grace: Duration,
    /// Request bodies being received at once; further requests get 503 before their body
    /// is read. Default 256.
    pub max_uploads_in_flight: usize,
    /// Bytes of request bodies held at once: bodies still arriving plus received uploads
    /// not yet decoded (waiting for, or in, a compute slot). An upload that would pass it
    /// gets 503 and its connection is closed. Must be at least the largest request body
    /// (`max_upload_bytes` + 64 KiB). Default 256 MiB.
    pub max_upload_bytes_in_flight: usize,
    /// Longest time from a body's arrival to its answer (waiting for a slot, decoding and
    /// the model). Past it the request gets 503 `compute_timeout`; work already on a
    /// blocking thread is not interrupted (its slot stays taken until it ends), but a
    /// request whose deadline passed while waiting or decoding is not handed to the model.
    /// Default 30 s.
    pub compute_timeout: Duration,
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
            min_body_rate_bytes_per_s: 8 * 1024,
            body_rate_grace: Duration::from_secs(2),
            max_uploads_in_flight: 256,
            max_upload_bytes_in_flight: 256 * 1024 * 1024,
            compute_timeout: Duration::from_secs(30),
        }
    }
}

impl ServeConfig {
    /// Checks the values: `max_upload_bytes`, `max_concurrency`, `retry_after_s`,
    /// `min_body_rate_bytes_per_s` and `max_uploads_in_flight` must be positive,
    /// `max_duration_s` positive and finite, `body_timeout` and `compute_timeout` non-zero,
    /// and `max_upload_bytes_in_flight` at least the largest request body
    /// (`max_upload_bytes` + 64 KiB).
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
        if self.min_body_rate_bytes_per_s == 0 {
            return bad("min_body_rate_bytes_per_s", "0".into());
        }
        if self.max_uploads_in_flight == 0 {
            return bad("max_uploads_in_flight", "0".into());
        }
        if self.compute_timeout.is_zero() {
            return bad("compute_timeout", "0 s".into());
        }
        if self.max_upload_bytes_in_flight < self.body_limit() {
            return Err(crate::Error::TooSmall {
                name: "max_upload_bytes_in_flight",
                value: self.max_upload_bytes_in_flight.to_string(),
                minimum: format!(
                    "the largest request body, max_upload_bytes + 64 KiB = {}",
                    self.body_limit()
                ),
            });
        }
        Ok(())
    }

    /// The limit put on whole request bodies: the upload limit plus 64 KiB for multipart
    /// boundaries, headers and an events part.
    pub(crate) fn body_limit(&self) -> usize {
        self.max_upload_bytes.saturating_add(64 * 1024)
    }

    /// The pace a body received since `start` must keep (see [`BodyPace`]).
    pub(crate) fn body_pace(&self, start: Instant) -> BodyPace {
        BodyPace {
            start,
            grace: self.body_rate_grace,
            min_rate: self.min_body_rate_bytes_per_s as f64,
            total: self.body_timeout,
        }
    }
}

/// When the next bytes of a body are due: a body that has brought `received` bytes must
/// bring more by `start + grace + received / min_rate`, and must end by `start + total`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyPace {
    pub(crate) start: Instant,
    pub(crate) grace: Duration,
    pub(crate) min_rate: f64,
    pub(crate) total: Duration,
}

impl BodyPace {
    /// The instant by which more than `received` bytes (or the end) must have arrived.
    pub(crate) fn due(&self, received: usize) -> Instant {
        let by_rate = self.grace.as_secs_f64() + received as f64 / self.min_rate;
        let by_rate = Duration::try_from_secs_f64(by_rate).unwrap_or(self.total);
        self.start + by_rate.min(self.total)
    }

    /// Whether `due` was set by the total deadline rather than the rate.
    pub(crate) fn is_total(&self, due: Instant) -> bool {
        due >= self.start + self.total
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
            ServeConfig {
                min_body_rate_bytes_per_s: 0,
                ..Default::default()
            },
            ServeConfig {
                max_uploads_in_flight: 0,
                ..Default::default()
            },
            ServeConfig {
                compute_timeout: Duration::ZERO,
                ..Default::default()
            },
            ServeConfig {
                max_upload_bytes_in_flight: 20 * 1024 * 1024,
                ..Default::default()
            },
        ] {
            let err = config.validate().expect_err("invalid");
            assert!(err.to_string().contains("must be"), "{err}");
        }
    }

    #[test]
    fn body_pace_grows_with_the_bytes_received_up_to_the_total() {
        let start = Instant::now();
        let pace = ServeConfig {
            min_body_rate_bytes_per_s: 1000,
            body_rate_grace: Duration::from_secs(2),
            body_timeout: Duration::from_secs(10),
            ..Default::default()
        }
        .body_pace(start);
        assert_eq!(pace.due(0), start + Duration::from_secs(2));
        assert_eq!(pace.due(3000), start + Duration::from_secs(5));
        assert_eq!(pace.due(1 << 40), start + Duration::from_secs(10));
        assert!(pace.is_total(pace.due(1 << 40)) && !pace.is_total(pace.due(0)));
    }
}
