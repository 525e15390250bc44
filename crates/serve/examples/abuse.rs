//! The service under abuse (issue 13), at a larger scale than the test suite's bounded
//! run: a server with the stand-in classifier and default limits runs in a child process
//! (so that its memory can be read from `/proc`, Linux only) on 127.0.0.1, and this
//! process attacks it while good clients use it. Prints what the good clients saw, the
//! answers to the attackers, and the server's peak and settled RSS per phase (and a
//! Markdown table for `BENCHMARKS.md`).
//!
//! ```sh
//! cargo run --release -p lungsound-serve --example abuse              # defaults below
//! cargo run --release -p lungsound-serve --example abuse -- --seconds 20 --tricklers 80
//! ```
//!
//! Phases:
//! 1. `trickle`: for `--seconds` (30), `--tricklers` (80) clients each declare a 1 MB body
//!    and send one byte every 5 s, reconnecting as soon as they are cut; 2 clients cycle
//!    through malformed, oversized, truncated, 1 Hz, too-short and hostile-header requests;
//!    `--good` (4) clients upload a real recording (a SPRSound FLAC from ../shared/data,
//!    else a synthetic 10 s WAV) back to back.
//! 2. `burst`: `--burst` (70) uploads of `--burst-mb` (19) MiB each (a 96 kHz stereo WAV)
//!    start at once, while the good clients go on; then 3 s of quiet, and the RSS again.
//!
//! The server process runs with `MALLOC_MMAP_THRESHOLD_=4194304`, as `lungsound serve`
//! sets it for itself (so that the memory of a burst goes back to the system);
//! `--malloc-defaults` runs it with glibc's defaults instead.

#[path = "../tests/serve/http.rs"]
mod http;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lungsound_serve::{ServeConfig, Server, StandInClassifier};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Options {
    seconds: u64,
    tricklers: usize,
    good: usize,
    burst: usize,
    burst_mb: usize,
    malloc_defaults: bool,
}

fn parse_args() -> Result<(bool, Options), String> {
    let mut o = Options {
        seconds: 30,
        tricklers: 80,
        good: 4,
        burst: 70,
        burst_mb: 19,
        malloc_defaults: false,
    };
    let mut serve = false;
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| format!("{flag} needs a value"))
                .and_then(|v| v.parse::<u64>().map_err(|e| format!("{flag} {v}: {e}")))
        };
        match flag.as_str() {
            "--serve" => serve = true,
            "--malloc-defaults" => o.malloc_defaults = true,
            "--seconds" => o.seconds = value()?.clamp(1, 600),
            "--tricklers" => o.tricklers = value()?.min(1000) as usize,
            "--good" => o.good = value()?.clamp(1, 64) as usize,
            "--burst" => o.burst = value()?.min(500) as usize,
            "--burst-mb" => o.burst_mb = value()?.clamp(1, 20) as usize,
            other => return Err(format!("unknown option {other} (see examples/abuse.rs)")),
        }
    }
    Ok((serve, o))
}

/// The child: a server with default limits on 127.0.0.1, its address on stdout, until
/// stdin closes.
async fn serve() -> Result<(), String> {
    let classifier = Arc::new(StandInClassifier::new().with_min_duration_s(1.0));
    let server = Server::bind(
        "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        classifier,
        ServeConfig::default(),
    )
    .await
    .map_err(|e| e.to_string())?;
    println!("ADDR {}", server.local_addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = Vec::new();
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
        let _ = tx.send(());
    });
    server
        .run_until(async {
            let _ = rx.await;
        })
        .await
        .map_err(|e| e.to_string())
}

