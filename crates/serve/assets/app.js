// lungsound web page: upload a recording, draw it (WebAudio decode + a small FFT, all in
// the browser, so it works offline), show the server's prediction. No dependencies.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = {
    modelInfo: $("model-info"), limitsHint: $("limits-hint"), dropzone: $("dropzone"),
    fileInput: $("file-input"), eventsInput: $("events-input"), eventsClear: $("events-clear"),
    status: $("status"), error: $("error"),
    recording: $("recording"), recordingFacts: $("recording-facts"), player: $("player"),
    viz: $("viz"), waveform: $("waveform"), spectrogram: $("spectrogram"),
    spectrogramLabel: $("spectrogram-label"), timeline: $("timeline"), axis: $("axis"), playhead: $("playhead"),
    result: $("result"), resultFacts: $("result-facts"), verdict: $("verdict"), bars: $("bars"),
    eventsBlock: $("events-block"), legend: $("legend"), eventsBody: $("events-body"), rawJson: $("raw-json"),
    eventsTitle: $("events-title"), warnings: $("warnings"), modelChoice: $("model-choice"), modelSelect: $("model-select"),
  };

  // Okabe–Ito colours (distinguishable with colour-vision deficiencies); Normal is green.
  const PALETTE = ["#009E73", "#E69F00", "#0072B2", "#CC79A7", "#D55E00", "#56B4E9", "#B8860B", "#7F7F7F"];
  const MAX_SPEC_HZ = 4000; // lung sounds live below ~2 kHz; crackles reach higher.
  const MIN_SPEC_HZ = 50; // the shipped models' fmin
  const N_SPEC_MELS = 64; // the shipped models' mel bands

  const state = {
    file: null, eventsFile: null, objectUrl: null, duration: 0, limits: null, model: null, models: [], request: 0,
    results: [], shown: 0, lastResult: null, samples: null, rate: 0,
  };

  // ---------- model and limits ----------
  fetch("/api/v1/models").then((r) => r.json()).then((info) => {
    state.limits = info.limits || null;
    state.models = info.models || [];
    state.model = state.models[0] || null;
    renderModel();
  }).catch(() => { el.modelInfo.textContent = "Model information unavailable"; });

  function renderModel() {
    el.modelInfo.replaceChildren();
    const m = state.model;
    if (m) {
      el.modelInfo.append(chip(m.name || "model"));
      if (state.models.length > 1) el.modelInfo.append(chip(`+${state.models.length - 1} more`, true));
      if (m.task) el.modelInfo.append(chip("task " + m.task, true));
      const classes = m.classes || [];
      if (classes.length) el.modelInfo.append(chip(classes.length + " classes", true));
      const mt = m.metrics || {};
      const score = mt.val_score ?? mt.score;
      if (typeof score === "number") el.modelInfo.append(chip(`validation score ${score.toFixed(3)}`, true));
    }
    const l = state.limits;
    if (l) {
      el.limitsHint.textContent = `WAV or FLAC · up to ${formatBytes(l.max_upload_bytes)} and ${l.max_duration_s} s`;
    }
  }

  function chip(text, plain) {
    const s = document.createElement("span");
    s.className = plain ? "chip plain" : "chip";
    s.textContent = text;
    return s;
  }

  // ---------- input ----------
  el.fileInput.addEventListener("change", () => {
    if (el.fileInput.files.length) chooseRecording(el.fileInput.files[0]);
  });
  el.eventsInput.addEventListener("change", () => {
    state.eventsFile = el.eventsInput.files[0] || null;
    el.eventsClear.hidden = !state.eventsFile;
    if (state.file) analyse();
  });
  el.eventsClear.addEventListener("click", () => {
    el.eventsInput.value = "";
    state.eventsFile = null;
    el.eventsClear.hidden = true;
    if (state.file) analyse();
  });
  for (const type of ["dragenter", "dragover"]) {
    el.dropzone.addEventListener(type, (e) => { e.preventDefault(); el.dropzone.classList.add("dragover"); });
  }
  for (const type of ["dragleave", "drop"]) {
    el.dropzone.addEventListener(type, () => el.dropzone.classList.remove("dragover"));
  }
  el.dropzone.addEventListener("drop", (e) => {
    e.preventDefault();
    const files = Array.from(e.dataTransfer.files || []);
    const json = files.find((f) => /\.json$/i.test(f.name));
    const audio = files.find((f) => f !== json);
    if (json) {
      state.eventsFile = json;
      el.eventsClear.hidden = false;
    }
    if (audio) chooseRecording(audio);
    else if (json && state.file) analyse();
  });
  // Dropping a file elsewhere must not navigate away from the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());

  function chooseRecording(file) {
    state.file = file;
    hideError();
    const l = state.limits;
    if (l && file.size > l.max_upload_bytes) {
      showError("File too large", `${file.name} is ${formatBytes(file.size)}; the limit is ${formatBytes(l.max_upload_bytes)}.`);
      return;
    }
    if (state.objectUrl) URL.revokeObjectURL(state.objectUrl);
    state.objectUrl = URL.createObjectURL(file);
    el.player.src = state.objectUrl;
    visualise(file);
    analyse();
  }

  // ---------- prediction ----------
  async function analyse() {
    const id = ++state.request;
    const file = state.file;
    hideError();
    setStatus(`Analysing ${file.name}…`, true);
    el.result.hidden = true;
    const form = new FormData();
    form.append("file", file, file.name);
    if (state.eventsFile) form.append("events", await state.eventsFile.text());
    let response, body;
    const t0 = performance.now();
    try {
      response = await fetch("/api/v1/predict", { method: "POST", body: form });
      body = await response.json().catch(() => null);
    } catch (err) {
      if (id !== state.request) return;
      setStatus("");
      showError("The server cannot be reached", String(err && err.message || err));
      return;
    }
    if (id !== state.request) return; // a newer upload superseded this one
    if (!response.ok) {
      setStatus("");
      const e = body && body.error;
      const retry = response.headers.get("Retry-After");
      const title = e ? `${e.code.replace(/_/g, " ")} (${response.status})` : `Error ${response.status}`;
      showError(title, (e ? e.message : response.statusText) + (retry ? ` Retry in ${retry} s.` : ""));
      el.error.dataset.code = e ? e.code : "";
      return;
    }
    const ms = performance.now() - t0;
    setStatus(`Analysed ${file.name} in ${ms < 1000 ? ms.toFixed(0) + " ms" : (ms / 1000).toFixed(1) + " s"}.`);
    state.results = normalise(body);
    state.shown = 0;
    renderModelChoice();
    renderResult(state.results[0]);
  }

  // "name", or "name gated by gate" for a two-stage prediction (`gated_by`).
  function modelName(m) {
    return (m.model || "") + (m.gated_by ? ` gated by ${m.gated_by}` : "");
  }

  // The server's JSON is `lungsound predict --json` for one file: {file, sample_rate,
  // duration_s, predictions: [{model, gated_by?, task, classes, label, probabilities,
  // events, segments, warnings}]}. `events` (when events were sent) or `segments`
  // (sliding windows) make the timeline.
  function normalise(json) {
    const list = Array.isArray(json.predictions) && json.predictions.length ? json.predictions : [json];
    return list.map((m) => {
      const classes = m.classes || (state.model && state.model.classes) || [];
      const probs = Array.isArray(m.probabilities) ? m.probabilities.map(Number) : null;
      const fromEvents = Array.isArray(m.events) && m.events.length > 0;
      const items = (fromEvents ? m.events : m.segments) || [];
      const timeline = items.map((e) => {
        const p = Array.isArray(e.probabilities) ? e.probabilities.map(Number) : null;
        const label = e.label != null ? String(e.label) : (p ? classes[argmax(p)] : "?");
        const conf = typeof e.confidence === "number" ? e.confidence : (p ? Math.max(...p) : null);
        return { start: Number(e.start_s), end: Number(e.end_s), label, conf, index: e.index };
      });
      let label = m.label != null ? String(m.label) : (probs ? classes[argmax(probs)] : null);
      return {
        raw: json, model: modelName(m), classes, probs, label, events: timeline, fromEvents,
        task: m.task || "", warnings: Array.isArray(m.warnings) ? m.warnings : [],
        duration: Number(json.duration_s || m.duration_s || state.duration || 0),
      };
    });
  }

  function renderModelChoice() {
    const many = state.results.length > 1;
    el.modelChoice.hidden = !many;
    el.modelSelect.replaceChildren();
    if (!many) return;
    state.results.forEach((r, i) => {
      const o = document.createElement("option");
      o.value = String(i);
      o.textContent = `${r.model || "model " + (i + 1)} (task ${r.task}): ${r.label}`;
      el.modelSelect.append(o);
    });
  }
  el.modelSelect.addEventListener("change", () => {
    state.shown = Number(el.modelSelect.value) || 0;
    renderResult(state.results[state.shown]);
  });

  function renderResult(r) {
    el.result.hidden = false;
    el.rawJson.textContent = JSON.stringify(r.raw, null, 2);
    const what = r.fromEvents ? "events" : "segments";
    el.resultFacts.textContent = [r.model, r.task && `task ${r.task}`, r.events.length && `${r.events.length} ${what}`]
      .filter(Boolean).join(" · ");
    el.eventsTitle.textContent = r.fromEvents ? "Events" : "Timeline (sliding windows)";
    el.warnings.replaceChildren();
    el.warnings.hidden = r.warnings.length === 0;
    for (const w of r.warnings) {
      const li = document.createElement("li");
      li.textContent = w;
      el.warnings.append(li);
    }

    el.verdict.replaceChildren();
    el.bars.replaceChildren();
    if (r.label != null) {
      const idx = r.classes.indexOf(r.label);
      const sw = swatch(colourFor(r.label, r.classes));
      const label = document.createElement("span");
      label.className = "label";
      label.id = "verdict-label";
      label.textContent = r.label;
      el.verdict.append(sw, label);
      if (r.probs && idx >= 0) {
        const conf = document.createElement("span");
        conf.className = "conf";
        conf.textContent = `${pct(r.probs[idx])} probability`;
        el.verdict.append(conf);
      }
    } else {
      const label = document.createElement("span");
      label.className = "label";
      label.textContent = `${r.events.length} events classified`;
      el.verdict.append(label);
    }
    if (r.probs) {
      const top = argmax(r.probs);
      r.classes.forEach((name, i) => {
        const p = r.probs[i] ?? 0;
        const row = document.createElement("div");
        row.className = "bar-row" + (i === top ? " top" : "");
        const n = document.createElement("span");
        n.className = "name";
        n.textContent = name;
        const bar = document.createElement("div");
        bar.className = "bar";
        bar.setAttribute("role", "meter");
        bar.setAttribute("aria-label", name);
        bar.setAttribute("aria-valuemin", "0");
        bar.setAttribute("aria-valuemax", "100");
        bar.setAttribute("aria-valuenow", (p * 100).toFixed(1));
        const fill = document.createElement("span");
        fill.style.width = `${Math.max(0, Math.min(1, p)) * 100}%`;
        bar.append(fill);
        const v = document.createElement("span");
        v.className = "pct";
        v.textContent = pct(p);
        row.append(n, bar, v);
        el.bars.append(row);
      });
    }

    // Events: legend, table and timeline.
    el.eventsBody.replaceChildren();
    el.legend.replaceChildren();
    el.eventsBlock.hidden = r.events.length === 0;
    const seen = new Set(r.events.map((e) => e.label));
    for (const name of r.classes.filter((c) => seen.has(c)).concat([...seen].filter((c) => !r.classes.includes(c)))) {
      const item = document.createElement("span");
      item.append(swatch(colourFor(name, r.classes)), document.createTextNode(name));
      el.legend.append(item);
    }
    r.events.forEach((e, i) => {
      const tr = document.createElement("tr");
      const number = e.index != null ? String(e.index + 1) : String(i + 1);
      for (const text of [number, fmtTime(e.start), fmtTime(e.end), null, e.conf == null ? "–" : pct(e.conf)]) {
        const td = document.createElement("td");
        if (text == null) td.append(swatch(colourFor(e.label, r.classes)), document.createTextNode(" " + e.label));
        else td.textContent = text;
        tr.append(td);
      }
      tr.tabIndex = 0;
      tr.addEventListener("click", () => seek(e.start));
      tr.addEventListener("keydown", (k) => { if (k.key === "Enter") seek(e.start); });
      el.eventsBody.append(tr);
    });
    state.lastResult = r;
    renderTimeline();
  }

  function renderTimeline() {
    const r = state.lastResult;
    el.timeline.replaceChildren();
    const duration = state.duration || (r && r.duration) || 0;
    if (!r || !r.events.length || !duration) {
      const empty = document.createElement("div");
      empty.className = "empty";
      empty.textContent = r ? "No events" : "";
      el.timeline.append(empty);
      return;
    }
    r.events.forEach((e, i) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "event";
      b.style.left = `${(e.start / duration) * 100}%`;
      b.style.width = `${Math.max(0.4, ((e.end - e.start) / duration) * 100)}%`;
      b.style.background = colourFor(e.label, r.classes);
      b.textContent = e.label;
      const desc = `${r.fromEvents ? "Event" : "Segment"} ${i + 1}: ${e.label}, ${fmtTime(e.start)}–${fmtTime(e.end)}${e.conf == null ? "" : ", " + pct(e.conf)}`;
      b.title = desc;
      b.setAttribute("aria-label", desc);
      b.addEventListener("click", () => seek(e.start));
      el.timeline.append(b);
    });
  }

  // ---------- visualisation ----------
  async function visualise(file) {
    el.recording.hidden = false;
    el.recordingFacts.textContent = `${file.name} · ${formatBytes(file.size)}`;
    state.lastResult = null;
    renderTimeline();
    clearCanvas(el.waveform);
    clearCanvas(el.spectrogram);
    let samples, rate;
    try {
      const bytes = await file.arrayBuffer();
      const native = sniffSampleRate(bytes);
      const ctxRate = native && native >= 3000 && native <= 768000 ? native : 48000;
      const ctx = new OfflineAudioContext(1, 1, ctxRate);
      const buffer = await ctx.decodeAudioData(bytes);
      rate = buffer.sampleRate;
      samples = mixdown(buffer);
      state.duration = buffer.duration;
      el.recordingFacts.textContent =
        `${file.name} · ${fmtTime(buffer.duration)} · ${native || rate} Hz · ${buffer.numberOfChannels === 1 ? "mono" : buffer.numberOfChannels + " channels"} · ${formatBytes(file.size)}`;
    } catch (err) {
      // Not decodable here (the server's answer says why): nothing to draw or play.
      state.duration = 0;
      state.samples = null;
      if (file === state.file) el.recording.hidden = true;
      return;
    }
    if (file !== state.file) return; // another file was chosen meanwhile
    state.samples = samples;
    state.rate = rate;
    drawAll();
  }

  function drawAll() {
    if (!state.samples) return;
    drawWaveform(el.waveform, state.samples);
    drawSpectrogram(el.spectrogram, state.samples, state.rate);
    drawAxis(state.duration);
    renderTimeline();
  }

  let resizeTimer = 0;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(drawAll, 150);
  });

  function mixdown(buffer) {
    const n = buffer.length, c = buffer.numberOfChannels;
    if (c === 1) return buffer.getChannelData(0);
    const out = new Float32Array(n);
    for (let ch = 0; ch < c; ch++) {
      const d = buffer.getChannelData(ch);
      for (let i = 0; i < n; i++) out[i] += d[i] / c;
    }
    return out;
  }

  // The file's own sample rate from its header (WAV `fmt ` chunk or FLAC STREAMINFO), so
  // that decoding does not resample; null when unknown.
  function sniffSampleRate(buf) {
    const v = new DataView(buf);
    const tag = (o) => String.fromCharCode(v.getUint8(o), v.getUint8(o + 1), v.getUint8(o + 2), v.getUint8(o + 3));
    try {
      if (buf.byteLength >= 22 && tag(0) === "fLaC") {
        return (v.getUint8(18) << 12) | (v.getUint8(19) << 4) | (v.getUint8(20) >> 4);
      }
      if (buf.byteLength >= 12 && tag(0) === "RIFF" && tag(8) === "WAVE") {
        let pos = 12;
        while (pos + 8 <= buf.byteLength) {
          const size = v.getUint32(pos + 4, true);
          if (tag(pos) === "fmt " && pos + 16 <= buf.byteLength) return v.getUint32(pos + 12, true);
          pos += 8 + size + (size & 1);
        }
      }
    } catch (_) { /* fall through */ }
    return null;
  }

  function sizeCanvas(canvas) {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    return [w, h];
  }

  function clearCanvas(canvas) {
    const [w, h] = sizeCanvas(canvas);
    canvas.getContext("2d").clearRect(0, 0, w, h);
  }

  function drawWaveform(canvas, x) {
    const [w, h] = sizeCanvas(canvas);
    const g = canvas.getContext("2d");
    g.clearRect(0, 0, w, h);
    // Scale to the 99.9th percentile of |x| (clipping the rest), so that one click does
    // not flatten the breathing; quiet recordings stay visible.
    const stride = Math.max(1, Math.floor(x.length / 20000));
    const mags = [];
    for (let i = 0; i < x.length; i += stride) mags.push(Math.abs(x[i]));
    mags.sort((a, b) => a - b);
    const peak = Math.max(1e-6, mags[Math.floor((mags.length - 1) * 0.999)] || 0);
    const half = h / 2 - 2;
    const scale = half / peak;
    const clip = (v) => Math.max(-half, Math.min(half, v * scale));
    g.fillStyle = "#5cc3d1";
    const per = x.length / w;
    for (let col = 0; col < w; col++) {
      const a = Math.floor(col * per), b = Math.max(a + 1, Math.floor((col + 1) * per));
      let lo = Infinity, hi = -Infinity;
      for (let i = a; i < b && i < x.length; i++) { if (x[i] < lo) lo = x[i]; if (x[i] > hi) hi = x[i]; }
      if (lo === Infinity) continue;
      const y0 = h / 2 - clip(hi), y1 = h / 2 - clip(lo);
      g.fillRect(col, y0, 1, Math.max(1, y1 - y0));
    }
    g.fillStyle = "rgba(255,255,255,.18)";
    g.fillRect(0, Math.floor(h / 2), w, 1);
  }

  // What the model sees: a mel spectrogram in dB (64 bands from MIN_SPEC_HZ, HTK mel scale),
  // 80 dB below the loudest band, magma. ~32 ms Hann windows, one frame per output column.
  function drawSpectrogram(canvas, x, rate) {
    const [w, h] = sizeCanvas(canvas);
    const g = canvas.getContext("2d");
    let nfft = 64;
    while (nfft < rate * 0.032 && nfft < 4096) nfft *= 2;
    const maxHz = Math.min(rate / 2, MAX_SPEC_HZ);
    const minHz = Math.min(MIN_SPEC_HZ, maxHz / 4);
    const mel = (f) => 2595 * Math.log10(1 + f / 700);
    const hz = (m) => 700 * (Math.pow(10, m / 2595) - 1);
    const nMels = N_SPEC_MELS;
    // Band edges (nMels + 2 points, mel-spaced) and each band's triangle over the FFT bins.
    const edges = [];
    for (let i = 0; i < nMels + 2; i++) edges.push(hz(mel(minHz) + ((mel(maxHz) - mel(minHz)) * i) / (nMels + 1)));
    const binHz = rate / nfft;
    const nBins = nfft / 2 + 1;
    const bands = [];
    for (let m = 0; m < nMels; m++) {
      const [lo, mid, hi] = [edges[m], edges[m + 1], edges[m + 2]];
      const weights = [];
      for (let k = Math.max(0, Math.floor(lo / binHz)); k < nBins && k * binHz <= hi; k++) {
        const f = k * binHz;
        const wgt = f <= mid ? (f - lo) / Math.max(mid - lo, 1e-9) : (hi - f) / Math.max(hi - mid, 1e-9);
        if (wgt > 0) weights.push([k, wgt]);
      }
      if (weights.length === 0) weights.push([Math.min(nBins - 1, Math.round(mid / binHz)), 1]);
      bands.push(weights);
    }
    const cols = Math.min(w, 1200);
    const win = new Float32Array(nfft);
    for (let i = 0; i < nfft; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / nfft);
    const re = new Float32Array(nfft), im = new Float32Array(nfft);
    const db = new Float32Array(cols * nMels);
    let top = -Infinity;
    for (let c = 0; c < cols; c++) {
      const centre = Math.floor(((c + 0.5) / cols) * x.length);
      const start = centre - nfft / 2;
      for (let i = 0; i < nfft; i++) {
        const j = start + i;
        re[i] = j >= 0 && j < x.length ? x[j] * win[i] : 0;
        im[i] = 0;
      }
      fft(re, im);
      for (let m = 0; m < nMels; m++) {
        let power = 0;
        for (const [k, wgt] of bands[m]) power += wgt * (re[k] * re[k] + im[k] * im[k]);
        const v = 10 * Math.log10(power + 1e-12);
        db[c * nMels + m] = v;
        if (v > top) top = v;
      }
    }
    const img = g.createImageData(cols, nMels);
    const range = 80; // dB shown below the loudest band (librosa's top_db)
    for (let c = 0; c < cols; c++) {
      for (let m = 0; m < nMels; m++) {
        const t = Math.max(0, Math.min(1, (db[c * nMels + m] - (top - range)) / range));
        const [r, gg, b] = magma(t);
        const o = ((nMels - 1 - m) * cols + c) * 4; // low frequencies at the bottom
        img.data[o] = r; img.data[o + 1] = gg; img.data[o + 2] = b; img.data[o + 3] = 255;
      }
    }
    const off = document.createElement("canvas");
    off.width = cols; off.height = nMels;
    off.getContext("2d").putImageData(img, 0, 0);
    g.imageSmoothingEnabled = true;
    g.drawImage(off, 0, 0, w, h);
    // Frequency ticks, placed on the mel scale.
    const dpr = window.devicePixelRatio || 1;
    g.font = `${11 * dpr}px system-ui, sans-serif`;
    g.fillStyle = "rgba(255,255,255,.8)";
    for (const f of [100, 250, 500, 1000, 2000, 3000]) {
      if (f <= minHz || f >= maxHz) continue;
      const y = h - ((mel(f) - mel(minHz)) / (mel(maxHz) - mel(minHz))) * h;
      g.fillRect(0, y, 5 * dpr, 1);
      g.fillText(f >= 1000 ? `${f / 1000} kHz` : `${f} Hz`, 8 * dpr, y + 4 * dpr);
    }
    const range_ = (f) => (f >= 1000 ? `${f / 1000} kHz` : `${Math.round(f)} Hz`);
    el.spectrogramLabel.textContent = `Mel spectrogram (dB)\n${range_(minHz)}–${range_(maxHz)}`;
  }

  // In-place iterative radix-2 FFT (length a power of two).
  function fft(re, im) {
    const n = re.length;
    for (let i = 1, j = 0; i < n; i++) {
      let bit = n >> 1;
      for (; j & bit; bit >>= 1) j ^= bit;
      j ^= bit;
      if (i < j) { [re[i], re[j]] = [re[j], re[i]]; [im[i], im[j]] = [im[j], im[i]]; }
    }
    for (let len = 2; len <= n; len <<= 1) {
      const ang = (-2 * Math.PI) / len, wr = Math.cos(ang), wi = Math.sin(ang);
      for (let i = 0; i < n; i += len) {
        let cr = 1, ci = 0;
        for (let k = 0; k < len / 2; k++) {
          const a = i + k, b = a + len / 2;
          const tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr;
          re[b] = re[a] - tr; im[b] = im[a] - ti; re[a] += tr; im[a] += ti;
          const nr = cr * wr - ci * wi; ci = cr * wi + ci * wr; cr = nr;
        }
      }
    }
  }

  // matplotlib's magma, 9 stops, linearly interpolated.
  const MAGMA = [[0, 0, 4], [28, 16, 68], [79, 18, 123], [129, 37, 129], [181, 54, 122], [229, 80, 100], [251, 135, 97], [254, 194, 135], [252, 253, 191]];
  function magma(t) {
    const p = t * (MAGMA.length - 1), i = Math.min(MAGMA.length - 2, Math.floor(p)), f = p - i;
    const a = MAGMA[i], b = MAGMA[i + 1];
    return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
  }

  function drawAxis(duration) {
    el.axis.replaceChildren();
    if (!duration) return;
    const target = Math.max(2, Math.floor(el.axis.clientWidth / 90));
    const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60];
    const step = steps.find((s) => duration / s <= target) || 120;
    for (let t = 0; t <= duration + 1e-9; t += step) {
      const s = document.createElement("span");
      s.style.left = `${(t / duration) * 100}%`;
      s.textContent = `${+t.toFixed(1)} s`;
      el.axis.append(s);
    }
  }

  // ---------- playback ----------
  function seek(t) {
    if (!el.player.src) return;
    el.player.currentTime = t;
    el.player.play().catch(() => {});
  }
  for (const c of [el.waveform, el.spectrogram]) {
    c.addEventListener("click", (e) => {
      const rect = c.getBoundingClientRect();
      if (state.duration) seek(((e.clientX - rect.left) / rect.width) * state.duration);
    });
  }
  function tick() {
    if (state.duration && el.player.src) {
      const box = el.waveform.getBoundingClientRect(), outer = el.viz.getBoundingClientRect();
      const left = box.left - outer.left, width = box.width;
      el.playhead.style.left = `${left + (el.player.currentTime / state.duration) * width}px`;
      el.playhead.classList.toggle("on", el.player.currentTime > 0);
    }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);

  // ---------- helpers ----------
  function setStatus(text, busy) {
    el.status.textContent = text;
    el.status.classList.toggle("busy", !!busy);
  }
  function showError(title, message) {
    el.error.replaceChildren();
    const t = document.createElement("strong");
    t.textContent = title.charAt(0).toUpperCase() + title.slice(1);
    el.error.append(t, document.createTextNode(message));
    el.error.hidden = false;
  }
  function hideError() { el.error.hidden = true; el.error.dataset.code = ""; }
  function swatch(colour) {
    const s = document.createElement("span");
    s.className = "swatch";
    s.style.background = colour;
    s.setAttribute("aria-hidden", "true");
    return s;
  }
  function colourFor(label, classes) {
    const i = classes.indexOf(label);
    if (i >= 0) return PALETTE[i % PALETTE.length];
    let h = 0;
    for (const ch of String(label)) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    return PALETTE[h % PALETTE.length];
  }
  function argmax(p) { let b = 0; for (let i = 1; i < p.length; i++) if (p[i] > p[b]) b = i; return b; }
  function pct(p) { return `${(100 * p).toFixed(p >= 0.995 || p < 0.1 ? 1 : 0)}%`; }
  function fmtTime(s) { return `${Number(s).toFixed(2)} s`; }
  function formatBytes(n) {
    if (n >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
    if (n >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
    return `${n} B`;
  }
})();
