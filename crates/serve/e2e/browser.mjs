// End-to-end test of the lungsound web page in headless Chromium (Playwright).
//
// Run by crates/serve/tests/serve/browser.rs against servers it started; by hand:
//   SERVE_URL=http://127.0.0.1:8080 RECORDING=rec.flac [ANNOTATION=rec.json] \
//   NOT_AUDIO=notes.txt SCREENSHOT_DIR=/tmp [TWO_MODELS_URL=http://127.0.0.1:8081] \
//   node crates/serve/e2e/browser.mjs
// TWO_MODELS_URL: a server listing two models, the second gated (`gated_by`).
// Exits 0 when every check passes, 1 otherwise (each failure printed).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`environment variable ${name} is required`);
  return v;
};
const url = env("SERVE_URL");
const recording = env("RECORDING");
const annotation = process.env.ANNOTATION || null;
const notAudio = env("NOT_AUDIO");
const shots = env("SCREENSHOT_DIR");
const executablePath = env("CHROMIUM", "/usr/bin/chromium");
const twoModelsUrl = process.env.TWO_MODELS_URL || null;

for (const u of [url, twoModelsUrl].filter(Boolean)) {
  if (!/^http:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?\/?$/.test(u)) {
    throw new Error(`server URLs must be loopback addresses, got ${u}`);
  }
}

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures.push(what);
};

