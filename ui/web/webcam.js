// Style Studio: the live webcam, stylized in the visitor's page (issue 18).
//
// The server hands out the chosen model once, as an ONNX file (studio/export/web.py); ONNX Runtime Web, served
// by the studio itself, runs it here: WebGPU when the browser has a GPU adapter, else WebAssembly (SIMD) in
// one worker per core, each stylizing the next camera frame while the others work. Camera frames never leave
// the device and no request reaches the server per frame. Style, intensity and colour preservation are graph
// inputs: changing them takes effect on the next frame without loading anything.
//
// mount(element) -> Webcam; webcam.configure(value) with what the Python side sends:
//   {model, weights, intensity, preserve, side, label, ortBase, wasmBundle, webgpuBundle, worker}
// When the page cannot run the model (no WebAssembly, no module workers, the runtime not installed, a
// failure), the panel says why and switches the tab to the server's stream (the "Runs on" radio).

const MIN_SIDE = 64; // the network's smallest map side (studio.export.web.MIN_FRAME_SIDE)
const MAX_WORKERS = 4;

function workerCount(backend) {
  // WebGPU: one session (the GPU runs one frame at a time); WebAssembly: one per core, at most MAX_WORKERS.
  // window.studioWebcamWorkers overrides it (bench/webcam_browser.py compares counts).
  const wanted = Number(window.studioWebcamWorkers);
  if (wanted >= 1) return Math.min(MAX_WORKERS, Math.floor(wanted));
  return backend === "webgpu" ? 1 : Math.max(1, Math.min(MAX_WORKERS, navigator.hardwareConcurrency || 2));
}

function spawn(url, onMessage) {
  const slot = { worker: new Worker(url, { type: "module" }), busy: false, ready: false, waiting: null };
  slot.worker.onmessage = (event) => onMessage(slot, event.data);
  return slot;
}

function fit(width, height, side) {
  // the frame's size for the network: longest side <= side, both multiples of 4, both >= MIN_SIDE
  const scale = Math.min(1, side / Math.max(width, height));
  const round4 = (v) => Math.max(MIN_SIDE, Math.round((v * scale) / 4) * 4);
  return [round4(width), round4(height)];
}

function toPlanes(rgba, count) {
  // RGBA bytes (canvas ImageData) -> float32 RGB planes, 0..1
  const planes = new Float32Array(count * 3);
  for (let i = 0, j = 0; i < count; i++, j += 4) {
    planes[i] = rgba[j] / 255;
    planes[count + i] = rgba[j + 1] / 255;
    planes[2 * count + i] = rgba[j + 2] / 255;
  }
  return planes;
}

function toRgba(planes, rgba, count) {
  // float32 RGB planes, 0..1 -> RGBA bytes, rounded as the server rounds (floor(v * 255 + 0.5))
  for (let i = 0, j = 0; i < count; i++, j += 4) {
    // | 0 truncates (the planes are 0..1); a clamped array alone would round half to even, after the + 0.5
    rgba[j] = (planes[i] * 255 + 0.5) | 0;
    rgba[j + 1] = (planes[count + i] * 255 + 0.5) | 0;
    rgba[j + 2] = (planes[2 * count + i] * 255 + 0.5) | 0;
    rgba[j + 3] = 255;
  }
}

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

async function gpuAdapter() {
  try {
    return navigator.gpu ? await navigator.gpu.requestAdapter() : null;
  } catch {
    return null;
  }
}

export class Webcam {
  constructor(root) {
    this.root = root;
    this.$ = (selector) => root.querySelector(selector);
    this.canvas = this.$(".wl-out");
    this.video = document.createElement("video");
    this.video.muted = true;
    this.video.playsInline = true;
    this.grab = document.createElement("canvas");
    this.settings = null; // the latest value from the server
    this.workers = []; // {worker, busy, ready}
    this.backend = null; // "webgpu" | "wasm"
    this.loadedModel = null;
    this.stream = null;
    this.running = false;
    this.nextId = 1;
    this.shownId = 0;
    this.inputs = new Map(); // id -> {rgba, width, height}: the frame given to a worker, kept for lastPair()
    this.shown = []; // times frames were shown (for the fps counter)
    this.frameMs = 0;
    this.frames = 0; // frames shown since the page loaded
    this.last = null; // {input, output, width, height} of the frame on screen
    this.failed = null;
    this.$(".wl-start").addEventListener("click", () => this.start());
    this.$(".wl-stop").addEventListener("click", () => this.stop());
    this.$(".wl-snap").addEventListener("click", () => this.snapshot());
    this.$(".wl-mirror").addEventListener("change", () => this.mirror());
    this.mirror();
    this.showStats();
  }

