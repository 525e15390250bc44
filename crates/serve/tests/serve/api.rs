//! The endpoints on good input.

use serde_json::Value;

use crate::http::{self, get, multipart, post, url_encode};
use crate::{TestServer, expected_stand_in, fixture_flac, synthetic_wav};

#[tokio::test]
async fn healthz_says_ok_with_load_figures() {
    let server = TestServer::stand_in().await;
    let r = get(server.addr, "/healthz").await.expect("request");
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["running"], 0);
    assert!(body["max_concurrency"].as_u64().expect("max_concurrency") >= 1);
    server.stop().await;
}

#[tokio::test]
async fn models_lists_the_classifier_description_and_limits() {
    let server = TestServer::stand_in().await;
    let r = get(server.addr, "/api/v1/models").await.expect("request");
    assert_eq!(r.status, 200);
    assert!(
        r.header("content-type")
            .expect("content-type")
            .starts_with("application/json")
    );
    let body = r.json();
    let model = &body["models"][0];
    assert_eq!(model["name"], "stand-in");
    assert_eq!(model["task"], "2-2");
    assert_eq!(model["classes"].as_array().map(Vec::len), Some(5));
    assert_eq!(body["limits"]["max_upload_bytes"], 20 * 1024 * 1024);
    assert_eq!(body["limits"]["max_duration_s"], 120.0);
    server.stop().await;
}

#[tokio::test]
async fn openapi_document_is_valid_json_and_covers_every_route_and_error_code() {
    let server = TestServer::stand_in().await;
    let r = get(server.addr, "/api/v1/openapi.json")
        .await
        .expect("request");
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(doc["openapi"].as_str().expect("openapi").starts_with("3."));
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/v1/predict", "post"),
        ("/api/v1/models", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/healthz", "get"),
        ("/", "get"),
        ("/assets/{file}", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} not documented"
        );
    }
    // Every code the server can send is in the documented enum, and nothing else.
    let documented: Vec<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .expect("ErrorCode enum")
        .iter()
        .map(|v| v.as_str().expect("string"))
        .collect();
    let actual: Vec<&str> = lungsound_serve::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(documented, actual);
    // Every error status the predict endpoint can send is documented with the Error schema.
    let responses = &doc["paths"]["/api/v1/predict"]["post"]["responses"];
    for code in lungsound_serve::ErrorCode::ALL {
        let status = code.status().as_u16();
        if matches!(status, 404 | 405) {
            continue; // not specific to predict
        }
        assert!(
            responses.get(status.to_string()).is_some(),
            "predict does not document {status} ({code:?})"
        );
    }
    // All references resolve.
    let mut refs = Vec::new();
    collect_refs(&doc, &mut refs);
    assert!(refs.len() > 10);
    for reference in refs {
        let pointer = reference.strip_prefix('#').expect("local ref");
        assert!(doc.pointer(pointer).is_some(), "dangling $ref {reference}");
    }
    // The served document is the embedded one.
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(lungsound_serve::OPENAPI_JSON).expect("embedded")
    );
    server.stop().await;
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "$ref" {
                    out.push(v.as_str().expect("$ref string").to_string());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn page_and_its_assets_are_served_self_contained() {
    let server = TestServer::stand_in().await;
    let page = get(server.addr, "/").await.expect("request");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        page.header("content-security-policy")
            .expect("CSP")
            .contains("default-src 'self'")
    );
    let html = String::from_utf8(page.body).expect("utf-8");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page must not load anything remote"
    );
    for (asset, content_type) in [
        ("/assets/app.js", "text/javascript; charset=utf-8"),
        ("/assets/style.css", "text/css; charset=utf-8"),
        ("/assets/favicon.svg", "image/svg+xml"),
    ] {
        assert!(html.contains(asset), "page does not link {asset}");
        let r = get(server.addr, asset).await.expect("request");
        assert_eq!(
            (r.status, r.header("content-type")),
            (200, Some(content_type)),
            "{asset}"
        );
        let text = String::from_utf8(r.body)
            .expect("utf-8")
            .replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(
            !text.contains("https://") && !text.contains("http://"),
            "{asset} refers to a remote URL"
        );
    }
    let missing = get(server.addr, "/assets/nope.js").await.expect("request");
    assert_eq!(
        (missing.status, missing.error_code()),
        (404, "not_found".to_string())
    );
    server.stop().await;
}

