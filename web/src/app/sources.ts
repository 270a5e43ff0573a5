/** Frame sources: a camera, a video file or URL, or a still image (file, drop, paste or URL). */

export const SOURCE_KINDS = ["camera", "video", "image"] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/** A new frame: its identity (presentedFrames of a video, a count for images) and presentation time, ms. */
export interface FrameInfo {
  id: number;
  time: number;
}

export interface Source {
  readonly kind: SourceKind;
  readonly label: string;
  /** What frames are drawn from. */
  readonly element: HTMLVideoElement | ImageBitmap;
  readonly width: number;
  readonly height: number;
  /**
   * Calls `onFrame` for new frames until stopped: for every presented frame while it returns true; after it
   * returns false, for the next frame after `resume()`. A still image calls it once. A full pipeline asks for no
   * frames, so the page does not run a rendering update for each camera frame it would only drop (on two cores
   * those updates, 60 a second, took the CPU time inference needed).
   */
  start(onFrame: (frame: FrameInfo) => boolean): void;
  resume(): void;
  stop(): void;
}

export const RESOLUTIONS: [number, number][] = [
  [320, 240],
  [640, 480],
  [1280, 720],
  [1920, 1080],
];

/** A video element's frames, paced by requestVideoFrameCallback (one callback per presented frame). */
class VideoSource implements Source {
  private running = false;
  private armed = false;
  private onFrame: (frame: FrameInfo) => boolean = () => false;

  constructor(
    readonly kind: "camera" | "video",
    readonly label: string,
    readonly element: HTMLVideoElement,
    private readonly release: () => void,
  ) {}

  get width(): number {
    return this.element.videoWidth;
  }

  get height(): number {
    return this.element.videoHeight;
  }

  start(onFrame: (frame: FrameInfo) => boolean): void {
    this.running = true;
    this.onFrame = onFrame;
    this.arm();
  }

  resume(): void {
    if (this.running) this.arm();
  }

  private arm(): void {
    if (this.armed) return;
    this.armed = true;
    const video = this.element;
    video.requestVideoFrameCallback((_now, meta) => {
      this.armed = false;
      if (!this.running) return;
      const ready = video.readyState >= 2 && video.videoWidth > 0;
      if (!ready || this.onFrame({ id: meta.presentedFrames, time: meta.presentationTime })) this.arm();
    });
  }

  stop(): void {
    this.running = false;
    this.element.pause();
    this.release();
  }
}

let images = 0;

class ImageSource implements Source {
  readonly kind = "image" as const;
  private readonly id = ++images;

  constructor(
    readonly label: string,
    readonly element: ImageBitmap,
  ) {}

  get width(): number {
    return this.element.width;
  }

  get height(): number {
    return this.element.height;
  }

  start(onFrame: (frame: FrameInfo) => boolean): void {
    queueMicrotask(() => onFrame({ id: this.id, time: performance.now() }));
  }

  resume(): void {}

  stop(): void {
    this.element.close();
  }
}

function videoElement(): HTMLVideoElement {
  const video = document.createElement("video");
  video.muted = true;
  video.playsInline = true;
  video.loop = true;
  return video;
}

async function ready(video: HTMLVideoElement): Promise<void> {
  if (video.readyState < 2) {
    await new Promise<void>((resolve, reject) => {
      video.addEventListener("loadeddata", () => resolve(), { once: true });
      video.addEventListener("error", () => reject(new Error(video.error?.message || "unsupported format")), {
        once: true,
      });
    });
  }
  await video.play();
}

export async function listCameras(): Promise<MediaDeviceInfo[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  const devices = await navigator.mediaDevices.enumerateDevices();
  return devices.filter((d) => d.kind === "videoinput");
}

export async function openCamera(deviceId: string | null, resolution: [number, number]): Promise<Source> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new Error("This page cannot use a camera here: browsers allow it only on https:// or localhost.");
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: {
        deviceId: deviceId ? { exact: deviceId } : undefined,
        width: { ideal: resolution[0] },
        height: { ideal: resolution[1] },
      },
    });
  } catch (error) {
    throw new Error(cameraError(error));
  }
  const video = videoElement();
  video.srcObject = stream;
  const stopTracks = () => stream.getTracks().forEach((t) => t.stop());
  try {
    await ready(video);
  } catch (error) {
    stopTracks();
    throw new Error(`The camera stream could not play (${String(error)}).`);
  }
  const label = stream.getVideoTracks()[0]?.label || "Camera";
  return new VideoSource("camera", label, video, stopTracks);
}

function cameraError(error: unknown): string {
  const name = error instanceof DOMException ? error.name : "";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return "Camera access was denied. Allow the camera for this site in the browser's settings, or use a video or an image instead.";
  }
  if (name === "NotFoundError" || name === "OverconstrainedError") {
    return "No camera was found. Connect one, pick another camera, or use a video or an image instead.";
  }
  if (name === "NotReadableError" || name === "AbortError") {
    return "The camera is busy or failed to start. Close other apps that use it and try again.";
  }
  return `The camera could not start (${String(error)}).`;
}

export async function openVideo(file: Blob | string, label: string): Promise<Source> {
  const video = videoElement();
  const url = typeof file === "string" ? file : URL.createObjectURL(file);
  video.src = url;
  try {
    await ready(video);
  } catch (error) {
    if (typeof file !== "string") URL.revokeObjectURL(url);
    throw new Error(`The video ${label} cannot be played (${error instanceof Error ? error.message : error}).`);
  }
  return new VideoSource("video", label, video, () => {
    video.removeAttribute("src");
    video.load();
    if (typeof file !== "string") URL.revokeObjectURL(url);
  });
}

export async function openImage(file: Blob | string, label: string): Promise<Source> {
  let blob: Blob;
  if (typeof file === "string") {
    const response = await fetch(file);
    if (!response.ok) throw new Error(`The image ${label} answered ${response.status}.`);
    blob = await response.blob();
  } else blob = file;
  try {
    return new ImageSource(label, await createImageBitmap(blob));
  } catch {
    throw new Error(`${label} is not an image this browser can decode (try PNG, JPEG or WebP).`);
  }
}

/** Open a dropped or pasted file as an image or a video by its type. */
export function openFile(file: File): Promise<Source> {
  if (file.type.startsWith("video/")) return openVideo(file, file.name);
  if (file.type.startsWith("image/")) return openImage(file, file.name);
  return Promise.reject(new Error(`${file.name || "The file"} is neither an image nor a video.`));
}
