// TF.js's own output for `liveseg import model.json`: the model run by @tensorflow/tfjs (its CPU backend, in Node)
// on the parity images, the reference the imported bundle must agree with.
//   node tfjs_reference.cjs REQUEST.json
// The request names the model.json, a raw uint8 N×H×W×3 file of pixels, the normalisation and where to write the
// output: float32 values, image after image, and their shape as JSON beside them.
"use strict";
const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs");

// model.json and its weight shards as the artifacts tf.io.fromMemory takes (tfjs's file:// loader needs tfjs-node).
function artifacts(modelJson) {
  const json = JSON.parse(fs.readFileSync(modelJson, "utf8"));
  const shards = [];
  const weightSpecs = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) shards.push(fs.readFileSync(path.join(path.dirname(modelJson), shard)));
  }
  const bytes = Buffer.concat(shards);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return { ...json, weightSpecs, weightData };
}

async function load(modelJson) {
  const model = artifacts(modelJson);
  const handler = tf.io.fromMemory(model);
  if (model.format === "layers-model") return { layers: await tf.loadLayersModel(handler) };
  return { graph: await tf.loadGraphModel(handler) };
}

// One image, normalised as the bundle's pre-processing does; integer inputs take the rounded values.
function input(pixels, shape, request, dtype) {
  return tf.tidy(() => {
    const mean = tf.tensor1d(request.mean);
    const std = tf.tensor1d(request.std);
    const x = tf.tensor4d(pixels, [1, ...shape, 3], "float32").div(255).sub(mean).div(std);
    return dtype === "int32" ? x.round().toInt() : x;
  });
}

function run(model, x, output) {
  if (model.layers) return model.layers.predict(x);
  const graph = model.graph;
  return graph.execute({ [graph.inputs[0].name]: x }, output || graph.outputs[0].name);
}

async function main() {
  await tf.setBackend("cpu");
  const request = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const model = await load(request.model);
  const dtype = model.layers ? model.layers.inputs[0].dtype : model.graph.inputs[0].dtype;
  const [count, height, width] = request.shape;
  const pixels = fs.readFileSync(request.pixels);
  const out = fs.openSync(request.out, "w");
  let shape = null;
  for (let i = 0; i < count; i++) {
    const image = pixels.subarray(i * height * width * 3, (i + 1) * height * width * 3);
    const x = input(Float32Array.from(image), [height, width], request, dtype);
    const y = run(model, x, request.output);
    const values = await y.data();
    shape = y.shape;
    fs.writeSync(out, Buffer.from(Float32Array.from(values).buffer));
    tf.dispose([x, y]);
  }
  fs.closeSync(out);
  fs.writeFileSync(`${request.out}.json`, JSON.stringify({ shape, inputDtype: dtype }));
}

main().catch((err) => {
  process.stderr.write(`${err && err.message ? err.message : err}\n`);
  process.exit(1);
});
