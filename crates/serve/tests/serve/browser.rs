//! The web page in headless Chromium: starts a server with the stand-in classifier (and a
//! second one that lists two models, one gated), runs `e2e/browser.mjs` (Playwright) against
//! them, which uploads a real recording (a synthetic one without ../shared/data), checks what
//! the page shows and saves screenshots under `$CARGO_TARGET_TMPDIR/serve-e2e/`.
//!
//! Needs `node`, Chromium (`/usr/bin/chromium`, or `$LUNGSOUND_CHROMIUM`) and
//! `npm ci --prefix crates/serve/e2e`. Without them the test is skipped with a loud message,
//! except under CI (`CI` set), where it fails: CI installs them in `.ci/run`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use lungsound_serve::{ServeConfig, StandInClassifier};

use crate::TestServer;

const TIME_LIMIT: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn page_shows_the_prediction_for_an_uploaded_recording() {
    let e2e = Path::new(env!("CARGO_MANIFEST_DIR")).join("e2e");
    let chromium = std::env::var_os("LUNGSOUND_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    let node = find_in_path("node");
    let mut missing = Vec::new();
    if node.is_none() {
        missing.push("node (apt-get install nodejs)".to_string());
    }
    if !chromium.is_file() {
        missing.push(format!(
            "{} (apt-get install chromium chromium-driver)",
            chromium.display()
        ));
    }
    if !e2e
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        missing.push("playwright-core (npm ci --prefix crates/serve/e2e)".to_string());
    }
    if !missing.is_empty() {
        let message = format!("browser test needs {}", missing.join(", "));
        if std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false") {
            panic!("{message}: .ci/run must install them");
        }
        // Straight to the process's stderr: the test harness would swallow `eprintln!`.
        let _ = writeln!(
            std::io::stderr(),
            "\n!!!!!!!!!!\nSKIPPING page_shows_the_prediction_for_an_uploaded_recording: {message}\n!!!!!!!!!!\n"
        );
        return;
    }
    let Some(node) = node else { return };

    let scratch = lungsound_testutil::temp_dir();
    let (recording, annotation) = recording_to_upload(scratch.path());
    let not_audio = scratch.path().join("notes.txt");
    std::fs::write(
        &not_audio,
        "Auscultation notes: fine crackles, left base.\n",
    )
    .expect("write notes");
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-e2e");
    std::fs::create_dir_all(&shots).expect("screenshot dir");

    let server = TestServer::stand_in().await;
    // Two models, one gated (as `lungsound serve --gate` lists them): the model chooser.
    let two_models = TestServer::start(
        Arc::new(StandInClassifier::new().with_gated_copy()),
        ServeConfig::default(),
    )
    .await;
    let mut command = Command::new(node);
    command
        .arg(e2e.join("browser.mjs"))
        .current_dir(&e2e)
        .env("SERVE_URL", format!("http://{}/", server.addr))
        .env("TWO_MODELS_URL", format!("http://{}/", two_models.addr))
        .env("RECORDING", &recording)
        .env("NOT_AUDIO", &not_audio)
        .env("SCREENSHOT_DIR", &shots)
        .env("CHROMIUM", &chromium);
    if let Some(annotation) = &annotation {
        command.env("ANNOTATION", annotation);
    }
    // The server runs on this runtime: wait for node on a blocking thread.
    let logs = scratch.path().to_path_buf();
    let output = tokio::task::spawn_blocking(move || run_with_limit(command, &logs, TIME_LIMIT))
        .await
        .expect("join");
    server.stop().await;
    two_models.stop().await;
    let (ok, stdout, stderr) = output;
    println!("{stdout}");
    eprintln!("{stderr}");
    println!("screenshots: {}", shots.display());
    assert!(ok, "browser test failed (see its output above)");
    assert!(shots.join("serve-page.png").is_file(), "no screenshot");
}

/// A SPRSound recording with events and its annotation, or a synthetic WAV and annotation.
fn recording_to_upload(scratch: &Path) -> (PathBuf, Option<PathBuf>) {
    if let Some(dir) = lungsound_testutil::sprsound_train() {
        let found = lungsound_testutil::files_with_extension(&dir, "flac")
            .into_iter()
            .find(|p| {
                std::fs::read_to_string(p.with_extension("json"))
                    .is_ok_and(|t| t.matches("\"start\"").count() >= 3)
            });
        if let Some(flac) = found {
            let json = flac.with_extension("json");
            return (flac, Some(json));
        }
    }
    eprintln!("browser test: ../shared/data/sprsound not found, uploading a synthetic recording");
    let wav = scratch.join("synthetic.wav");
    std::fs::write(&wav, crate::synthetic_wav(8.0, 8000)).expect("write wav");
    let json = scratch.join("synthetic.json");
    std::fs::write(
        &json,
        r#"{"record_annotation": "CAS", "event_annotation": [{"start": "400", "end": "1900", "type": "Normal"},
            {"start": "2500", "end": "4200", "type": "Wheeze"}, {"start": "5000", "end": "7600", "type": "Normal"}]}"#,
    )
    .expect("write json");
    (wav, Some(json))
}

/// Runs `command` (output to files in `logs`, so no pipe can fill up), killing it after
/// `limit`; returns (success, stdout, stderr).
fn run_with_limit(mut command: Command, logs: &Path, limit: Duration) -> (bool, String, String) {
    let (out_path, err_path) = (logs.join("node.stdout"), logs.join("node.stderr"));
    let out = std::fs::File::create(&out_path).expect("stdout file");
    let err = std::fs::File::create(&err_path).expect("stderr file");
    let mut child = command
        .stdout(Stdio::from(out))
        .stderr(Stdio::from(err))
        .spawn()
        .expect("spawn node");
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => panic!("waiting for node: {e}"),
        }
    };
    let stdout = std::fs::read_to_string(&out_path).unwrap_or_default();
    let mut stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!("\nkilled after {} s", limit.as_secs()));
    }
    (status.is_some_and(|s| s.success()), stdout, stderr)
}

fn find_in_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|dir| dir.join(program))
        .find(|p| p.is_file())
}
