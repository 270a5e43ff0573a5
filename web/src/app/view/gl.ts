/**
 * The WebGL2 view: the class map is uploaded as an R8UI texture and coloured by a fragment shader through a
 * 256×1 palette texture, composited over the frame together with the mask effects.
 */

import { foregroundAlpha } from "../../lib";
import type { ClassInfo, SegmentationResult } from "../../lib";
import type { View } from "./contract";
import { classWeights, code, EFFECTS, MASK_BACKDROP, overlayOpacity, VIEW_MODES } from "./options";
import type { ClassStyle, ViewSettings } from "./options";
import { BLUR, COMPOSITE, VERTEX } from "./shaders";
import { canvasSize, coverScale, encodePng } from "./surface";
import type { Frame } from "./surface";

type Uniforms = Record<string, WebGLUniformLocation | null>;

interface Program {
  program: WebGLProgram;
  u: Uniforms;
}

interface Target {
  texture: WebGLTexture;
  fbo: WebGLFramebuffer;
  width: number;
  height: number;
}

export class WebGLView implements View {
  readonly kind = "webgl";
  private readonly gl: WebGL2RenderingContext;
  private readonly composite: Program;
  private readonly blur: Program;
  private readonly frame: WebGLTexture;
  private readonly labels: WebGLTexture;
  private readonly confidence: WebGLTexture;
  private readonly palette: WebGLTexture;
  private readonly foreground: WebGLTexture;
  private readonly background: WebGLTexture;
  private readonly styled: WebGLTexture;
  /** The effect's mask at the model's size (R8, the foreground alpha), filtered bilinearly by the sampler. */
  private readonly alpha: WebGLTexture;
  private alphaBytes: Uint8Array = new Uint8Array(0);
  private alphaSize: [number, number] = [0, 0];
  /** The result on screen (its buffers stay valid until the next `show`), to cut the mask again for new classes. */
  private result: SegmentationResult | null = null;
  private foregroundIds: Set<number> = new Set();
  private blurTargets: [Target, Target] | null = null;
  private frameSize: [number, number] = [0, 0];
  private labelSize: [number, number] = [0, 0];
  private backgroundSize: [number, number] = [0, 0];
  private hasLabels = false;
  private hasConfidence = false;

  constructor(readonly canvas: HTMLCanvasElement) {
    const gl = canvas.getContext("webgl2", { alpha: false, antialias: false, premultipliedAlpha: false });
    if (!gl)
      throw new Error("This browser has no WebGL2, which the view needs; try a current Chrome, Edge or Firefox.");
    this.gl = gl;
    this.composite = this.link(COMPOSITE);
    this.blur = this.link(BLUR);
    this.frame = this.texture(gl.LINEAR);
    this.labels = this.texture(gl.NEAREST);
    this.confidence = this.texture(gl.LINEAR);
    this.palette = this.texture(gl.NEAREST);
    this.foreground = this.texture(gl.NEAREST);
    this.background = this.texture(gl.LINEAR);
    this.styled = this.texture(gl.LINEAR);
    this.alpha = this.texture(gl.LINEAR);
    gl.pixelStorei(gl.UNPACK_ALIGNMENT, 1);
    for (const t of [this.palette, this.foreground, this.background, this.styled, this.confidence, this.alpha]) {
      this.upload(t, gl.RGBA8, gl.RGBA, 1, 1, new Uint8Array(4));
    }
    this.upload(this.labels, gl.R8UI, gl.RED_INTEGER, 1, 1, new Uint8Array(1));
  }

  get width(): number {
    return this.frameSize[0];
  }

  get height(): number {
    return this.frameSize[1];
  }

