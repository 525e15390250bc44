//! Bad input and failing models: every answer is a JSON error with the right status and
//! code, and the server keeps serving.

use std::sync::Arc;

use lungsound_audio::Audio;
use lungsound_serve::{Classifier, ClassifyError, ServeConfig, StandInClassifier};
use serde_json::{Value, json};

use crate::http::{self, get, multipart, post, url_encode};
use crate::{TestServer, synthetic_wav};

/// Asserts status and code, and that the message mentions `needle`.
fn assert_error(r: &http::Response, status: u16, code: &str, needle: &str) {
    let body = String::from_utf8_lossy(&r.body).to_string();
    assert_eq!(r.status, status, "{body}");
    assert!(
        r.header("content-type")
            .is_some_and(|c| c.starts_with("application/json")),
        "{body}"
    );
    assert_eq!(r.error_code(), code, "{body}");
    assert!(
        r.error_message().contains(needle),
        "message lacks {needle:?}: {body}"
    );
}

#[tokio::test]
async fn corrupt_truncated_and_empty_uploads_are_422() {
    let server = TestServer::stand_in().await;
    let wav = synthetic_wav(2.0, 8000);

    let mut corrupt = wav.clone();
    corrupt[22..24].fill(0); // 0 channels
    let r = post(
        server.addr,
        "/api/v1/predict?name=bad.wav",
        "audio/wav",
        &corrupt,
    )
    .await
    .expect("request");
    assert_error(&r, 422, "corrupt_audio", "bad.wav");

    // An unknown format tag is an encoding we cannot decode: 415, not 422.
    let mut odd = wav.clone();
    odd[20..22].copy_from_slice(&0x0055u16.to_le_bytes()); // MPEG layer 3 in a WAV
    let r = post(
        server.addr,
        "/api/v1/predict?name=mp3.wav",
        "audio/wav",
        &odd,
    )
    .await
    .expect("request");
    assert_error(&r, 415, "unsupported_encoding", "mp3.wav");

    // A WAV cut short keeps its whole frames (as libsndfile reads it); a cut FLAC is corrupt.
    let truncated = &wav[..wav.len() / 2];
    let r = post(
        server.addr,
        "/api/v1/predict?name=cut.wav",
        "audio/wav",
        truncated,
    )
    .await
    .expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let duration_s = r.json()["duration_s"].as_f64().expect("duration_s");
    assert!((0.9..1.0).contains(&duration_s), "{duration_s}");
    let flac = crate::fixture_flac();
    let r = post(
        server.addr,
        "/api/v1/predict?name=cut.flac",
        "audio/flac",
        &flac[..flac.len() * 2 / 3],
    )
    .await
    .expect("request");
    assert_error(&r, 422, "corrupt_audio", "cut.flac");

    let r = post(server.addr, "/api/v1/predict", "audio/wav", b"")
        .await
        .expect("request");
    assert_error(&r, 422, "empty_upload", "empty");

    let no_frames = lungsound_testutil::wav_bytes(&[], 8000, 1, 16, false);
    let r = post(server.addr, "/api/v1/predict", "audio/wav", &no_frames)
        .await
        .expect("request");
    assert_error(&r, 422, "no_samples", "no audio samples");

    let nan = lungsound_testutil::wav_bytes(&[0.0, f32::NAN, 0.1], 8000, 1, 32, true);
    let r = post(server.addr, "/api/v1/predict", "audio/wav", &nan)
        .await
        .expect("request");
    assert_error(&r, 422, "invalid_samples", "non-finite");

    let (ct, body) = multipart(&[("file", Some("empty.flac"), b"")]);
    let r = post(server.addr, "/api/v1/predict", &ct, &body)
        .await
        .expect("request");
    assert_error(&r, 422, "empty_upload", "empty");
    server.stop().await;
}

#[tokio::test]
async fn text_files_and_other_media_types_are_415() {
    let server = TestServer::stand_in().await;
    let text = b"Patient notes: no wheeze heard.\n";
    let r = post(
        server.addr,
        "/api/v1/predict?name=notes.txt",
        "application/octet-stream",
        text,
    )
    .await
    .expect("request");
    assert_error(&r, 415, "unsupported_media_type", "not a WAV or FLAC");

    let (ct, body) = multipart(&[("file", Some("notes.wav"), text)]);
    let r = post(server.addr, "/api/v1/predict", &ct, &body)
        .await
        .expect("request");
    assert_error(&r, 415, "unsupported_media_type", "notes.wav");

    let r = post(server.addr, "/api/v1/predict", "text/plain", text)
        .await
        .expect("request");
    assert_error(&r, 415, "unsupported_media_type", "text/plain");
    let r = post(server.addr, "/api/v1/predict", "application/json", b"{}")
        .await
        .expect("request");
    assert_error(&r, 415, "unsupported_media_type", "application/json");
    server.stop().await;
}