#[tokio::test]
async fn raw_wav_body_gives_the_classifiers_json() {
    let server = TestServer::stand_in().await;
    let wav = synthetic_wav(5.0, 8000);
    for content_type in ["audio/wav", "audio/x-wav", "application/octet-stream"] {
        let r = post(server.addr, "/api/v1/predict", content_type, &wav)
            .await
            .expect("request");
        assert_eq!(
            r.status,
            200,
            "{content_type}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(
            r.json(),
            expected_stand_in(&wav, "upload", None),
            "{content_type}"
        );
        assert!(
            r.header("server-timing")
                .expect("server-timing")
                .contains("predict;dur=")
        );
    }
    // No Content-Type at all is a raw upload too; ?name= names it.
    let r = http::request(
        server.addr,
        "POST",
        "/api/v1/predict?name=chest.wav",
        &[],
        &wav,
    )
    .await
    .expect("request");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["file"], "chest.wav");
    server.stop().await;
}

#[tokio::test]
async fn multipart_upload_uses_the_file_name_and_the_events_part() {
    let server = TestServer::stand_in().await;
    let wav = synthetic_wav(6.0, 4000);
    let annotation = br#"{"record_annotation": "CAS", "event_annotation": [
        {"start": "3000", "end": "4500", "type": "Wheeze"}, {"start": 250, "end": "1250", "type": "Normal"}]}"#;
    let (ct, body) = multipart(&[
        ("note", None, b"ignored"),
        ("file", Some("dir/patient 7.wav"), &wav),
        ("events", None, annotation),
    ]);
    let r = post(server.addr, "/api/v1/predict", &ct, &body)
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    let events = [(3.0, 4.5), (0.25, 1.25)]; // in seconds, in the order given
    assert_eq!(
        r.json(),
        expected_stand_in(&wav, "patient 7.wav", Some(&events))
    );
    assert_eq!(r.json()["predictions"][0]["events"][1]["start_s"], 0.25);
    server.stop().await;
}

#[tokio::test]
async fn events_can_come_as_a_query_parameter() {
    let server = TestServer::stand_in().await;
    let wav = synthetic_wav(3.0, 8000);
    let events = url_encode(r#"[{"start_s": 0.5, "end_s": 1.5}, [2, 2.9]]"#);
    let path = format!("/api/v1/predict?events={events}");
    let r = post(server.addr, &path, "audio/wav", &wav)
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(
        r.json(),
        expected_stand_in(&wav, "upload", Some(&[(0.5, 1.5), (2.0, 2.9)]))
    );
    server.stop().await;
}

#[tokio::test]
async fn flac_upload_raw_and_multipart() {
    let server = TestServer::stand_in().await;
    let flac = fixture_flac();
    let r = post(server.addr, "/api/v1/predict", "audio/flac", &flac)
        .await
        .expect("request");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json(), expected_stand_in(&flac, "upload", None));
    let (ct, body) = multipart(&[("file", Some("tone.flac"), &flac)]);
    let r = post(server.addr, "/api/v1/predict", &ct, &body)
        .await
        .expect("request");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["file"], "tone.flac");
    server.stop().await;
}

#[tokio::test]
async fn stereo_and_float_wavs_are_accepted() {
    let server = TestServer::stand_in().await;
    let samples = lungsound_testutil::sine(200.0, 16_000, 1.0, 0.5);
    for (channels, bits, float) in [(2, 16, false), (1, 24, false), (1, 32, true)] {
        let wav = lungsound_testutil::wav_bytes(&samples, 16_000, channels, bits, float);
        let r = post(server.addr, "/api/v1/predict", "audio/wav", &wav)
            .await
            .expect("request");
        assert_eq!(
            r.status,
            200,
            "{channels} ch {bits} bit: {}",
            String::from_utf8_lossy(&r.body)
        );
    }
    server.stop().await;
}
