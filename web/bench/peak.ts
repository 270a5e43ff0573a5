/**
 * The GFLOP/s onnxruntime-web reaches here on a probe graph with a known FLOP count (input `x`), the ceiling
 * that the model's efficiency is measured against. `?model=URL&shape=1024,1024&backend=wasm&threads=N&runs=N`.
 * Each call's milliseconds go to `window.bench.calls`.
 */

import * as ort from "onnxruntime-web/all";
import ortMjs from "onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs?url";
import ortWasm from "onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm?url";

import { bench, fail, param } from "./common";

async function main(): Promise<void> {
  const backend = param("backend", "wasm");
  ort.env.wasm.wasmPaths = { wasm: ortWasm, mjs: ortMjs };
  ort.env.wasm.numThreads = crossOriginIsolated ? Number(param("threads", "2")) : 1;
  ort.env.logLevel = "error";
  const shape = param("shape", "").split(",").map(Number);
  const session = await ort.InferenceSession.create(param("model", ""), { executionProviders: [backend] });
  bench.backend = backend;
  bench.threads = ort.env.wasm.numThreads ?? null;
  const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => Math.random() - 0.5);
  const x = new ort.Tensor("float32", data, shape);
  bench.state = "running";
  const runs = Number(param("runs", "10"));
  for (let i = 0; i < runs + 2; i++) {
    const t0 = performance.now();
    const out = await session.run({ x });
    await out.y.getData();
    out.y.dispose();
    const ms = performance.now() - t0;
    // The first two runs warm up (allocation, kernel selection).
    if (i >= 2) bench.calls.push(ms);
  }
}

main().catch(fail);
