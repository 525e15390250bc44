//! Real recordings from ../shared/data (skipped with a message when it is absent).

use std::path::Path;

use crate::http::{multipart, post};
use crate::{TestServer, expected_stand_in};

#[tokio::test]
async fn sprsound_flac_with_its_annotation_as_multipart() {
    let dir = lungsound_testutil::skip_without_data!("sprsound/train2022");
    let server = TestServer::stand_in().await;
    let flacs = lungsound_testutil::files_with_extension(&dir, "flac");
    assert!(!flacs.is_empty(), "no FLAC in {}", dir.display());
    // A handful spread over the set, including one with events.
    let mut picked: Vec<&Path> = flacs
        .iter()
        .step_by(flacs.len().div_ceil(4))
        .map(|p| p.as_path())
        .collect();
    if let Some(with_events) = flacs.iter().find(|p| {
        std::fs::read_to_string(p.with_extension("json")).is_ok_and(|t| t.contains("\"start\""))
    }) {
        picked.push(with_events);
    }
    for flac in picked {
        let bytes = std::fs::read(flac).expect("read flac");
        let annotation = std::fs::read(flac.with_extension("json")).expect("read json");
        let name = flac.file_name().and_then(|n| n.to_str()).expect("name");
        let (ct, body) = multipart(&[("file", Some(name), &bytes), ("events", None, &annotation)]);
        let r = post(server.addr, "/api/v1/predict", &ct, &body)
            .await
            .expect("request");
        assert_eq!(
            r.status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let result = r.json();
        assert_eq!(result["file"], name);
        let n_events = serde_json::from_slice::<serde_json::Value>(&annotation)
            .expect("annotation")["event_annotation"]
            .as_array()
            .map_or(0, Vec::len);
        let prediction = &result["predictions"][0];
        let events = prediction["events"].as_array().map(Vec::len);
        assert_eq!(events, Some(n_events), "{name}");
        if n_events == 0 {
            // No events in the annotation: the recording is scanned instead.
            assert!(
                prediction["segments"]
                    .as_array()
                    .is_some_and(|s| !s.is_empty()),
                "{name}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn icbhi_wavs_as_raw_bodies() {
    let dir = lungsound_testutil::skip_without_data!("icbhi/audio_and_txt");
    let server = TestServer::stand_in().await;
    let wavs = lungsound_testutil::files_with_extension(&dir, "wav");
    for wav in wavs.iter().take(3) {
        let bytes = std::fs::read(wav).expect("read wav");
        let name = wav.file_name().and_then(|n| n.to_str()).expect("name");
        let r = post(
            server.addr,
            &format!("/api/v1/predict?name={name}"),
            "audio/wav",
            &bytes,
        )
        .await
        .expect("request");
        assert_eq!(
            r.status,
            200,
            "{name}: {}",
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.json(), expected_stand_in(&bytes, name, None), "{name}");
    }
    server.stop().await;
}