const profile = mkdtempSync(join(tmpdir(), "lungsound-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath,
  headless: true,
  args: [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
  ],
  viewport: { width: 1200, height: 900 },
  deviceScaleFactor: 1,
  colorScheme: "light",
  timeout: 60_000,
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(20_000);
  const problems = [];
  page.on("console", (m) => { if (m.type() === "error") problems.push(`console: ${m.text()}`); });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // Nothing may leave the machine: every request goes to a server under test.
  const origins = [url, twoModelsUrl].filter(Boolean).map((u) => new URL(u).origin);
  page.on("request", (r) => {
    const u = r.url();
    const local = origins.some((o) => u.startsWith(o)) || u.startsWith("blob:") || u.startsWith("data:");
    if (!local) problems.push(`remote request: ${u}`);
  });

  await page.goto(url, { waitUntil: "load" });
  check((await page.title()).includes("lungsound"), "page title names lungsound");
  await page.locator("#model-info .chip").first().waitFor();
  const model = await page.locator("#model-info").innerText();
  check(model.includes("stand-in"), `model chip shows the loaded model (${model.replace(/\s+/g, " ")})`);
  check((await page.locator("#limits-hint").innerText()).includes("MiB"), "upload limits are shown in MiB, as the CLI says");

  // Upload a real recording (and its annotation when there is one).
  if (annotation) await page.setInputFiles("#events-input", annotation);
  await page.setInputFiles("#file-input", recording);
  await page.locator("#verdict-label").waitFor({ state: "visible" });
  const label = await page.locator("#verdict-label").innerText();
  const classes = await page.evaluate(() => fetch("/api/v1/models").then((r) => r.json()).then((j) => j.models[0].classes));
  check(classes.includes(label), `record-level result is a class name (${label})`);
  const bars = await page.locator(".bar-row").count();
  check(bars === classes.length, `one probability bar per class (${bars}/${classes.length})`);
  const pcts = await page.locator(".bar-row .pct").allInnerTexts();
  const total = pcts.reduce((s, p) => s + parseFloat(p), 0);
  check(Math.abs(total - 100) < 3, `probabilities add up to ~100% (${total.toFixed(1)})`);

  // The browser-side drawing: facts, waveform and spectrogram pixels, timeline, player.
  await page.waitForFunction(() => /Hz/.test(document.getElementById("recording-facts").textContent));
  const facts = await page.locator("#recording-facts").innerText();
  check(/\d+\.\d\d s/.test(facts) && /Hz/.test(facts), `recording facts show duration and rate (${facts})`);
  const painted = await page.evaluate(() => ["waveform", "spectrogram"].map((id) => {
    const c = document.getElementById(id);
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const values = new Set();
    for (let i = 0; i < d.length; i += 4 * 97) values.add(`${d[i]},${d[i + 1]},${d[i + 2]},${d[i + 3]}`);
    return values.size;
  }));
  check(painted[0] > 1, `waveform is drawn (${painted[0]} distinct sampled colours)`);
  check(painted[1] > 20, `spectrogram is drawn (${painted[1]} distinct sampled colours)`);
  // What the model sees: mel bands in dB, not a mostly dark linear-frequency picture (the
  // linear 0-4 kHz drawing of a SPRSound recording averaged 15 of 255 here, the mel one 30).
  const specLabel = await page.locator("#spectrogram-label").innerText();
  check(specLabel.toLowerCase().includes("mel spectrogram (db)"), `spectrogram label names mel dB (${JSON.stringify(specLabel)})`);
  const brightness = await page.evaluate(() => {
    const c = document.getElementById("spectrogram");
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let sum = 0, n = 0;
    for (let i = 0; i < d.length; i += 4 * 13) { sum += (d[i] + d[i + 1] + d[i + 2]) / 3; n++; }
    return sum / n;
  });
  check(brightness > 22, `spectrogram is not mostly dark (mean level ${brightness.toFixed(1)} of 255)`);
  const events = await page.locator("#timeline .event").count();
  const rows = await page.locator("#events-body tr").count();
  check(events > 0 && events === rows, `event timeline and table agree (${events} blocks, ${rows} rows)`);
  const colours = await page.locator("#timeline .event").evaluateAll((bs) => bs.map((b) => getComputedStyle(b).backgroundColor));
  check(colours.every((c) => c && c !== "rgba(0, 0, 0, 0)"), "events are coloured by class");
  const src = await page.locator("#player").getAttribute("src");
  check(!!src && src.startsWith("blob:"), "the <audio> element plays the chosen file");
  const canPlay = await page.evaluate(() => new Promise((resolve) => {
    const a = document.getElementById("player");
    if (a.readyState >= 1) return resolve(a.duration);
    a.addEventListener("loadedmetadata", () => resolve(a.duration), { once: true });
    a.addEventListener("error", () => resolve(-1), { once: true });
    setTimeout(() => resolve(-2), 5000);
  }));
  check(canPlay > 0, `the audio element loads the recording (duration ${Number(canPlay).toFixed(2)} s)`);
  // Clicking an event plays from its start.
  const first = page.locator("#timeline .event").first();
  const label0 = await first.getAttribute("aria-label");
  await first.click();
  const start = parseFloat(/(\d+\.\d+) s–/.exec(label0)[1]);
  const at = await page.evaluate(() => document.getElementById("player").currentTime);
  check(Math.abs(at - start) < 0.3, `clicking an event seeks the player to it (${at.toFixed(2)} s vs ${start} s)`);
  await page.evaluate(() => { const a = document.getElementById("player"); a.pause(); });
  check(await page.locator("#error").isHidden(), "no error is shown");
  await page.screenshot({ path: join(shots, "serve-page.png"), fullPage: true });

  // Without the annotation the recording is scanned: the timeline shows merged windows.
  if (annotation) {
    await page.click("#events-clear");
    await page.waitForFunction(() => /sliding windows/.test(document.getElementById("events-title").textContent)
      && document.querySelectorAll("#timeline .event").length > 0);
    const segs = await page.locator("#timeline .event").evaluateAll((bs) => bs.map((b) => b.getAttribute("aria-label")));
    check(segs.length > 0 && segs.every((s) => s.startsWith("Segment")), `without events the timeline shows ${segs.length} segment(s)`);
    const covered = await page.locator("#timeline .event").evaluateAll((bs) =>
      bs.reduce((w, b) => w + parseFloat(b.style.width), 0));
    check(Math.abs(covered - 100) < 1.5, `segments tile the recording (${covered.toFixed(1)}% covered)`);
    await page.screenshot({ path: join(shots, "serve-page-segments.png"), fullPage: true });
  }
  check(await page.locator("#model-choice").isHidden(), "one model: no model selector");

  // A file that is not audio: the server's message is shown, in an alert.
  await page.setInputFiles("#file-input", notAudio);
  await page.locator("#error").waitFor({ state: "visible" });
  const error = await page.locator("#error").innerText();
  check(/not a WAV or FLAC/.test(error), `a text file shows the server's error (${error.replace(/\s+/g, " ")})`);
  check((await page.locator("#error").getAttribute("role")) === "alert", "the error is announced (role=alert)");
  await page.screenshot({ path: join(shots, "serve-page-error.png"), fullPage: false });

  // Expected: decodeAudioData fails on the text file (logged by nothing) and the 415
  // response is a failed resource load, which Chromium logs to the console.
  const unexpected = problems.filter((p) => !/status of 415/.test(p));
  check(unexpected.length === 0, `no console errors or remote requests${unexpected.length ? ": " + unexpected.join(" | ") : ""}`);

  // Two models, the second gated: the chooser lists both and switching shows the gated one.
  if (twoModelsUrl) {
    problems.length = 0;
    await page.goto(twoModelsUrl, { waitUntil: "load" });
    await page.setInputFiles("#file-input", recording);
    await page.locator("#verdict-label").waitFor({ state: "visible" });
    check(await page.locator("#model-choice").isVisible(), "two models: the model selector is shown");
    const options = await page.locator("#model-select option").allInnerTexts();
    check(options.length === 2 && options[0].startsWith("stand-in (task")
      && options[1].startsWith("stand-in-gated gated by stand-in-gate (task"), `the selector names both models (${options.join(" | ")})`);
    await page.selectOption("#model-select", "1");
    await page.waitForFunction(() => /gated by/.test(document.getElementById("result-facts").textContent));
    const facts2 = await page.locator("#result-facts").innerText();
    check(facts2.startsWith("stand-in-gated gated by stand-in-gate"), `choosing the gated model shows it (${facts2})`);
    check(problems.length === 0, `two models: no console errors${problems.length ? ": " + problems.join(" | ") : ""}`);
    await page.screenshot({ path: join(shots, "serve-page-two-models.png"), fullPage: true });
  }
} catch (err) {
  failures.push(String(err && err.stack || err));
  console.log(`FAIL ${err && err.stack || err}`);
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}

if (failures.length) {
  console.log(`browser test: ${failures.length} check(s) failed`);
  process.exit(1);
}
console.log("browser test: all checks passed");
