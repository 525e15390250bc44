//! Hostile and careless clients (issue 13): slow uploads, many large uploads at once, slow
//! models, and a bounded mix of all of it alongside good requests. Loopback only; every test
//! stops by itself in a few seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lungsound_audio::Audio;
use lungsound_serve::{Classifier, ClassifyError, ServeConfig, StandInClassifier};
use serde_json::Value;
use tokio::sync::Barrier;

use crate::http::{self, get, multipart, post, post_in_two, trickle};
use crate::{TestServer, synthetic_wav};

/// `uploading` and `upload_bytes_in_flight` of `/healthz`.
async fn uploads_in_flight(server: &TestServer) -> (u64, u64) {
    let health = get(server.addr, "/healthz").await.expect("healthz").json();
    (
        health["uploading"].as_u64().expect("uploading"),
        health["upload_bytes_in_flight"]
            .as_u64()
            .expect("upload_bytes_in_flight"),
    )
}

/// Polls `/healthz` until `done` says yes (or `limit` passes); the last answer.
async fn wait_for(
    server: &TestServer,
    limit: Duration,
    done: impl Fn((u64, u64)) -> bool,
) -> (u64, u64) {
    let start = Instant::now();
    loop {
        let now = uploads_in_flight(server).await;
        if done(now) || start.elapsed() > limit {
            return now;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Row "lock-out": 66 POSTs declaring 1 MB and sending a byte now and then used to take
/// all 2 + 64 admission slots, so every good request got 503 while the trickle lasted.
/// Now they hold upload slots only: good uploads are answered at once, and each trickler
/// is cut with a JSON 408 once the grace has passed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickling_uploads_do_not_lock_out_good_ones() {
    let config = ServeConfig {
        max_concurrency: 2,
        queue: 64,
        ..ServeConfig::default() // grace 2 s, at least 8 KiB/s after it
    };
    let grace = config.body_rate_grace;
    let server = TestServer::start(Arc::new(StandInClassifier::new()), config).await;
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let tricklers: Vec<_> = (0..66)
        .map(|_| {
            let stop = Arc::clone(&stop);
            tokio::spawn(async move {
                let start = Instant::now();
                let r = trickle(
                    addr,
                    "/api/v1/predict",
                    1_000_000,
                    Duration::from_millis(500),
                    &stop,
                )
                .await;
                (r, start.elapsed())
            })
        })
        .collect();
    let (uploading, _) = wait_for(&server, Duration::from_secs(5), |(n, _)| n >= 66).await;
    assert!(uploading >= 60, "only {uploading} tricklers got in");

    let wav = synthetic_wav(2.0, 8000);
    for i in 0..10 {
        let start = Instant::now();
        let r = post(addr, "/api/v1/predict", "audio/wav", &wav)
            .await
            .expect("request");
        assert_eq!(
            r.status,
            200,
            "good request {i} while {uploading} uploads trickle: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "good request {i} took {:?}",
            start.elapsed()
        );
    }
    for t in tricklers {
        let (r, took) = t.await.expect("task");
        let r = r.expect("connect").expect("the server answers a trickler");
        assert_eq!(r.status, 408, "{}", String::from_utf8_lossy(&r.body));
        assert_eq!(r.error_code(), "body_timeout");
        assert!(
            r.error_message().contains("too slow"),
            "{}",
            r.error_message()
        );
        assert_eq!(r.header("connection"), Some("close"));
        assert!(
            took >= grace && took < grace + Duration::from_secs(3),
            "cut after {took:?}"
        );
    }
    stop.store(true, Ordering::Relaxed);
    assert_eq!(
        wait_for(&server, Duration::from_secs(2), |(n, b)| n == 0 && b == 0).await,
        (0, 0)
    );
    server.stop().await;
}

/// Row "memory": 70 simultaneous 19 MiB uploads used to be held all at once (1.87 GB).
/// Upload bytes are now counted as they arrive against `max_upload_bytes_in_flight`: here
/// 10 uploads of 0.9 MiB, all half sent before any finishes, against a 4 MiB budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_of_uploads_in_flight_are_bounded() {
    let budget = 4 * 1024 * 1024;
    let config = ServeConfig {
        max_upload_bytes: 1024 * 1024,
        max_upload_bytes_in_flight: budget,
        retry_after_s: 3,
        ..ServeConfig::default()
    };
    let server = TestServer::start(Arc::new(StandInClassifier::new()), config).await;
    let addr = server.addr;
    let wav = Arc::new(synthetic_wav(29.0, 16_000)); // 0.9 MiB
    let barrier = Arc::new(Barrier::new(10));
    let peak = Arc::new(AtomicUsize::new(0));
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = {
        let (peak, watching) = (Arc::clone(&peak), Arc::clone(&watching));
        tokio::spawn(async move {
            while watching.load(Ordering::Relaxed) {
                if let Ok(r) = get(addr, "/healthz").await {
                    let bytes = r.json()["upload_bytes_in_flight"].as_u64().unwrap_or(0);
                    peak.fetch_max(bytes as usize, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let uploads: Vec<_> = (0..10)
        .map(|_| {
            let (wav, barrier) = (Arc::clone(&wav), Arc::clone(&barrier));
            tokio::spawn(async move {
                let between = async move {
                    barrier.wait().await;
                };
                post_in_two(addr, "/api/v1/predict", "audio/wav", &wav, between)
                    .await
                    .expect("request")
            })
        })
        .collect();
    let (mut ok, mut refused) = (0, 0);
    for u in uploads {
        let r = u.await.expect("task");
        match r.status {
            200 => ok += 1,
            503 => {
                refused += 1;
                assert_eq!(r.error_code(), "over_capacity");
                assert!(r.error_message().contains("too many uploads"), "{r:?}");
                assert_eq!(r.header("retry-after"), Some("3"));
            }
            other => panic!("unexpected {other}: {}", String::from_utf8_lossy(&r.body)),
        }
    }
    watching.store(false, Ordering::Relaxed);
    watcher.await.expect("watcher");
    assert!(ok >= 1 && refused >= 1, "ok {ok}, refused {refused}");
    let peak = peak.load(Ordering::Relaxed);
    assert!(peak <= budget, "{peak} bytes in flight, budget {budget}");
    assert_eq!(uploads_in_flight(&server).await, (0, 0));
    // The budget is back: a big upload goes through.
    let r = post(addr, "/api/v1/predict", "audio/wav", &wav)
        .await
        .expect("request");
    assert_eq!(r.status, 200);
    server.stop().await;
}

/// Slow on recordings named `slow*.wav`, immediate otherwise.
struct SlowOnSome(StandInClassifier);

impl Classifier for SlowOnSome {
    fn predict(
        &self,
        audio: &Audio,
        name: &str,
        events: Option<&[(f64, f64)]>,
    ) -> Result<Value, ClassifyError> {
        if name.starts_with("slow") {
            std::thread::sleep(Duration::from_millis(1500));
        }
        self.0.predict(audio, name, events)
    }

    fn models(&self) -> Vec<Value> {
        self.0.models()
    }
}

/// Issue 13 item 3: past the compute deadline the answer is 503, not a long wait; a request
/// still waiting for a slot at its deadline is not run at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_compute_deadline_answers_503() {
    let config = ServeConfig {
        max_concurrency: 1,
        compute_timeout: Duration::from_millis(400),
        retry_after_s: 2,
        ..ServeConfig::default()
    };
    let server = TestServer::start(Arc::new(SlowOnSome(StandInClassifier::new())), config).await;
    let addr = server.addr;
    let wav = Arc::new(synthetic_wav(1.0, 8000));
    let slow = {
        let wav = Arc::clone(&wav);
        tokio::spawn(async move {
            let start = Instant::now();
            let r = post(addr, "/api/v1/predict?name=slow.wav", "audio/wav", &wav).await;
            (r.expect("request"), start.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await; // the slow one has the slot
    let start = Instant::now();
    let queued = post(addr, "/api/v1/predict?name=fast.wav", "audio/wav", &wav)
        .await
        .expect("request");
    assert_eq!(
        queued.status,
        503,
        "{}",
        String::from_utf8_lossy(&queued.body)
    );
    assert_eq!(queued.error_code(), "compute_timeout");
    assert!(queued.error_message().contains("waiting for a free slot"));
    assert!(start.elapsed() < Duration::from_millis(1200));
    let (r, took) = slow.await.expect("task");
    assert_eq!(r.status, 503, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        (r.error_code().as_str(), r.header("retry-after")),
        ("compute_timeout", Some("2"))
    );
    assert!(
        took < Duration::from_millis(1200),
        "answered after {took:?}"
    );
    // The slot is released when the model returns; then fast requests run again.
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let r = post(addr, "/api/v1/predict?name=fast.wav", "audio/wav", &wav)
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    server.stop().await;
}

/// Issue 13 item 9: a bounded abuse run in the suite. For a few seconds, trickling uploads
/// (reconnecting when cut), oversized, malformed and truncated bodies, hostile headers,
/// 1 Hz and too-short WAVs run alongside good requests; every good request must succeed,
/// every bad one get a JSON error, and the server stay up with nothing left in flight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_requests_succeed_amid_a_mix_of_abuse() {
    let config = ServeConfig {
        max_upload_bytes: 512 * 1024,
        max_upload_bytes_in_flight: 4 * 1024 * 1024,
        max_uploads_in_flight: 64,
        max_concurrency: 2,
        queue: 16,
        body_rate_grace: Duration::from_millis(500),
        body_timeout: Duration::from_secs(5),
        ..ServeConfig::default()
    };
    let classifier = StandInClassifier::new()
        .with_delay(Duration::from_millis(5))
        .with_min_duration_s(1.0);
    let server = TestServer::start(Arc::new(classifier), config).await;
    let addr = server.addr;
    let stop = Arc::new(AtomicBool::new(false));
    let attack_statuses = Arc::new(std::sync::Mutex::new(Vec::<(String, u16, String)>::new()));

    let mut attackers = Vec::new();
    for _ in 0..40 {
        let stop = Arc::clone(&stop);
        let log = Arc::clone(&attack_statuses);
        attackers.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = trickle(
                    addr,
                    "/api/v1/predict",
                    400_000,
                    Duration::from_millis(200),
                    &stop,
                )
                .await;
                if let Ok(Some(r)) = r {
                    let code = r.error_code();
                    log.lock()
                        .expect("log")
                        .push(("trickle".into(), r.status, code));
                }
            }
        }));
    }
    let bad_requests: Vec<(&'static str, Vec<u8>)> = {
        let host = format!("Host: {addr}\r\nConnection: close\r\n");
        let raw_post = |ct: &str, body: &[u8]| {
            let mut r = format!(
                "POST /api/v1/predict HTTP/1.1\r\n{host}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            r.extend_from_slice(body);
            r
        };
        let too_big = synthetic_wav(20.0, 16_000); // 640 kB
        let one_hz = lungsound_testutil::wav_bytes(&[0.2; 2000], 1, 1, 16, false);
        let short = synthetic_wav(0.2, 8000);
        let good = synthetic_wav(2.0, 8000);
        let (mp_type, no_file) = multipart(&[("recording", Some("a.wav"), &good)]);
        vec![
            ("oversized", raw_post("audio/wav", &too_big)),
            ("1 Hz", raw_post("audio/wav", &one_hz)),
            ("too short", raw_post("audio/wav", &short)),
            ("truncated", raw_post("audio/wav", &good[..30])),
            ("text", raw_post("audio/wav", b"hello, not audio")),
            ("no file part", raw_post(&mp_type, &no_file)),
            (
                "bad multipart",
                raw_post("multipart/form-data; boundary=zz", &good),
            ),
            ("bad content type", raw_post("audio/\x01wav", &good)),
            (
                "long uri",
                format!("GET /?{} HTTP/1.1\r\n{host}\r\n", "q".repeat(70_000)).into_bytes(),
            ),
            (
                "many headers",
                format!(
                    "GET /healthz HTTP/1.1\r\n{host}{}\r\n",
                    (0..150)
                        .map(|i| format!("X-{i}: y\r\n"))
                        .collect::<String>()
                )
                .into_bytes(),
            ),
        ]
    };
    let bad_requests = Arc::new(bad_requests);
    for w in 0..3 {
        let stop = Arc::clone(&stop);
        let log = Arc::clone(&attack_statuses);
        let bad_requests = Arc::clone(&bad_requests);
        attackers.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let (what, bytes) = &bad_requests[i % bad_requests.len()];
                i += 1;
                if let Ok(r) = http::raw(addr, bytes).await {
                    // Every refusal is a JSON error (error_code panics otherwise).
                    let code = r.error_code();
                    log.lock()
                        .expect("log")
                        .push(((*what).to_string(), r.status, code));
                }
            }
        }));
    }

    tokio::time::sleep(Duration::from_millis(300)).await; // let the abuse build up
    let wav = Arc::new(synthetic_wav(3.0, 8000));
    let good: Vec<_> = (0..3)
        .map(|w| {
            let wav = Arc::clone(&wav);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in 0..15 {
                    let start = Instant::now();
                    let r = post(
                        addr,
                        &format!("/api/v1/predict?name=good-{w}-{i}.wav"),
                        "audio/wav",
                        &wav,
                    )
                    .await
                    .expect("request");
                    assert_eq!(
                        r.status,
                        200,
                        "good request {w}-{i}: {}",
                        String::from_utf8_lossy(&r.body)
                    );
                    assert_eq!(r.json()["file"], format!("good-{w}-{i}.wav"));
                    latencies.push(start.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for g in good {
        latencies.extend(g.await.expect("good requests"));
    }
    let trickled_long_enough = Instant::now() + Duration::from_millis(700);
    tokio::time::sleep_until(trickled_long_enough.into()).await; // at least one cut per trickler
    stop.store(true, Ordering::Relaxed);
    for a in attackers {
        a.await.expect("attacker");
    }
    latencies.sort();
    let slowest = latencies.last().copied().unwrap_or_default();
    assert!(
        slowest < Duration::from_secs(3),
        "slowest good request {slowest:?}"
    );

    let log = attack_statuses.lock().expect("log").clone();
    let expect = |what: &str, status: u16, code: &str| {
        let seen: Vec<_> = log.iter().filter(|(w, _, _)| w == what).collect();
        assert!(!seen.is_empty(), "no answer to {what}");
        for (_, s, c) in seen {
            // Over capacity is a fair answer to anything under this load.
            assert!(
                (*s, c.as_str()) == (status, code) || (*s, c.as_str()) == (503, "over_capacity"),
                "{what}: {s} {c}"
            );
        }
    };
    expect("trickle", 408, "body_timeout");
    expect("oversized", 413, "payload_too_large");
    expect("1 Hz", 422, "corrupt_audio");
    expect("too short", 422, "too_short");
    expect("truncated", 422, "corrupt_audio");
    expect("text", 415, "unsupported_media_type");
    expect("no file part", 400, "missing_file");
    expect("bad multipart", 400, "invalid_multipart");
    expect("bad content type", 400, "malformed_request");
    expect("long uri", 414, "uri_too_long");
    expect("many headers", 431, "headers_too_large");

    let health = get(addr, "/healthz").await.expect("healthz");
    assert_eq!(health.status, 200);
    assert_eq!(
        wait_for(&server, Duration::from_secs(2), |(n, b)| n == 0 && b == 0).await,
        (0, 0)
    );
    server.stop().await;
}