/// VmHWM (peak) and VmRSS of `pid`, in MB.
fn memory_mb(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Resets the peak RSS of `pid` (Linux ≥ 4.0).
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn recording() -> (String, Vec<u8>) {
    let flac = lungsound_testutil::sprsound_train().and_then(|dir| {
        lungsound_testutil::files_with_extension(&dir, "flac")
            .into_iter()
            .next()
    });
    if let Some(bytes) = flac.as_ref().and_then(|p| std::fs::read(p).ok()) {
        return (
            flac.map(|p| p.display().to_string()).unwrap_or_default(),
            bytes,
        );
    }
    let samples = lungsound_testutil::white_noise(80_000, 5);
    (
        "synthetic 10 s 8 kHz WAV".into(),
        lungsound_testutil::wav_bytes(&samples, 8000, 1, 16, false),
    )
}

/// Statuses (by kind of client) and the latencies of the good clients' 200s.
#[derive(Default)]
struct Tally {
    statuses: BTreeMap<(String, u16), usize>,
    good_ms: Vec<f64>,
}

impl Tally {
    fn add(&mut self, kind: &str, status: u16) {
        *self.statuses.entry((kind.to_string(), status)).or_default() += 1;
    }
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((q / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Uploads `body` as a raw WAV without copying it per request.
async fn upload(addr: SocketAddr, body: Arc<Vec<u8>>) -> std::io::Result<u16> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut reader, mut writer) = stream.into_split();
    let write = tokio::spawn(async move {
        let head = format!(
            "POST /api/v1/predict HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: audio/wav\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
        writer
    });
    let mut raw = Vec::new();
    let read = reader.read_to_end(&mut raw).await;
    let _ = write.await;
    if read.is_err() && raw.is_empty() {
        return Ok(0);
    }
    Ok(std::str::from_utf8(raw.get(9..12).unwrap_or(b"000"))
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0))
}

fn bad_requests(addr: SocketAddr) -> Vec<(&'static str, Vec<u8>)> {
    let host = format!("Host: {addr}\r\nConnection: close\r\n");
    let post = |ct: &str, body: &[u8]| {
        let mut r = format!(
            "POST /api/v1/predict HTTP/1.1\r\n{host}Content-Type: {ct}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    };
    let good = lungsound_testutil::wav_bytes(
        &lungsound_testutil::white_noise(16_000, 2),
        8000,
        1,
        16,
        false,
    );
    let short = lungsound_testutil::wav_bytes(&[0.1; 1600], 8000, 1, 16, false);
    let one_hz = lungsound_testutil::wav_bytes(&[0.2; 4000], 1, 1, 16, false);
    vec![
        ("malformed", post("multipart/form-data; boundary=zz", &good)),
        ("malformed", post("audio/wav", b"not audio at all")),
        ("malformed", post("audio/wav", &good[..40])),
        ("malformed", post("audio/\x01wav", &good)),
        ("oversized", {
            let mut r = format!(
                "POST /api/v1/predict HTTP/1.1\r\n{host}Content-Type: audio/wav\r\nContent-Length: 999999999\r\n\r\n"
            )
            .into_bytes();
            r.extend_from_slice(&good);
            r
        }),
        ("tiny rate", post("audio/wav", &one_hz)),
        ("too short", post("audio/wav", &short)),
        (
            "hostile headers",
            format!("GET /?{} HTTP/1.1\r\n{host}\r\n", "q".repeat(70_000)).into_bytes(),
        ),
        (
            "hostile headers",
            format!(
                "GET /healthz HTTP/1.1\r\n{host}{}\r\n",
                (0..150)
                    .map(|i| format!("X-{i}: y\r\n"))
                    .collect::<String>()
            )
            .into_bytes(),
        ),
    ]
}

/// Runs the good clients until `stop`.
fn good_clients(
    addr: SocketAddr,
    n: usize,
    body: Arc<Vec<u8>>,
    stop: Arc<AtomicBool>,
    tally: Arc<Mutex<Tally>>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..n)
        .map(|_| {
            let (body, stop, tally) = (Arc::clone(&body), Arc::clone(&stop), Arc::clone(&tally));
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let status = http::post(addr, "/api/v1/predict", "audio/flac", &body)
                        .await
                        .map_or(0, |r| r.status);
                    let mut tally = tally.lock().expect("tally");
                    tally.add("good", status);
                    if status == 200 {
                        tally.good_ms.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                }
            })
        })
        .collect()
}

fn report(phase: &str, tally: &Tally, in_flight: usize, memory: (f64, f64), after: f64) {
    let mut good = tally.good_ms.clone();
    good.sort_by(f64::total_cmp);
    let total: usize = tally.statuses.values().sum();
    let statuses = tally
        .statuses
        .iter()
        .map(|((kind, status), n)| format!("{kind} {status}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    println!("{phase}: {total} requests, {in_flight} in flight; {statuses}");
    println!(
        "  good 200s: {} (p50 {:.1} ms, p99 {:.1} ms); server peak RSS {:.0} MB, RSS {:.0} MB after",
        good.len(),
        percentile(&good, 50.0),
        percentile(&good, 99.0),
        memory.0,
        after
    );
    println!(
        "| {phase} | {total} | {in_flight} | {statuses} | {:.1} | {:.1} | {:.0} | {:.0} |",
        percentile(&good, 50.0),
        percentile(&good, 99.0),
        memory.0,
        after
    );
}

struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let (is_server, o) = parse_args()?;
    if is_server {
        return serve().await;
    }
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut command = Command::new(exe);
    command.arg("--serve");
    if !o.malloc_defaults {
        command.env("MALLOC_MMAP_THRESHOLD_", "4194304");
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start the server process: {e}"))?;
    let pid = child.id();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let _child = Killer(child);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
        .map_err(|e| e.to_string())?;
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("ADDR ")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("unexpected server output {line:?}"))?;
    let (name, body) = recording();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "server pid {pid} on http://{addr} (stand-in classifier, default limits, {cores} cores, {}); good clients upload {name} ({} bytes); base RSS {:.0} MB",
        if o.malloc_defaults {
            "glibc malloc defaults"
        } else {
            "MALLOC_MMAP_THRESHOLD_=4194304"
        },
        body.len(),
        memory_mb(pid).1
    );
    let body = Arc::new(body);

    // Phase 1: trickle + malformed mix.
    reset_peak(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let mut tasks = Vec::new();
    for _ in 0..o.tricklers {
        let (stop, tally) = (Arc::clone(&stop), Arc::clone(&tally));
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                match http::trickle(
                    addr,
                    "/api/v1/predict",
                    1_000_000,
                    Duration::from_secs(5),
                    &stop,
                )
                .await
                {
                    Ok(Some(r)) => tally.lock().expect("tally").add("trickle", r.status),
                    Ok(None) => {}
                    Err(_) => tally.lock().expect("tally").add("trickle", 0),
                }
            }
        }));
    }
    let bad = Arc::new(bad_requests(addr));
    for w in 0..2 {
        let (stop, tally, bad) = (Arc::clone(&stop), Arc::clone(&tally), Arc::clone(&bad));
        tasks.push(tokio::spawn(async move {
            let mut i = w;
            while !stop.load(Ordering::Relaxed) {
                let (kind, bytes) = &bad[i % bad.len()];
                i += 1;
                let status = http::raw(addr, bytes).await.map_or(0, |r| r.status);
                tally.lock().expect("tally").add(kind, status);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    tasks.extend(good_clients(
        addr,
        o.good,
        Arc::clone(&body),
        Arc::clone(&stop),
        Arc::clone(&tally),
    ));
    tokio::time::sleep(Duration::from_secs(o.seconds)).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let memory = memory_mb(pid);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = memory_mb(pid).1;
    report(
        "trickle + malformed",
        &tally.lock().expect("tally"),
        o.tricklers + 2 + o.good,
        memory,
        after,
    );

    // Phase 2: a burst of large uploads, good clients going on.
    reset_peak(pid);
    let n = o.burst_mb * 1024 * 1024 / 4; // 96 kHz stereo 16-bit frames: 4 bytes each
    let big = Arc::new(lungsound_testutil::wav_bytes(
        &lungsound_testutil::white_noise(n * 2, 9),
        96_000,
        2,
        16,
        false,
    ));
    let stop = Arc::new(AtomicBool::new(false));
    let tally = Arc::new(Mutex::new(Tally::default()));
    let good = good_clients(
        addr,
        o.good,
        Arc::clone(&body),
        Arc::clone(&stop),
        Arc::clone(&tally),
    );
    let start = Instant::now();
    let burst: Vec<_> = (0..o.burst)
        .map(|_| {
            let (big, tally) = (Arc::clone(&big), Arc::clone(&tally));
            tokio::spawn(async move {
                let status = upload(addr, big).await.unwrap_or(0);
                tally.lock().expect("tally").add("burst", status);
            })
        })
        .collect();
    for b in burst {
        let _ = b.await;
    }
    let burst_s = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for g in good {
        let _ = g.await;
    }
    let memory = memory_mb(pid);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = memory_mb(pid).1;
    println!(
        "burst of {} × {} bytes took {burst_s:.1} s",
        o.burst,
        big.len()
    );
    report(
        "burst",
        &tally.lock().expect("tally"),
        o.burst + o.good,
        memory,
        after,
    );
    Ok(())
}
