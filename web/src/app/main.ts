/**
 * The liveseg page's entry point. The page is split by responsibility: `app` wires the parts, `pipeline` moves
 * frames from the source through the segmenter to the view, `view/` draws (WebGL on a GPU, a 2D canvas where
 * WebGL is software), `pickers`, `controls` and `source-controls` are the panel, `stats` and `stats-view` the
 * figures, `effects` the effect state and the user's image model.
 */

import "../style.css";

import { createImageModel, createSegmenter } from "../lib";
import { App, VERSION } from "./app";
import type { Snapshot } from "./snapshot-schema";

const app = new App();

/** The page's automation hook: tests and `liveseg bench browser` read stats and use the module API here. */
const hook = {
  version: VERSION,
  createSegmenter,
  createImageModel,
  stats: (): Snapshot => app.snapshot(),
  ready: (): Promise<Snapshot> => app.whenReady(),
};

declare global {
  interface Window {
    liveseg: typeof hook;
  }
}

window.liveseg = hook;
void app.start();
