//! Bounded load test of `POST /api/v1/predict`: N requests, C at a time, only to a loopback
//! address; prints latency percentiles and throughput (and a Markdown table row).
//!
//! ```sh
//! # In-process server with the stand-in classifier (no libtorch):
//! cargo run --release -p lungsound-serve --example load -- --requests 1000 --concurrency 32
//! # Against a running `lungsound serve` (the real model):
//! cargo run --release -p lungsound-serve --example load -- --url http://127.0.0.1:8080 --file rec.flac
//! ```
//!
//! Options: `--url` (loopback only; default: start a server here), `--file` (WAV/FLAC to
//! upload; default a SPRSound recording from ../shared/data, else a synthetic 10 s WAV),
//! `--requests` (1000), `--concurrency` (32), `--delay-ms` (stand-in compute per request,
//! 0), `--max-seconds` (stop sending after this long, 300).

#[path = "../tests/serve/http.rs"]
mod http;

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use lungsound_serve::{ServeConfig, Server, StandInClassifier};

struct Options {
    url: Option<String>,
    file: Option<PathBuf>,
    requests: usize,
    concurrency: usize,
    delay_ms: u64,
    max_seconds: u64,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        url: None,
        file: None,
        requests: 1000,
        concurrency: 32,
        delay_ms: 0,
        max_seconds: 300,
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}"));
        match flag.as_str() {
            "--url" => o.url = Some(value()?),
            "--file" => o.file = Some(PathBuf::from(value()?)),
            "--requests" => o.requests = number(value()?)? as usize,
            "--concurrency" => o.concurrency = (number(value()?)? as usize).max(1),
            "--delay-ms" => o.delay_ms = number(value()?)?,
            "--max-seconds" => o.max_seconds = number(value()?)?,
            other => {
                return Err(format!(
                    "unknown option {other} (see the doc comment of examples/load.rs)"
                ));
            }
        }
    }
    if o.requests == 0 || o.requests > 100_000 {
        return Err(format!("--requests must be 1..=100000, got {}", o.requests));
    }
    Ok(o)
}

/// `http://HOST:PORT[/]` → a socket address, which must be on this machine.
fn loopback_addr(url: &str) -> Result<SocketAddr, String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("--url must start with http://")?;
    let host_port = rest.trim_end_matches('/');
    let addr = host_port
        .to_socket_addrs()
        .map_err(|e| format!("--url {url}: {e}"))?
        .next()
        .ok_or_else(|| format!("--url {url}: no address"))?;
    let loopback = match addr.ip() {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.is_loopback(),
    };
    if !loopback {
        return Err(format!(
            "--url must be a loopback address (127.0.0.0/8 or ::1), got {}",
            addr.ip()
        ));
    }
    Ok(addr)
}

fn recording(file: Option<PathBuf>) -> Result<(String, Vec<u8>), String> {
    let path = match file {
        Some(p) => Some(p),
        None => lungsound_testutil::sprsound_train().and_then(|dir| {
            lungsound_testutil::files_with_extension(&dir, "flac")
                .into_iter()
                .next()
        }),
    };
    match path {
        Some(p) => {
            let bytes =
                std::fs::read(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
            Ok((p.display().to_string(), bytes))
        }
        None => {
            let samples = lungsound_testutil::white_noise(80_000, 5);
            Ok((
                "synthetic 10 s 8 kHz WAV".into(),
                lungsound_testutil::wav_bytes(&samples, 8000, 1, 16, false),
            ))
        }
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let o = parse_args()?;
    let (name, body) = recording(o.file.clone())?;
    let (addr, _server) = match &o.url {
        Some(url) => (loopback_addr(url)?, None),
        None => {
            let classifier =
                Arc::new(StandInClassifier::new().with_delay(Duration::from_millis(o.delay_ms)));
            let server = Server::bind(
                "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
                classifier,
                ServeConfig::default(),
            )
            .await
            .map_err(|e| e.to_string())?;
            let addr = server.local_addr();
            let (tx, rx) = tokio::sync::oneshot::channel::<()>();
            let handle = tokio::spawn(server.run_until(async {
                let _ = rx.await;
            }));
            (addr, Some((tx, handle)))
        }
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "load test: {} requests, {} concurrent, to http://{addr}/api/v1/predict ({}), uploading {name} ({} bytes); {cores} CPU cores",
        o.requests,
        o.concurrency,
        if o.url.is_some() {
            "external server"
        } else {
            "in-process server, stand-in classifier"
        },
        body.len()
    );

    let body = Arc::new(body);
    let next = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(o.max_seconds);
    let start = Instant::now();
    let workers: Vec<_> = (0..o.concurrency)
        .map(|_| {
            let (body, next) = (Arc::clone(&body), Arc::clone(&next));
            let requests = o.requests;
            tokio::spawn(async move {
                let mut results = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < requests && Instant::now() < deadline {
                    let t = Instant::now();
                    let r = http::post(addr, "/api/v1/predict", "application/octet-stream", &body)
                        .await;
                    results.push((
                        r.map(|r| r.status).unwrap_or(0),
                        t.elapsed().as_secs_f64() * 1e3,
                    ));
                }
                results
            })
        })
        .collect();
    let mut results = Vec::with_capacity(o.requests);
    for w in workers {
        results.extend(w.await.map_err(|e| e.to_string())?);
    }
    let wall = start.elapsed().as_secs_f64();
    if let Some((tx, handle)) = _server {
        let _ = tx.send(());
        let _ = handle.await;
    }

    let mut ok: Vec<f64> = results
        .iter()
        .filter(|(s, _)| *s == 200)
        .map(|(_, ms)| *ms)
        .collect();
    ok.sort_by(f64::total_cmp);
    let mut statuses = std::collections::BTreeMap::new();
    for (s, _) in &results {
        *statuses.entry(*s).or_insert(0usize) += 1;
    }
    let (p50, p90, p99) = (
        percentile(&ok, 50.0),
        percentile(&ok, 90.0),
        percentile(&ok, 99.0),
    );
    let max = ok.last().copied().unwrap_or(f64::NAN);
    let throughput = ok.len() as f64 / wall;
    println!("statuses: {statuses:?} (0 = connection error)");
    println!("latency of 200s (ms): p50 {p50:.1}, p90 {p90:.1}, p99 {p99:.1}, max {max:.1}");
    println!(
        "throughput: {throughput:.1} requests/s ({} ok in {wall:.2} s)",
        ok.len()
    );
    println!(
        "| {} | {} | {} | {p50:.1} | {p90:.1} | {p99:.1} | {max:.1} | {throughput:.1} |",
        results.len(),
        o.concurrency,
        ok.len()
    );
    if ok.len() != results.len() {
        return Err(format!(
            "{} of {} requests failed",
            results.len() - ok.len(),
            results.len()
        ));
    }
    Ok(())
}
