// The web demo's page: photo upload and webcam, boxes and probability bars, English / Romanian.
// No build step, no library: the server gives everything the page needs in #page-config.
"use strict";

const CONFIG = JSON.parse(document.getElementById("page-config").textContent);
// Webcam frames: this wide, at most one every interval_ms, never two requests at once (webapp/app.py sets them).
const FRAME_WIDTH = CONFIG.webcam.frame_width;
const FRAME_INTERVAL_MS = CONFIG.webcam.interval_ms;
const FRAME_QUALITY = CONFIG.webcam.jpeg_quality;

const TEXTS = {
  en: {
    title: "Facial emotions",
    subtitle: "A convolutional network reads each face and gives a probability for each of seven emotions.",
    modePhoto: "Photo",
    modeCamera: "Webcam",
    choosePhoto: "Choose a photo",
    photoHint: "JPEG or PNG, up to {mb} MB. The photo is analysed in memory and never stored.",
    startCamera: "Start the webcam",
    stopCamera: "Stop the webcam",
    cameraHint: "A few frames per second go to the server, are analysed in memory and are never stored.",
    modelLabel: "Model",
    apiHint: "API: POST /api/predict with a field “image”",
    analysing: "Analysing…",
    face: "Face {n}",
    found: "{count} faces found in {ms} ms.",
    foundOne: "1 face found in {ms} ms.",
    foundCamera: "Frame {frame}: {count} faces, {ms} ms.",
    foundCameraOne: "Frame {frame}: 1 face, {ms} ms.",
    noFace: "No face found. Use a photo with a frontal, upright, well-lit face.",
    noFaceCamera: "Frame {frame}: no face found. Face the camera, keep your head upright and light your face from the front.",
    tooLarge: "This file is larger than {mb} MB: choose a smaller photo.",
    notImage: "This file is not a photo the demo can read: use a JPEG or PNG.",
    unsupportedFormat: "This is a {format} file, which the demo cannot read: save it as JPEG or PNG and choose it again.",
    corrupt: "This image is damaged and cannot be read: try another photo.",
    tooManyPixels: "This image has too many pixels: resize it and try again.",
    internalError: "The server failed while analysing this image (its log says why): try another photo.",
    serverError: "The server could not analyse the image: {message}",
    network: "Cannot reach the server: is it still running?",
    cameraUnavailable: "This browser gives no webcam here: the webcam needs http://127.0.0.1 (or localhost) or https.",
    cameraDenied: "The webcam could not be opened ({name}). Allow the camera for this page and try again.",
    cameraStarting: "Starting the webcam…",
    cameraStopped: "The webcam is off. Start it again, or switch to Photo.",
  },
  ro: {
    title: "Emoții faciale",
    subtitle: "O rețea convoluțională analizează fiecare față și dă o probabilitate pentru fiecare dintre cele șapte emoții.",
    modePhoto: "Fotografie",
    modeCamera: "Cameră web",
    choosePhoto: "Alegeți o fotografie",
    photoHint: "JPEG sau PNG, cel mult {mb} MB. Fotografia este analizată în memorie și nu este păstrată.",
    startCamera: "Porniți camera web",
    stopCamera: "Opriți camera web",
    cameraHint: "Câteva cadre pe secundă ajung la server, sunt analizate în memorie și nu sunt păstrate.",
    modelLabel: "Model",
    apiHint: "API: POST /api/predict cu un câmp „image”",
    analysing: "Se analizează…",
    face: "Fața {n}",
    found: "Fețe găsite: {count}, în {ms} ms.",
    foundOne: "O față găsită, în {ms} ms.",
    foundCamera: "Cadrul {frame}: fețe găsite: {count}, {ms} ms.",
    foundCameraOne: "Cadrul {frame}: o față, {ms} ms.",
    noFace: "Nu s-a găsit nicio față. Folosiți o fotografie cu o față văzută din față, neînclinată, bine luminată.",
    noFaceCamera: "Cadrul {frame}: nu s-a găsit nicio față. Priviți spre cameră, țineți capul drept și luminați-vă fața din față.",
    tooLarge: "Fișierul are mai mult de {mb} MB: alegeți o fotografie mai mică.",
    notImage: "Fișierul nu este o fotografie pe care demonstrația o poate citi: folosiți JPEG sau PNG.",
    unsupportedFormat: "Este un fișier {format}, pe care demonstrația nu îl poate citi: salvați-l ca JPEG sau PNG și alegeți-l din nou.",
    corrupt: "Imaginea este deteriorată și nu poate fi citită: încercați altă fotografie.",
    tooManyPixels: "Imaginea are prea mulți pixeli: micșorați-o și încercați din nou.",
    internalError: "Serverul a întâmpinat o eroare la analiza acestei imagini (jurnalul lui spune de ce): încercați altă fotografie.",
    serverError: "Serverul nu a putut analiza imaginea (eroarea {detail}). Încercați din nou sau alegeți altă fotografie.",
    network: "Serverul nu răspunde: mai rulează?",
    cameraUnavailable: "Browserul nu oferă camera web aici: camera funcționează doar pe http://127.0.0.1 (sau localhost) ori prin https.",
    cameraDenied: "Camera web nu a putut fi pornită ({name}). Permiteți camera pentru această pagină și încercați din nou.",
    cameraStarting: "Se pornește camera web…",
    cameraStopped: "Camera web este oprită. Porniți-o din nou sau treceți la Fotografie.",
  },
};