  /** Uploads the frame now, so the caller may close it as soon as this returns. */
  show(frame: Frame, width: number, height: number, result: SegmentationResult | null): void {
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.frame);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, frame);
    this.frameSize = [width, height];
    this.hasLabels = result !== null;
    this.result = result;
    if (!result) return;
    const { width: w, height: h } = result;
    const same = this.labelSize[0] === w && this.labelSize[1] === h;
    this.upload(this.labels, gl.R8UI, gl.RED_INTEGER, w, h, result.labels, same);
    this.hasConfidence = result.confidence !== undefined;
    if (result.confidence) this.upload(this.confidence, gl.R8, gl.RED, w, h, result.confidence, same);
    this.labelSize = [w, h];
    this.uploadAlpha();
  }

  private uploadAlpha(): void {
    const result = this.result;
    if (!result) return;
    const { width: w, height: h } = result;
    this.alphaBytes = foregroundAlpha(result.labels, result.confidence, this.foregroundIds, this.alphaBytes);
    const same = this.alphaSize[0] === w && this.alphaSize[1] === h;
    this.upload(this.alpha, this.gl.R8, this.gl.RED, w, h, this.alphaBytes, same);
    this.alphaSize = [w, h];
  }

  clear(): void {
    this.hasLabels = false;
    this.result = null;
    this.frameSize = [0, 0];
  }

  setClasses(classes: ClassInfo[], style: ClassStyle): void {
    const colours = new Uint8Array(256 * 4);
    const fg = new Uint8Array(256 * 4);
    const weights = classWeights(
      classes.map((c) => c.id),
      style,
    );
    for (const c of classes) {
      if (c.id < 0 || c.id > 255) continue;
      colours.set(c.color, c.id * 4);
      colours[c.id * 4 + 3] = Math.round(((weights.get(c.id) ?? 0) / 2) * 255);
      fg[c.id * 4] = style.foreground.has(c.id) ? 255 : 0;
    }
    this.upload(this.palette, this.gl.RGBA8, this.gl.RGBA, 256, 1, colours);
    this.upload(this.foreground, this.gl.RGBA8, this.gl.RGBA, 256, 1, fg);
    this.foregroundIds = new Set(style.foreground);
    this.uploadAlpha();
  }

  setBackground(image: ImageBitmap | HTMLCanvasElement, width: number, height: number): void {
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, this.background);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA, gl.RGBA, gl.UNSIGNED_BYTE, image);
    this.backgroundSize = [width, height];
  }

  setStyled(pixels: Uint8ClampedArray, width: number, height: number): void {
    this.upload(this.styled, this.gl.RGBA8, this.gl.RGBA, width, height, pixels);
  }

  /** Returns the milliseconds spent submitting (the GPU's own time is not waited for). */
  render(view: ViewSettings): number {
    const t0 = performance.now();
    const gl = this.gl;
    const [w, h] = this.frameSize;
    if (w === 0 || h === 0) return 0;
    const [cw, ch] = canvasSize(view.mode, w, h);
    if (this.canvas.width !== cw || this.canvas.height !== ch) {
      this.canvas.width = cw;
      this.canvas.height = ch;
    }
    if (this.hasLabels && view.mode !== "mask" && view.effect === "blur") this.renderBlur(view.blur);

    const { program, u } = this.composite;
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    gl.viewport(0, 0, cw, ch);
    gl.useProgram(program);
    gl.uniform1i(u.uToTexture, 0);
    const units: [string, WebGLTexture][] = [
      ["uFrame", this.frame],
      ["uBlur", this.blurTargets?.[1].texture ?? this.frame],
      ["uBackground", this.background],
      ["uStyled", this.styled],
      ["uConfidence", this.confidence],
      ["uLabels", this.labels],
      ["uPalette", this.palette],
      ["uForeground", this.foreground],
      ["uAlpha", this.alpha],
    ];
    units.forEach(([name, texture], i) => {
      gl.activeTexture(gl.TEXTURE0 + i);
      gl.bindTexture(gl.TEXTURE_2D, texture);
      gl.uniform1i(u[name], i);
    });
    const effect = view.effect === "image" && this.backgroundSize[0] === 0 ? "none" : view.effect;
    gl.uniform1i(u.uHasLabels, this.hasLabels ? 1 : 0);
    gl.uniform1i(u.uHasConfidence, this.hasConfidence ? 1 : 0);
    gl.uniform1i(u.uSmooth, view.smooth ? 1 : 0);
    gl.uniform1i(u.uMode, code(VIEW_MODES, view.mode));
    gl.uniform1i(u.uEffect, code(EFFECTS, effect));
    gl.uniform1f(u.uOpacity, overlayOpacity(view));
    gl.uniform1f(u.uStrength, view.strength);
    gl.uniform3f(u.uColor, view.color[0] / 255, view.color[1] / 255, view.color[2] / 255);
    gl.uniform3fv(u.uBackdrop, MASK_BACKDROP);
    gl.uniform2f(u.uFrameSize, w, h);
    gl.uniform2fv(u.uBackgroundScale, coverScale(this.backgroundSize, this.frameSize));
    gl.drawArrays(gl.TRIANGLES, 0, 3);
    return performance.now() - t0;
  }

  /** The drawing buffer is only valid in the task that drew it, so render and encode together. */
  snapshot(view: ViewSettings): Promise<Blob> {
    this.render(view);
    return encodePng(this.canvas);
  }

  private renderBlur(radius: number): void {
    const gl = this.gl;
    const [w, h] = this.frameSize;
    const bw = Math.max(1, Math.ceil(w / 4));
    const bh = Math.max(1, Math.ceil(h / 4));
    if (!this.blurTargets || this.blurTargets[0].width !== bw || this.blurTargets[0].height !== bh) {
      this.blurTargets?.forEach((t) => {
        gl.deleteTexture(t.texture);
        gl.deleteFramebuffer(t.fbo);
      });
      this.blurTargets = [this.target(bw, bh), this.target(bw, bh)];
    }
    gl.bindTexture(gl.TEXTURE_2D, this.frame);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR_MIPMAP_LINEAR);
    gl.generateMipmap(gl.TEXTURE_2D);
    const { program, u } = this.blur;
    gl.useProgram(program);
    gl.uniform1i(u.uToTexture, 1);
    gl.uniform1i(u.uSource, 0);
    gl.activeTexture(gl.TEXTURE0);
    gl.viewport(0, 0, bw, bh);
    const step = Math.max(radius, 1) / 4;
    const passes: [WebGLTexture, Target, [number, number], number][] = [
      [this.frame, this.blurTargets[0], [step / w, 0], 2],
      [this.blurTargets[0].texture, this.blurTargets[1], [0, step / h], 0],
    ];
    for (const [source, target, dir, lod] of passes) {
      gl.bindTexture(gl.TEXTURE_2D, source);
      gl.bindFramebuffer(gl.FRAMEBUFFER, target.fbo);
      gl.uniform2f(u.uStep, dir[0], dir[1]);
      gl.uniform1f(u.uLod, lod);
      gl.drawArrays(gl.TRIANGLES, 0, 3);
    }
    gl.bindTexture(gl.TEXTURE_2D, this.frame);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.LINEAR);
  }

  private target(width: number, height: number): Target {
    const gl = this.gl;
    const texture = this.texture(gl.LINEAR);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, width, height, 0, gl.RGBA, gl.UNSIGNED_BYTE, null);
    const fbo = gl.createFramebuffer();
    gl.bindFramebuffer(gl.FRAMEBUFFER, fbo);
    gl.framebufferTexture2D(gl.FRAMEBUFFER, gl.COLOR_ATTACHMENT0, gl.TEXTURE_2D, texture, 0);
    gl.bindFramebuffer(gl.FRAMEBUFFER, null);
    return { texture, fbo, width, height };
  }

  private texture(filter: number): WebGLTexture {
    const gl = this.gl;
    const texture = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, texture);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, filter);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
    return texture;
  }

  private upload(
    texture: WebGLTexture,
    internal: number,
    format: number,
    width: number,
    height: number,
    data: ArrayBufferView,
    sameSize = false,
  ): void {
    const gl = this.gl;
    gl.bindTexture(gl.TEXTURE_2D, texture);
    if (sameSize) gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, width, height, format, gl.UNSIGNED_BYTE, data);
    else gl.texImage2D(gl.TEXTURE_2D, 0, internal, width, height, 0, format, gl.UNSIGNED_BYTE, data);
  }

  private link(fragment: string): Program {
    const gl = this.gl;
    const program = gl.createProgram();
    for (const [type, source] of [
      [gl.VERTEX_SHADER, VERTEX],
      [gl.FRAGMENT_SHADER, fragment],
    ] as const) {
      const shader = gl.createShader(type);
      if (!shader) throw new Error("WebGL2 could not create a shader.");
      gl.shaderSource(shader, source);
      gl.compileShader(shader);
      if (!gl.getShaderParameter(shader, gl.COMPILE_STATUS)) {
        throw new Error(`A WebGL2 shader failed to compile: ${gl.getShaderInfoLog(shader)}`);
      }
      gl.attachShader(program, shader);
    }
    gl.linkProgram(program);
    if (!gl.getProgramParameter(program, gl.LINK_STATUS)) {
      throw new Error(`A WebGL2 program failed to link: ${gl.getProgramInfoLog(program)}`);
    }
    // Looked up lazily: a uniform the compiler optimised away is null, which WebGL ignores.
    const cache = new Map<string, WebGLUniformLocation | null>();
    const u = new Proxy({} as Uniforms, {
      get: (_, name: string) => {
        if (!cache.has(name)) cache.set(name, gl.getUniformLocation(program, name));
        return cache.get(name) ?? null;
      },
    });
    return { program, u };
  }
}
