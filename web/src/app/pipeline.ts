/**
 * The frame pipeline: source frames (requestVideoFrameCallback for cameras and videos) → the segmenter's
 * worker → the view, each result drawn together with the frame it was segmented from.
 *
 * Up to DEPTH frames are in flight: while the worker segments frame N, frame N+1 is already in its queue, so it
 * starts the moment N is done instead of after a round trip through the page. While the pipeline is full it asks
 * the source for no frames (no per-frame callbacks, no rendering updates); the camera frames it skips meanwhile
 * are counted as dropped. Capture is a VideoFrame around the decoder's buffer
 * (no pixels are copied on this thread); the worker draws it at the model's size.
 */

import type { ImageModelOutput, SegmentationResult, Segmenter } from "../lib";
import type { FrameInfo, Source } from "./sources";
import type { Stats } from "./stats";
import type { ViewSettings } from "./view/options";
import type { Frame } from "./view/surface";
import type { View } from "./view/view";

export const DEPTH = 2;

export interface PipelineHooks {
  /** A result was drawn. */
  shown(result: SegmentationResult): void;
  failed(message: string): void;
  /** The image model's output for `frame` when that effect is on, else null. */
  styled(frame: Frame): Promise<ImageModelOutput | null> | null;
  recycleStyled(output: ImageModelOutput): void;
}

/** A frame on its way: what is displayed with its result, and when and how it was captured. */
interface Capture {
  generation: number;
  display: Frame;
  /** True when the pipeline made `display` and so must close it. */
  owned: boolean;
  frame: number;
  startedAt: number;
  capture: number;
  idle: number;
}

function close(frame: Frame | null, owned: boolean): void {
  if (owned && frame && !(frame instanceof HTMLVideoElement)) frame.close();
}

export class Pipeline {
  private segmenter: Segmenter | null = null;
  private source: Source | null = null;
  /** Bumped when the segmenter or the source changes: results of older frames are then discarded. */
  private generation = 0;
  private inFlight = 0;
  private lastFrame: number | null = null;
  /** When the pipeline last got room for another frame and began waiting for one (null: full). */
  private waitingSince: number | null = null;
  private shown: { frame: Frame; owned: boolean } | null = null;
  private last: SegmentationResult | null = null;
  private previewQueued = false;

  constructor(
    private readonly view: View,
    private readonly stats: Stats,
    private readonly settings: ViewSettings,
    private readonly hooks: PipelineHooks,
  ) {}

  /** The latest drawn result (for saving the mask). */
  get result(): SegmentationResult | null {
    return this.last;
  }

  setSegmenter(segmenter: Segmenter | null): void {
    this.segmenter?.close();
    this.segmenter = segmenter;
    this.last = null;
    this.restart();
    this.refresh();
  }

  setSource(source: Source | null): void {
    this.source?.stop();
    this.source = source;
    this.segmenter?.reset();
    this.restart();
    if (!source) {
      this.view.clear();
      this.setShown(null, false);
      return;
    }
    source.start((info) => this.onFrame(source, info));
  }

  /** Segment a still image again (after the model or the effect changed). */
  refresh(): void {
    const source = this.source;
    if (source?.kind === "image" && this.segmenter) this.capture(source, { id: -1, time: performance.now() });
  }

  private restart(): void {
    this.generation++;
    this.inFlight = 0;
    this.lastFrame = null;
    this.waitingSince = performance.now();
    this.stats.reset();
    this.source?.resume();
  }

  /** A new frame of `source`; returns whether the pipeline wants the next one as soon as it is presented. */
  private onFrame(source: Source, info: FrameInfo): boolean {
    if (source !== this.source) return false;
    if (info.id === this.lastFrame) return true;
    if (!this.segmenter) {
      this.preview(source);
      return true;
    }
    if (this.inFlight >= DEPTH) return false;
    if (this.lastFrame !== null && info.id > this.lastFrame + 1) this.stats.dropped += info.id - this.lastFrame - 1;
    this.capture(source, info);
    return this.inFlight < DEPTH;
  }

  private capture(source: Source, info: FrameInfo): void {
    const segmenter = this.segmenter as Segmenter;
    const startedAt = performance.now();
    const still = source.element instanceof ImageBitmap;
    const display: Frame = still ? source.element : new VideoFrame(source.element);
    const segmented = still ? segmenter.segment(display) : segmenter.segmentForVideo(display, info.time);
    const styled = this.hooks.styled(display);
    const job: Capture = {
      generation: this.generation,
      display,
      owned: !still,
      frame: info.id,
      startedAt,
      capture: performance.now() - startedAt,
      idle: this.waitingSince === null ? 0 : startedAt - this.waitingSince,
    };
    this.lastFrame = info.id;
    this.inFlight++;
    this.waitingSince = this.inFlight < DEPTH ? performance.now() : null;
    Promise.all([segmented, styled]).then(
      ([result, output]) => this.present(job, source, result, output),
      (error: unknown) => this.fail(job, error),
    );
  }

  private present(job: Capture, source: Source, result: SegmentationResult, styled: ImageModelOutput | null): void {
    if (job.generation !== this.generation || !this.segmenter) {
      close(job.display, job.owned);
      return;
    }
    this.release();
    const t0 = performance.now();
    if (styled) {
      this.view.setStyled(styled.pixels, styled.width, styled.height);
      this.hooks.recycleStyled(styled);
    }
    this.view.show(job.display, source.width, source.height, result);
    this.view.render(this.settings);
    const render = performance.now() - t0;
    this.setShown(job.display, job.owned);
    if (this.last) this.segmenter.recycle(this.last);
    this.last = result;
    const { preprocess, inference, readback, total, transfer, stabilise } = result.timings;
    const latency = performance.now() - job.startedAt;
    const stages = { capture: job.capture, transfer, preprocess, inference, readback, render, idle: job.idle };
    this.stats.add({ ...stages, total, latency, stabilise }, job.frame);
    this.hooks.shown(result);
  }

  private fail(job: Capture, error: unknown): void {
    close(job.display, job.owned);
    if (job.generation !== this.generation) return;
    this.release();
    this.hooks.failed(`Segmentation failed: ${error instanceof Error ? error.message : String(error)}`);
  }

  /** One frame fewer in flight; the pipeline waits for the next frame from now on. */
  private release(): void {
    this.inFlight = Math.max(0, this.inFlight - 1);
    this.waitingSince ??= performance.now();
    this.source?.resume();
  }

  /** Before a model is ready: show the frames as they come, once per animation frame. */
  private preview(source: Source): void {
    if (this.previewQueued) return;
    this.previewQueued = true;
    requestAnimationFrame(() => {
      this.previewQueued = false;
      if (source !== this.source || this.segmenter) return;
      const still = source.element instanceof ImageBitmap;
      const frame: Frame = still ? source.element : new VideoFrame(source.element);
      this.view.show(frame, source.width, source.height, null);
      this.view.render(this.settings);
      this.setShown(frame, !still);
    });
  }

  private setShown(frame: Frame | null, owned: boolean): void {
    if (this.shown && this.shown.frame !== frame) close(this.shown.frame, this.shown.owned);
    this.shown = frame ? { frame, owned } : null;
  }
}