const ERROR_TEXTS = {
  too_large: "tooLarge",
  not_an_image: "notImage",
  unsupported_format: "unsupportedFormat",
  empty_file: "notImage",
  corrupt_image: "corrupt",
  too_many_pixels: "tooManyPixels",
  internal_error: "internalError",
};

const $ = (id) => document.getElementById(id);
const ui = {
  photoInput: $("photo-input"), photo: $("photo"), video: $("video"), overlay: $("overlay"),
  stage: $("stage"), status: $("status"), faces: $("faces"), cameraToggle: $("camera-toggle"),
  modePhoto: $("mode-photo"), modeCamera: $("mode-camera"), photoPanel: $("photo-panel"), cameraPanel: $("camera-panel"),
};

const state = {
  language: chooseLanguage(),
  mode: "photo",
  result: null,        // the last answer of /api/predict
  status: null,        // {key, values, error} so that a language switch can redraw it
  stream: null,        // the webcam's MediaStream while it runs
  frames: 0,           // webcam frames analysed since the start
  timer: null,
  photoUrl: null,
};

function chooseLanguage() {
  const saved = localStorage.getItem("emotion-demo-language");
  if (saved === "en" || saved === "ro") return saved;
  return (navigator.language || "en").toLowerCase().startsWith("ro") ? "ro" : "en";
}

function t(key, values = {}) {
  const text = TEXTS[state.language][key] ?? TEXTS.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function emotionName(index) {
  return CONFIG.emotions[state.language][index];
}

const maxMegabytes = () => Math.round((CONFIG.limits.max_upload_bytes / (1024 * 1024)) * 10) / 10;

// ---------------------------------------------------------------- language

function applyLanguage(language) {
  state.language = language;
  localStorage.setItem("emotion-demo-language", language);
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n, { mb: maxMegabytes() });
  }
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.setAttribute("aria-pressed", String(button.dataset.lang === language));
  }
  ui.cameraToggle.textContent = t(state.stream ? "stopCamera" : "startCamera");
  renderStatus();
  renderResult();
}

// ---------------------------------------------------------------- status line

function setStatus(key, values = {}, error = false) {
  state.status = key ? { key, values, error } : null;
  renderStatus();
}

function renderStatus() {
  const status = state.status;
  ui.status.textContent = status ? t(status.key, status.values) : "";
  ui.status.classList.toggle("error", Boolean(status && status.error));
}

function showError(body, httpStatus) {
  const code = body && body.error && body.error.code;
  const key = ERROR_TEXTS[code] || (httpStatus === 413 ? "tooLarge" : null);
  if (key) setStatus(key, { mb: maxMegabytes(), format: (body.error && body.error.format) || "" }, true);
  else {
    // The API's own message is English (for API clients): the Romanian text names the error by HTTP status and code instead.
    const detail = [httpStatus, code].filter(Boolean).join(", ");   // "404, not_found"; "502" when the answer is not the API's JSON
    setStatus("serverError", { message: (body && body.error && body.error.message) || httpStatus, detail }, true);
  }
}

// ---------------------------------------------------------------- results