  // --- what the server says -------------------------------------------------------------------------------
  configure(value) {
    if (!value || typeof value !== "object") return;
    const absolute = (url) => (url ? new URL(url, document.baseURI).href : url); // workers need absolute URLs
    this.settings = { ...value, model: absolute(value.model), worker: absolute(value.worker),
                      ortBase: absolute(value.ortBase) };
    const why = this.reason();
    if (why && !this.failed) return this.fail(why); // say so now, not at Start
    if (this.running && this.settings.model && this.settings.model !== this.loadedModel) {
      this.load().catch((error) => this.fail(`the model did not load in this browser (${error.message})`));
    }
    this.showStats();
  }

  // --- the runtime ----------------------------------------------------------------------------------------
  reason() {
    // why this page cannot run the model itself, or null when it can try
    if (typeof WebAssembly !== "object") return "this browser has no WebAssembly";
    if (typeof Worker !== "function") return "this browser has no web workers";
    if (!this.settings?.ortBase) return "the in-browser runtime is not installed on this studio (./setup.sh installs it)";
    return null;
  }

  async ensureWorkers() {
    if (this.workers.length) return;
    this.backend = (await gpuAdapter()) ? "webgpu" : "wasm";
    this.spawnWorkers();
  }

  spawnWorkers() {
    for (let i = 0; i < workerCount(this.backend); i++) {
      const slot = spawn(this.settings.worker, (s, message) => this.onMessage(s, message));
      slot.worker.onerror = (event) => this.fail(`the runtime did not start (${event.message || "worker error"})`);
      this.workers.push(slot);
    }
  }

  loadOne(slot, backend) {
    const s = this.settings;
    return new Promise((resolve, reject) => {
      slot.waiting = { resolve, reject };
      slot.worker.postMessage({
        type: "load",
        ortBase: s.ortBase,
        bundle: backend === "webgpu" ? s.webgpuBundle : s.wasmBundle,
        backend,
        model: s.model,
      });
    });
  }

  async load() {
    const model = this.settings.model;
    this.loadedModel = model;
    this.say("Loading the model into this browser…");
    await this.ensureWorkers();
    try {
      await Promise.all(this.workers.map((slot) => this.loadOne(slot, this.backend)));
    } catch (error) {
      if (this.backend !== "webgpu") throw error;
      // WebGPU adapters can still fail on some ops or drivers: WebAssembly always works
      this.workers.forEach((slot) => slot.worker.terminate());
      this.workers = [];
      this.backend = "wasm";
      this.spawnWorkers();
      await Promise.all(this.workers.map((slot) => this.loadOne(slot, "wasm")));
    }
    if (this.loadedModel !== model) return; // another model was picked meanwhile; its load runs
    this.workers.forEach((slot) => (slot.ready = true));
    this.say("");
  }

  onMessage(slot, message) {
    if (message.type === "ready" || (message.type === "failed" && message.during === "load")) {
      const waiting = slot.waiting;
      slot.waiting = null;
      if (message.type === "ready") waiting?.resolve();
      else waiting?.reject(new Error(message.message));
      return;
    }
    slot.busy = false;
    if (message.type === "failed") {
      this.fail(`stylizing failed in this browser (${message.message})`);
      return;
    }
    const input = this.inputs.get(message.id);
    for (const id of this.inputs.keys()) if (id <= message.id) this.inputs.delete(id);
    if (message.id <= this.shownId || !input) return; // a later frame is already on screen
    this.shownId = message.id;
    this.frameMs = message.ms;
    this.frames += 1;
    const { width, height } = input;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const image = new ImageData(width, height);
    toRgba(message.data, image.data, width * height);
    this.canvas.getContext("2d").putImageData(image, 0, 0);
    this.canvas.dataset.shown = "1";
    this.last = { input: input.rgba, output: image.data, width, height };
    const now = performance.now();
    this.shown.push(now);
    while (this.shown.length && now - this.shown[0] > 2000) this.shown.shift();
    this.$(".wl-snap").disabled = false;
    this.showStats();
  }

