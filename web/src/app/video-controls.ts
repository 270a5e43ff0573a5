/**
 * Play, pause and seek for a video file (a camera has none). The pipeline follows the video element: paused,
 * it presents no frames and the last result stays; a seek presents one frame, which is segmented.
 */

import { $ } from "./dom";

function clock(seconds: number): string {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export class VideoControls {
  private video: HTMLVideoElement | null = null;
  private seeking = false;
  private readonly update = () => this.show();

  constructor() {
    $("video-play").addEventListener("click", () => {
      const v = this.video;
      if (!v) return;
      if (v.paused) void v.play();
      else v.pause();
    });
    const seek = $<HTMLInputElement>("video-seek");
    seek.addEventListener("input", () => {
      this.seeking = true;
      if (this.video) this.video.currentTime = Number(seek.value);
    });
    seek.addEventListener("change", () => (this.seeking = false));
  }

  /** Control `video` (null: no video file, the controls hide). */
  attach(video: HTMLVideoElement | null): void {
    for (const e of ["timeupdate", "play", "pause", "durationchange", "seeked"]) {
      this.video?.removeEventListener(e, this.update);
      video?.addEventListener(e, this.update);
    }
    this.video = video;
    $("video-controls").hidden = video === null;
    this.show();
  }

  private show(): void {
    const v = this.video;
    if (!v) return;
    const play = $("video-play");
    play.textContent = v.paused ? "Play" : "Pause";
    play.setAttribute("aria-label", v.paused ? "Play" : "Pause");
    const seek = $<HTMLInputElement>("video-seek");
    seek.max = String(Number.isFinite(v.duration) ? v.duration : 0);
    if (!this.seeking) seek.value = String(v.currentTime);
    $("video-time").textContent = `${clock(v.currentTime)} / ${clock(v.duration)}`;
  }
}