function renderResult() {
  drawBoxes();
  ui.faces.replaceChildren();
  const result = state.result;
  if (!result) return;
  result.faces.forEach((face, index) => ui.faces.append(faceCard(face, index)));
}

function faceCard(face, index) {
  const item = document.createElement("li");
  item.className = "face";
  item.dataset.emotion = face.emotion;
  const top = face.probabilities.indexOf(Math.max(...face.probabilities));
  const title = document.createElement("h2");
  title.append(`${t("face", { n: index + 1 })}: `);
  const topName = document.createElement("span");
  topName.className = "top";
  topName.textContent = `${emotionName(top)} ${percent(face.probabilities[top])}`;
  title.append(topName);
  const bars = document.createElement("dl");
  bars.className = "bars";
  face.probabilities.forEach((probability, emotion) => {
    const name = document.createElement("dt");
    name.textContent = emotionName(emotion);
    const barCell = document.createElement("dd");
    const bar = document.createElement("div");
    bar.className = "bar";
    bar.setAttribute("role", "img");
    bar.setAttribute("aria-label", `${emotionName(emotion)} ${percent(probability)}`);
    const fill = document.createElement("span");
    fill.style.width = `${(probability * 100).toFixed(1)}%`;
    bar.append(fill);
    barCell.append(bar);
    const value = document.createElement("dd");
    value.className = "percent";
    value.textContent = percent(probability);
    for (const cell of [name, barCell, value]) cell.classList.toggle("is-top", emotion === top);
    bars.append(name, barCell, value);
  });
  item.append(title, bars);
  return item;
}

function percent(probability) {
  return `${Math.round(probability * 100)}%`;
}

function drawBoxes() {
  const media = state.mode === "camera" ? ui.video : ui.photo;
  const canvas = ui.overlay;
  const width = media.clientWidth, height = media.clientHeight;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const context = canvas.getContext("2d");
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.clearRect(0, 0, width, height);
  const result = state.result;
  if (!result || !width) return;
  const scale = width / result.image.width;
  const mirrored = state.mode === "camera";  // the webcam preview is shown as a mirror, like a selfie
  const fontSize = Math.max(12, Math.round(width / 32));
  context.font = `600 ${fontSize}px system-ui, sans-serif`;
  context.lineWidth = Math.max(2, width / 200);
  result.faces.forEach((face, index) => {
    const box = face.box;
    const x = (mirrored ? result.image.width - box.x - box.w : box.x) * scale;
    const y = box.y * scale, w = box.w * scale, h = box.h * scale;
    context.strokeStyle = "#00e08a";
    context.strokeRect(x, y, w, h);
    const label = `${index + 1} · ${emotionName(result.emotions.indexOf(face.emotion))} ${percent(face.probability)}`;
    const labelWidth = context.measureText(label).width + 8;
    const labelY = y >= fontSize + 6 ? y - fontSize - 6 : y;
    context.fillStyle = "rgba(0, 0, 0, 0.7)";
    context.fillRect(x, labelY, labelWidth, fontSize + 6);
    context.fillStyle = "#ffffff";
    context.fillText(label, x + 4, labelY + fontSize);
  });
}

// ---------------------------------------------------------------- talking to the server

async function predict(blob, filename) {
  const form = new FormData();
  form.append("image", blob, filename);
  const response = await fetch("api/predict", { method: "POST", body: form });
  let body = null;
  try { body = await response.json(); } catch (error) { body = null; }
  return { ok: response.ok, status: response.status, body };
}

function showResult(result, statusKey, extra = {}) {
  state.result = result;
  renderResult();
  if (result.faces.length === 0) setStatus(state.mode === "camera" ? "noFaceCamera" : "noFace", extra);
  else {
    const key = result.faces.length === 1 ? `${statusKey}One` : statusKey;
    setStatus(key, { count: result.faces.length, ms: Math.round(result.elapsed_ms), ...extra });
  }
}

// ---------------------------------------------------------------- photo

async function analysePhoto(file) {
  state.result = null;
  renderResult();
  if (file.size > CONFIG.limits.max_upload_bytes) {
    setStatus("tooLarge", { mb: maxMegabytes() }, true);
    return;
  }
  if (state.photoUrl) URL.revokeObjectURL(state.photoUrl);
  state.photoUrl = URL.createObjectURL(file);
  ui.photo.src = state.photoUrl;
  ui.stage.hidden = false;
  setStatus("analysing");
  try {
    const answer = await predict(file, file.name || "photo");
    if (!answer.ok) { showError(answer.body, answer.status); return; }
    if (ui.photo.complete) showResult(answer.body, "found");
    else ui.photo.addEventListener("load", () => showResult(answer.body, "found"), { once: true });
  } catch (error) {
    setStatus("network", {}, true);
  }
}

