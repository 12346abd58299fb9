// Style Studio: one ONNX Runtime Web session in a worker, stylizing camera frames off the page's thread.
//
// The page (webcam.js) runs several of these and gives each the next frame as soon as it is free: frames are
// stylized in parallel, one per core, which on a 2-core CPU measured twice the frames a second of one session
// using two threads (ONNX Runtime's own threads also need a cross-origin isolated page).
//
// Messages in:  {type: "load", ortBase, bundle, backend, model}       -> {type: "ready"} or {type: "failed", message}
//               {type: "run", id, image, width, height, weights, intensity, preserve}
//                                                                   -> {type: "frame", id, data, ms} or {type: "failed", ...}
// image and data are float32 RGB planes (3 x height x width), values 0..1; weights one float per style.

let ort = null;
let session = null;

async function load(message) {
  if (ort === null) {
    ort = await import(message.ortBase + message.bundle);
    ort.env.wasm.wasmPaths = message.ortBase; // the studio's own copy: nothing from a CDN
    ort.env.wasm.numThreads = 1; // parallel frames instead (see above)
    ort.env.logLevel = "error";
  }
  const previous = session;
  session = null;
  if (previous !== null) await previous.release();
  session = await ort.InferenceSession.create(message.model, {
    executionProviders: [message.backend],
    graphOptimizationLevel: "all",
  });
}

async function run(message) {
  const feeds = {
    image: new ort.Tensor("float32", message.image, [1, 3, message.height, message.width]),
    style_weights: new ort.Tensor("float32", message.weights, [1, message.weights.length]),
    intensity: new ort.Tensor("float32", new Float32Array([message.intensity]), [1]),
    preserve_color: new ort.Tensor("float32", new Float32Array([message.preserve ? 1 : 0]), [1]),
  };
  const started = performance.now();
  const result = await session.run(feeds);
  const data = result.stylizedImage.data.slice(); // our own copy: the session may reuse its buffer
  for (const tensor of Object.values(result)) tensor.dispose?.();
  return { data, ms: performance.now() - started };
}

let queue = Promise.resolve(); // one message at a time, in order (a load never overlaps a frame)
self.onmessage = (event) => {
  const message = event.data;
  queue = queue.then(async () => {
    try {
      if (message.type === "load") {
        await load(message);
        self.postMessage({ type: "ready" });
      } else if (message.type === "run") {
        if (session === null) throw new Error("no model loaded");
        const { data, ms } = await run(message);
        self.postMessage({ type: "frame", id: message.id, data, ms }, [data.buffer]);
      }
    } catch (error) {
      self.postMessage({ type: "failed", id: message.id, during: message.type, message: String(error?.message ?? error) });
    }
  });
};
