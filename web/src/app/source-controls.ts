/** Choosing the source: camera (device, resolution), video or image file, drop and paste, stop. */

import { $, setOptions } from "./dom";
import { listCameras, openCamera, openFile, openImage, openVideo, RESOLUTIONS } from "./sources";
import type { Source } from "./sources";
import type { Params } from "./params";

export class SourceControls {
  constructor(
    private readonly params: Params,
    /** Open a source with `open` and make it the current one. */
    private readonly use: (open: () => Promise<Source>) => Promise<void>,
    stop: () => void,
  ) {
    const camera = () => void use(() => openCamera(this.cameraId(), this.resolution()));
    $("start-camera").addEventListener("click", camera);
    $("source-camera").addEventListener("click", camera);
    $("source-stop").addEventListener("click", () => stop());
    // File inputs stay hidden behind real buttons, which Tab reaches and Enter/Space press.
    for (const button of document.querySelectorAll<HTMLButtonElement>("[data-opens]")) {
      button.addEventListener("click", () => $<HTMLInputElement>(button.dataset.opens ?? "").click());
    }
    for (const id of ["open-file", "source-video", "source-image"]) {
      const input = $<HTMLInputElement>(id);
      input.addEventListener("change", () => {
        const file = input.files?.[0];
        input.value = "";
        if (file) void use(() => openFile(file));
      });
    }
    const res = $<HTMLSelectElement>("resolution");
    const sizes = RESOLUTIONS.map(([w, h]) => ({ value: `${w}x${h}`, label: `${w} × ${h}` }));
    setOptions(res, sizes, params.resolution.join("x"));
    const restartCamera = () => {
      if ($("source-label").dataset.kind === "camera") camera();
    };
    res.addEventListener("change", restartCamera);
    $("camera").addEventListener("change", restartCamera);
    this.bindDrop();
    void this.fillCameras();
  }

  /** The source the URL asks for, if any. */
  openInitial(): void {
    const { source, src, autostart, resolution } = this.params;
    if (source === "camera" && autostart) void this.use(() => openCamera(this.cameraId(), resolution));
    else if (source === "video" && src) void this.use(() => openVideo(src, src));
    else if (source === "image" && src) void this.use(() => openImage(src, src));
  }

  /** Reflect the current source (null: none) in the panel. */
  showSource(source: Source | null): void {
    const label = $("source-label");
    label.textContent = source ? `${source.kind}: ${source.label} (${source.width} × ${source.height})` : "No source.";
    label.dataset.kind = source?.kind ?? "";
    $("placeholder").hidden = source !== null;
    $<HTMLButtonElement>("source-stop").disabled = source === null;
    if (source?.kind === "camera") void this.fillCameras();
  }

  private cameraId(): string | null {
    return $<HTMLSelectElement>("camera").value || null;
  }

  private resolution(): [number, number] {
    const [w, h] = $<HTMLSelectElement>("resolution").value.split("x").map(Number);
    return [w, h];
  }

  private async fillCameras(): Promise<void> {
    const select = $<HTMLSelectElement>("camera");
    const current = select.value;
    const cameras = await listCameras().catch(() => []);
    const options = [{ value: "", label: "Default camera" }];
    cameras.forEach((c, i) => {
      if (c.deviceId) options.push({ value: c.deviceId, label: c.label || `Camera ${i + 1}` });
    });
    setOptions(select, options, current);
  }

  private bindDrop(): void {
    const stage = $("stage");
    const hint = $("drop-hint");
    stage.addEventListener("dragover", (e) => {
      e.preventDefault();
      hint.hidden = false;
    });
    stage.addEventListener("dragleave", () => (hint.hidden = true));
    stage.addEventListener("drop", (e) => {
      e.preventDefault();
      hint.hidden = true;
      const file = e.dataTransfer?.files[0];
      if (file) void this.use(() => openFile(file));
    });
    document.addEventListener("paste", (e) => {
      const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith("image/"));
      if (file) void this.use(() => openFile(file));
    });
  }
}