// ---------------------------------------------------------------- webcam

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    setStatus("cameraUnavailable", {}, true);
    return;
  }
  setStatus("cameraStarting");
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    });
  } catch (error) {
    setStatus("cameraDenied", { name: error.name || error }, true);
    return;
  }
  state.frames = 0;
  document.body.dataset.frames = "0";
  ui.video.srcObject = state.stream;
  ui.video.classList.add("mirrored");
  ui.stage.hidden = false;
  await ui.video.play();
  ui.cameraToggle.textContent = t("stopCamera");
  ui.cameraToggle.setAttribute("aria-pressed", "true");
  sendFrame();
}

function stopCamera() {
  clearTimeout(state.timer);
  state.timer = null;
  if (state.stream) for (const track of state.stream.getTracks()) track.stop();
  state.stream = null;
  ui.video.srcObject = null;
  ui.cameraToggle.textContent = t("startCamera");
  ui.cameraToggle.setAttribute("aria-pressed", "false");
  // No frozen frame, box or result of a camera that is off: the stage and the cards go.
  ui.stage.hidden = true;
  state.result = null;
  renderResult();
  setStatus("cameraStopped");
}

const frameCanvas = document.createElement("canvas");

async function sendFrame() {
  if (!state.stream) return;
  const started = performance.now();
  const video = ui.video;
  if (video.videoWidth > 0) {
    frameCanvas.width = FRAME_WIDTH;
    frameCanvas.height = Math.round((video.videoHeight / video.videoWidth) * FRAME_WIDTH);
    frameCanvas.getContext("2d").drawImage(video, 0, 0, frameCanvas.width, frameCanvas.height);
    const blob = await new Promise((resolve) => frameCanvas.toBlob(resolve, "image/jpeg", FRAME_QUALITY));
    try {
      const answer = await predict(blob, "frame.jpg");
      if (!state.stream) return;  // stopped while the frame was on its way
      if (answer.ok) {
        state.frames += 1;
        document.body.dataset.frames = String(state.frames);
        showResult(answer.body, "foundCamera", { frame: state.frames });
      } else {
        showError(answer.body, answer.status);
      }
    } catch (error) {
      setStatus("network", {}, true);
    }
  }
  if (state.stream) state.timer = setTimeout(sendFrame, Math.max(0, FRAME_INTERVAL_MS - (performance.now() - started)));
}

// ---------------------------------------------------------------- modes and start-up

function setMode(mode) {
  if (mode === state.mode) return;
  if (state.stream) stopCamera();
  state.mode = mode;
  state.result = null;
  setStatus(null);
  ui.modePhoto.setAttribute("aria-pressed", String(mode === "photo"));
  ui.modeCamera.setAttribute("aria-pressed", String(mode === "camera"));
  ui.photoPanel.hidden = mode !== "photo";
  ui.cameraPanel.hidden = mode !== "camera";
  ui.photo.hidden = mode !== "photo";
  ui.video.hidden = mode !== "camera";
  ui.stage.hidden = true;
  renderResult();
}

function start() {
  const model = CONFIG.model;
  $("model-info").textContent = `${model.name} (${model.file}, ${model.version})`;
  for (const button of document.querySelectorAll("[data-lang]")) {
    button.addEventListener("click", () => applyLanguage(button.dataset.lang));
  }
  ui.modePhoto.addEventListener("click", () => setMode("photo"));
  ui.modeCamera.addEventListener("click", () => setMode("camera"));
  ui.photoInput.addEventListener("change", () => {
    if (ui.photoInput.files.length) analysePhoto(ui.photoInput.files[0]);
    ui.photoInput.value = "";  // choosing the same file again analyses it again
  });
  ui.cameraToggle.addEventListener("click", () => (state.stream ? stopCamera() : startCamera()));
  ui.video.hidden = true;
  window.addEventListener("resize", drawBoxes);
  applyLanguage(state.language);
}

start();