#[tokio::test]
async fn malformed_requests_are_400() {
    let server = TestServer::stand_in().await;
    let wav = synthetic_wav(2.0, 8000);

    let (ct, body) = multipart(&[("recording", Some("a.wav"), &wav)]);
    let r = post(server.addr, "/api/v1/predict", &ct, &body)
        .await
        .expect("request");
    assert_error(&r, 400, "missing_file", "\"file\"");

    let r = post(server.addr, "/api/v1/predict", "multipart/form-data", &wav)
        .await
        .expect("request");
    assert_error(&r, 400, "invalid_multipart", "");

    let (ct, body) = multipart(&[
        ("file", Some("a.wav"), &wav),
        ("events", None, b"[{\"start_s\": 1}]"),
    ]);
    let r = post(server.addr, "/api/v1/predict", &ct, &body)
        .await
        .expect("request");
    assert_error(&r, 400, "invalid_events", "missing \"end_s\"");

    let path = format!("/api/v1/predict?events={}", url_encode("not json"));
    let r = post(server.addr, &path, "audio/wav", &wav)
        .await
        .expect("request");
    assert_error(&r, 400, "invalid_events", "not valid JSON");

    let (ct, body) = multipart(&[("file", Some("a.wav"), &wav), ("events", None, b"[]")]);
    let path = format!("/api/v1/predict?events={}", url_encode("[]"));
    let r = post(server.addr, &path, &ct, &body).await.expect("request");
    assert_error(&r, 400, "invalid_events", "once");

    let r = post(server.addr, "/api/v1/predict?events=%ZZ", "audio/wav", &wav)
        .await
        .expect("request");
    assert!(
        r.status == 400 && ["invalid_query", "invalid_events"].contains(&r.error_code().as_str()),
        "{r:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn events_all_past_the_end_of_the_recording_are_422() {
    let server = TestServer::stand_in().await;
    let wav = synthetic_wav(2.0, 8000);
    // (An event overlapping the end, or some past it, is clipped or skipped by the model's
    // clip pipeline with a warning instead.)
    let path = format!(
        "/api/v1/predict?events={}",
        url_encode("[[2.5, 3.0], [2.0, 2.2]]")
    );
    let r = post(server.addr, &path, "audio/wav", &wav)
        .await
        .expect("request");
    assert_error(&r, 422, "events_out_of_range", "lasts 2.000 s");
    server.stop().await;
}

#[tokio::test]
async fn oversize_uploads_are_413_raw_and_multipart() {
    let config = ServeConfig {
        max_upload_bytes: 100_000,
        ..ServeConfig::default()
    };
    let server = TestServer::start(Arc::new(StandInClassifier::new()), config).await;
    let big = synthetic_wav(10.0, 8000); // 160 kB
    let r = post(server.addr, "/api/v1/predict", "audio/wav", &big)
        .await
        .expect("request");
    assert_error(&r, 413, "payload_too_large", "100000 bytes");
    let (ct, body) = multipart(&[("file", Some("big.wav"), &big)]);
    let r = post(server.addr, "/api/v1/predict", &ct, &body)
        .await
        .expect("request");
    assert_error(&r, 413, "payload_too_large", "");
    // Just under the limit passes, and the server is still fine.
    let ok = synthetic_wav(6.0, 8000); // 96 kB
    let r = post(server.addr, "/api/v1/predict", "audio/wav", &ok)
        .await
        .expect("request");
    assert_eq!(r.status, 200);
    server.stop().await;
}

#[tokio::test]
async fn recordings_over_the_duration_limit_are_422() {
    let config = ServeConfig {
        max_duration_s: 3.0,
        ..ServeConfig::default()
    };
    let server = TestServer::start(Arc::new(StandInClassifier::new()), config).await;
    let long = synthetic_wav(4.0, 4000);
    let r = post(
        server.addr,
        "/api/v1/predict?name=long.wav",
        "audio/wav",
        &long,
    )
    .await
    .expect("request");
    assert_error(
        &r,
        422,
        "too_long",
        "long.wav\" lasts 4.0 s, longer than the limit of 3 s",
    );
    // A header that hides the length (streamed WAV, data size 0xFFFFFFFF) is caught after decoding.
    let mut streamed = long.clone();
    streamed[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    streamed[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let r = post(server.addr, "/api/v1/predict", "audio/wav", &streamed)
        .await
        .expect("request");
    assert!(
        r.status == 422 && ["too_long", "corrupt_audio"].contains(&r.error_code().as_str()),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    server.stop().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json_errors() {
    let server = TestServer::stand_in().await;
    let r = get(server.addr, "/api/v2/predict").await.expect("request");
    assert_error(&r, 404, "not_found", "/api/v2/predict");
    let r = get(server.addr, "/api/v1/predict").await.expect("request");
    assert_error(&r, 405, "method_not_allowed", "GET");
    server.stop().await;
}

/// Fails in the ways a real model might.
struct Faulty;

impl Classifier for Faulty {
    fn predict(
        &self,
        audio: &Audio,
        name: &str,
        _events: Option<&[(f64, f64)]>,
    ) -> Result<Value, ClassifyError> {
        match name {
            "panic.wav" => panic!("stand-in model panicked on purpose"),
            "short.wav" => Err(ClassifyError::Input(format!(
                "{:.1} s is shorter than the model's 8 s input",
                audio.duration_s()
            ))),
            "broken.wav" => Err(ClassifyError::Internal("weights are corrupt".into())),
            _ => Ok(json!({"file": name, "label": "Normal"})),
        }
    }

    fn models(&self) -> Vec<Value> {
        vec![
            json!({"name": "faulty", "task": "2-1", "classes": ["Normal", "Poor Quality", "Adventitious"]}),
        ]
    }
}

#[tokio::test]
async fn model_failures_and_panics_are_json_and_the_server_survives() {
    let server = TestServer::start(
        Arc::new(Faulty),
        ServeConfig {
            max_concurrency: 2,
            ..ServeConfig::default()
        },
    )
    .await;
    let wav = synthetic_wav(1.0, 8000);
    for _ in 0..3 {
        let r = post(
            server.addr,
            "/api/v1/predict?name=panic.wav",
            "audio/wav",
            &wav,
        )
        .await
        .expect("request");
        assert_error(&r, 500, "internal_error", "panicked");
    }
    let r = post(
        server.addr,
        "/api/v1/predict?name=short.wav",
        "audio/wav",
        &wav,
    )
    .await
    .expect("request");
    assert_error(
        &r,
        422,
        "unprocessable_audio",
        "shorter than the model's 8 s input",
    );
    let r = post(
        server.addr,
        "/api/v1/predict?name=broken.wav",
        "audio/wav",
        &wav,
    )
    .await
    .expect("request");
    assert_error(&r, 500, "internal_error", "weights are corrupt");
    // Panics released their slots: requests still run.
    let r = post(
        server.addr,
        "/api/v1/predict?name=fine.wav",
        "audio/wav",
        &wav,
    )
    .await
    .expect("request");
    assert_eq!(
        (r.status, r.json()["label"].clone()),
        (200, json!("Normal"))
    );
    let health = get(server.addr, "/healthz").await.expect("request").json();
    assert_eq!(
        (health["running"].clone(), health["waiting"].clone()),
        (json!(0), json!(0))
    );
    server.stop().await;
}

#[tokio::test]
async fn garbage_bytes_never_crash_the_server() {
    let server = TestServer::stand_in().await;
    let wav = synthetic_wav(0.5, 8000);
    let flac = crate::fixture_flac();
    // Deterministic damage: headers with random bytes, cut points, pure noise.
    let noise: Vec<u8> = lungsound_testutil::white_noise(4096, 11)
        .iter()
        .map(|x| (x * 127.0) as i8 as u8)
        .collect();
    let mut cases: Vec<Vec<u8>> = vec![
        noise.clone(),
        b"RIFF".to_vec(),
        b"fLaC".to_vec(),
        b"fLaC\0\0\0\x22".to_vec(),
    ];
    for (i, base) in [&wav, &flac].into_iter().enumerate() {
        for k in 0..12 {
            let mut damaged = base.clone();
            let at = (k * 7 + 4) % 60;
            for j in 0..8 {
                if let Some(b) = damaged.get_mut(at + j) {
                    *b ^= noise[k * 8 + j + i] | 1;
                }
            }
            cases.push(damaged);
            cases.push(base[..(base.len() * (k + 1)) / 13].to_vec());
        }
    }
    for (i, case) in cases.iter().enumerate() {
        let r = post(
            server.addr,
            "/api/v1/predict",
            "application/octet-stream",
            case,
        )
        .await
        .expect("request");
        assert!(
            r.status == 200 || (400..500).contains(&r.status),
            "case {i}: {} {}",
            r.status,
            String::from_utf8_lossy(&r.body)
        );
        if r.status != 200 {
            assert!(!r.error_code().is_empty());
        }
    }
    assert_eq!(
        get(server.addr, "/healthz").await.expect("request").status,
        200
    );
    server.stop().await;
}

/// Issue 13, "errors without body": hyper refuses these before any handler runs, and used to
/// answer with an empty body.
#[tokio::test]
async fn requests_refused_by_the_http_layer_get_json_errors_too() {
    let server = TestServer::stand_in().await;
    let addr = server.addr;
    let host = format!("Host: {addr}\r\nConnection: close\r\n");

    let long_uri = format!(
        "GET /api/v1/predict?name={} HTTP/1.1\r\n{host}\r\n",
        "a".repeat(70_000)
    );
    let r = http::raw(addr, long_uri.as_bytes()).await.expect("request");
    assert_error(&r, 414, "uri_too_long", "URI");

    let many_headers: String = (0..120).map(|i| format!("X-Pad-{i}: {i}\r\n")).collect();
    let r = http::raw(
        addr,
        format!("GET /healthz HTTP/1.1\r\n{host}{many_headers}\r\n").as_bytes(),
    )
    .await
    .expect("request");
    assert_error(&r, 431, "headers_too_large", "headers");
    let huge_header = format!("X-Pad: {}\r\n", "b".repeat(2_000_000));
    let r = http::raw(
        addr,
        format!("GET /healthz HTTP/1.1\r\n{host}{huge_header}\r\n").as_bytes(),
    )
    .await
    .expect("request");
    assert_error(&r, 431, "headers_too_large", "headers");

    // A control character in the Content-Type: the header cannot even be parsed.
    let wav = synthetic_wav(1.0, 8000);
    let mut bad_type = format!(
        "POST /api/v1/predict HTTP/1.1\r\n{host}Content-Type: audio/\x01wav\r\nContent-Length: {}\r\n\r\n",
        wav.len()
    )
    .into_bytes();
    bad_type.extend_from_slice(&wav);
    let r = http::raw(addr, &bad_type).await.expect("request");
    assert_error(&r, 400, "malformed_request", "malformed");
    let r = http::raw(addr, b"BR0KEN\r\n\r\n").await.expect("request");
    assert_error(&r, 400, "malformed_request", "malformed");

    // The rest of the error family stays JSON as well, and the server is fine.
    let r = post(addr, "/api/v1/predict", "text/plain", b"x")
        .await
        .expect("request");
    assert_error(&r, 415, "unsupported_media_type", "text/plain");
    let r = http::request(addr, "DELETE", "/healthz", &[], &[])
        .await
        .expect("request");
    assert_error(&r, 405, "method_not_allowed", "DELETE");
    let r = post(addr, "/api/v1/predict", "audio/wav", &wav)
        .await
        .expect("request");
    assert_eq!(r.status, 200);
    server.stop().await;
}

/// Issue 13, "confident nonsense": a 0.2 s clip and a one-sample WAV used to get confident
/// labels; below the model's minimum (and without events) they are refused, naming it.
#[tokio::test]
async fn recordings_too_short_for_the_model_are_422_naming_the_minimum() {
    let classifier = StandInClassifier::new().with_min_duration_s(1.0);
    let server = TestServer::start(Arc::new(classifier), ServeConfig::default()).await;
    let models = get(server.addr, "/api/v1/models").await.expect("request");
    assert_eq!(models.json()["limits"]["min_duration_s"], 1.0);

    let clip = synthetic_wav(0.2, 8000);
    let r = post(
        server.addr,
        "/api/v1/predict?name=clip.wav",
        "audio/wav",
        &clip,
    )
    .await
    .expect("request");
    assert_error(
        &r,
        422,
        "too_short",
        "\"clip.wav\" lasts 0.200 s, shorter than the minimum of 1 s",
    );
    let one_sample = lungsound_testutil::wav_bytes(&[0.5], 8000, 1, 16, false);
    let (ct, body) = multipart(&[("file", Some("one.wav"), &one_sample)]);
    let r = post(server.addr, "/api/v1/predict", &ct, &body)
        .await
        .expect("request");
    assert_error(&r, 422, "too_short", "minimum of 1 s");
    // A header that hides the length: caught after decoding.
    let mut streamed = clip.clone();
    streamed[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
    streamed[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let r = post(server.addr, "/api/v1/predict", "audio/wav", &streamed)
        .await
        .expect("request");
    assert_error(&r, 422, "too_short", "minimum of 1 s");
    // A header claiming 1 sample per second (the decoder refuses such rates).
    let one_hz = lungsound_testutil::wav_bytes(&[0.1; 4000], 1, 1, 16, false);
    let r = post(
        server.addr,
        "/api/v1/predict?name=1hz.wav",
        "audio/wav",
        &one_hz,
    )
    .await
    .expect("request");
    assert_error(&r, 422, "corrupt_audio", "1hz.wav");

    // Events name what to classify: then a short recording is the model's business.
    let path = format!("/api/v1/predict?events={}", url_encode("[[0.05, 0.15]]"));
    let r = post(server.addr, &path, "audio/wav", &clip)
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let long_enough = synthetic_wav(1.0, 8000);
    let r = post(server.addr, "/api/v1/predict", "audio/wav", &long_enough)
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    server.stop().await;
}