  // --- the camera -----------------------------------------------------------------------------------------
  async start() {
    if (this.running) return;
    const why = this.reason();
    if (why) return this.fallBack(why);
    if (!navigator.mediaDevices?.getUserMedia) {
      return this.say("The camera needs a secure page: open the studio over https, or on localhost.");
    }
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: "user", width: { ideal: 640 }, height: { ideal: 480 } },
        audio: false,
      });
    } catch (error) {
      const denied = error?.name === "NotAllowedError";
      return this.say(denied ? "The camera was not allowed: allow it in the address bar, then Start again."
                             : `No camera could be opened (${error?.name || error}).`);
    }
    this.video.srcObject = this.stream;
    await this.video.play();
    this.running = true;
    this.failed = null;
    this.$(".wl-start").disabled = true;
    this.$(".wl-stop").disabled = false;
    this.root.classList.add("wl-live");
    try {
      if (this.settings?.model && this.settings.model !== this.loadedModel) await this.load();
      else if (!this.workers.length && this.settings?.model) await this.load();
    } catch (error) {
      return this.fail(`the model did not load in this browser (${error.message})`);
    }
    this.pump();
  }

  stop(message = "") {
    if (!this.running && !this.stream) return;
    this.running = false;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.video.srcObject = null;
    this.$(".wl-start").disabled = false;
    this.$(".wl-stop").disabled = true;
    this.root.classList.remove("wl-live");
    this.shown = [];
    this.say(message);
    this.showStats();
  }

  pump() {
    if (!this.running) return;
    if (this.root.offsetParent === null) {
      // another tab of the studio is shown: free the camera and the cores for it
      return this.stop("Stopped when you left the Webcam tab: Start again to go on.");
    }
    const s = this.settings;
    const free = this.workers.find((slot) => slot.ready && !slot.busy);
    if (free && s?.model === this.loadedModel && this.video.videoWidth) {
      const [width, height] = fit(this.video.videoWidth, this.video.videoHeight, s.side);
      if (this.grab.width !== width || this.grab.height !== height) {
        this.grab.width = width;
        this.grab.height = height;
      }
      const context = this.grab.getContext("2d", { willReadFrequently: true });
      context.drawImage(this.video, 0, 0, width, height);
      const rgba = context.getImageData(0, 0, width, height).data;
      const image = toPlanes(rgba, width * height);
      const id = this.nextId++;
      this.inputs.set(id, { rgba, width, height });
      free.busy = true;
      free.worker.postMessage(
        { type: "run", id, image, width, height, weights: new Float32Array(s.weights), intensity: s.intensity,
          preserve: s.preserve },
        [image.buffer],
      );
    }
    requestAnimationFrame(() => this.pump());
  }

  // --- what the user sees ---------------------------------------------------------------------------------
  fps() {
    if (this.shown.length < 2) return 0;
    return ((this.shown.length - 1) * 1000) / (this.shown[this.shown.length - 1] - this.shown[0]);
  }

  backendName() {
    if (!this.backend) return "not started";
    if (this.backend === "webgpu") return "WebGPU";
    return `WebAssembly, ${this.workers.length} worker${this.workers.length === 1 ? "" : "s"}`;
  }

  showStats() {
    const parts = [];
    if (this.running) parts.push(`${this.fps().toFixed(1)} fps`);
    parts.push(`in this browser: ${this.backendName()}`);
    if (this.running && this.canvas.width) parts.push(`${this.canvas.width}×${this.canvas.height}`);
    if (this.settings?.label) parts.push(this.settings.label);
    this.$(".wl-stats").textContent = parts.join(" · ");
  }

  say(text) {
    this.$(".wl-note").textContent = text;
  }

  mirror() {
    this.canvas.classList.toggle("wl-mirrored", this.$(".wl-mirror").checked);
  }

  snapshot() {
    // the stylized frame as shown (mirrored when the view is), as a PNG download
    if (!this.last) return;
    const copy = document.createElement("canvas");
    copy.width = this.canvas.width;
    copy.height = this.canvas.height;
    const context = copy.getContext("2d");
    if (this.$(".wl-mirror").checked) {
      context.translate(copy.width, 0);
      context.scale(-1, 1);
    }
    context.drawImage(this.canvas, 0, 0);
    const name = `${(this.settings?.label || "webcam").replace(/[^\w.-]+/g, "-")}-webcam.png`;
    copy.toBlob((blob) => {
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    }, "image/png");
  }

  fail(why) {
    if (this.failed) return;
    this.failed = why;
    this.workers.forEach((slot) => slot.worker.terminate());
    this.workers = [];
    this.loadedModel = null;
    this.backend = null;
    this.stop();
    this.fallBack(why);
  }

  fallBack(why) {
    // the tab's server stream instead: pick "On the server" in the Runs-on radio (its own handler shows it)
    this.say(`Running in this browser is not possible: ${why}. The server runs it instead: press record in the ` +
             "Camera box.");
    const server = document.querySelector('#cam-where input[value="server"]');
    if (server && !server.checked) server.click();
  }

  // --- for tests ------------------------------------------------------------------------------------------
  lastPair() {
    // the frame on screen and the camera frame it was made from: {width, height, input, output} (RGBA, base64)
    if (!this.last) return null;
    const { width, height, input, output } = this.last;
    return { width, height, input: base64(input), output: base64(output) };
  }
}

export function mount(element) {
  const root = element.querySelector(".wl-root") || element;
  if (!root.studioWebcam) root.studioWebcam = new Webcam(root);
  window.studioWebcam = root.studioWebcam;
  return root.studioWebcam;
}
