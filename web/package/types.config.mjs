// The package's TypeScript declarations as one file, dist/liveseg.d.ts, holding only what src/lib/index.ts
// exports: declarations emitted per module would leak internal imports (onnxruntime-web's types) to users.
import { dts } from "rollup-plugin-dts";

const here = (path) => new URL(path, import.meta.url).pathname;

export default {
  input: here("../src/lib/index.ts"),
  output: { file: here("dist/liveseg.d.ts"), format: "es" },
  plugins: [dts({ tsconfig: here("../tsconfig.json") })],
};
