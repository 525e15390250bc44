//! Integration tests of lungsound-serve (one test binary, areas as modules): a real server
//! on 127.0.0.1:0 with stand-in classifiers, driven over HTTP.

mod abuse;
mod api;
mod browser;
mod capacity;
mod errors;
mod http;
mod real_data;

use std::net::SocketAddr;
use std::sync::Arc;

use lungsound_serve::{Classifier, ServeConfig, Server, StandInClassifier};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server; stopped (gracefully) by [`TestServer::stop`] or when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), lungsound_serve::Error>>>,
}

impl TestServer {
    /// Starts a server on 127.0.0.1 (a free port) over `classifier`.
    pub async fn start(classifier: Arc<dyn Classifier>, config: ServeConfig) -> TestServer {
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("address");
        let server = Server::bind(addr, classifier, config).await.expect("bind");
        let addr = server.local_addr();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run_until(async {
            let _ = rx.await;
        }));
        TestServer {
            addr,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// A server with the stand-in classifier and default limits.
    pub async fn stand_in() -> TestServer {
        TestServer::start(Arc::new(StandInClassifier::new()), ServeConfig::default()).await
    }

    /// Signals shutdown and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.expect("server task").expect("server result");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A mono 16-bit WAV of a 300 Hz sine plus noise, `duration_s` long at `sample_rate` Hz.
pub fn synthetic_wav(duration_s: f64, sample_rate: u32) -> Vec<u8> {
    let n = (duration_s * f64::from(sample_rate)).round() as usize;
    let tone = lungsound_testutil::sine(300.0, sample_rate, duration_s, 0.4);
    let noise = lungsound_testutil::white_noise(n, 3);
    let samples: Vec<f32> = tone.iter().zip(&noise).map(|(t, n)| t + 0.05 * n).collect();
    lungsound_testutil::wav_bytes(&samples, sample_rate, 1, 16, false)
}

/// The 50 ms 8 kHz FLAC fixture of lungsound-audio (made with the reference encoder).
pub fn fixture_flac() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../audio/tests/fixtures/tone_16bit_mono_8k.flac");
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// What the stand-in answers for `bytes` decoded directly (the reference for API results).
pub fn expected_stand_in(
    bytes: &[u8],
    name: &str,
    events: Option<&[(f64, f64)]>,
) -> serde_json::Value {
    let (audio, _) = lungsound_audio::decode_bytes(bytes, name).expect("decodes");
    StandInClassifier::new()
        .predict(&audio, name, events)
        .expect("stand-in")
}
