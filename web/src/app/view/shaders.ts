/** GLSL ES 3.00 programs of the WebGL view: a full-screen triangle, a Gaussian blur pass and the compositor. */

import { glslDefines } from "./options";

export const VERTEX = `#version 300 es
uniform bool uToTexture;
out vec2 vUv;
void main() {
  vec2 p = vec2(float((gl_VertexID & 1) << 2) - 1.0, float((gl_VertexID & 2) << 1) - 1.0);
  // Images are uploaded top row first, so v = 0 is the top of the canvas; render targets keep that orientation.
  vUv = vec2(p.x + 1.0, uToTexture ? p.y + 1.0 : 1.0 - p.y) * 0.5;
  gl_Position = vec4(p, 0.0, 1.0);
}`;

/** One direction of a separable 9-tap Gaussian; the first pass reads a mipmap level to shrink the frame. */
export const BLUR = `#version 300 es
precision highp float;
in vec2 vUv;
out vec4 outColor;
uniform sampler2D uSource;
uniform vec2 uStep;
uniform float uLod;
const float W[5] = float[](0.2270270, 0.1945946, 0.1216216, 0.0540540, 0.0162162);
void main() {
  vec3 c = textureLod(uSource, vUv, uLod).rgb * W[0];
  for (int i = 1; i < 5; i++) {
    vec2 o = uStep * float(i);
    c += (textureLod(uSource, vUv + o, uLod).rgb + textureLod(uSource, vUv - o, uLod).rgb) * W[i];
  }
  outColor = vec4(c, 1.0);
}`;

/**
 * Colours the uint8 class map through a 256×1 palette and composites it over the frame, after the effect.
 *
 * Smooth edges: the four class ids around each pixel are looked up and their colours and weights mixed
 * bilinearly (linear filtering of per-class masks), and the overlay fades where the model's confidence is low.
 * The effects' mask is then the foreground alpha (web/src/lib/alpha.ts: the probability, not the class map),
 * filtered bilinearly to the displayed resolution; hard edges take the nearest class's foreground flag.
 */
export const COMPOSITE = `#version 300 es
${glslDefines()}
precision highp float;
precision highp int;
precision highp usampler2D;
in vec2 vUv;
out vec4 outColor;
uniform sampler2D uFrame;
uniform sampler2D uBlur;
uniform sampler2D uBackground;
uniform sampler2D uStyled;
uniform sampler2D uConfidence;
uniform usampler2D uLabels;
uniform sampler2D uPalette;    // rgb: class colour; a: overlay weight / 2 (0 hidden, 0.5 normal, 1 highlighted)
uniform sampler2D uForeground; // r: 1 for the classes the effect applies to
uniform sampler2D uAlpha;      // r: the foreground alpha at the model's size
uniform bool uHasLabels;
uniform bool uHasConfidence;
uniform bool uSmooth;
uniform int uMode;             // MODE_* (view/options.ts)
uniform int uEffect;           // EFFECT_*
uniform float uOpacity;
uniform float uStrength;
uniform vec3 uColor;
uniform vec3 uBackdrop;
uniform vec2 uFrameSize;
uniform vec2 uBackgroundScale;

struct Seg { vec3 color; float weight; float fg; };

Seg classAt(ivec2 p) {
  p = clamp(p, ivec2(0), textureSize(uLabels, 0) - 1);
  int id = int(texelFetch(uLabels, p, 0).r);
  vec4 pal = texelFetch(uPalette, ivec2(id, 0), 0);
  return Seg(pal.rgb, pal.a * 2.0, texelFetch(uForeground, ivec2(id, 0), 0).r);
}

Seg segAt(vec2 uv) {
  vec2 size = vec2(textureSize(uLabels, 0));
  if (!uSmooth) return classAt(ivec2(uv * size));
  vec2 p = uv * size - 0.5;
  ivec2 i = ivec2(floor(p));
  vec2 f = fract(p);
  Seg a = classAt(i), b = classAt(i + ivec2(1, 0)), c = classAt(i + ivec2(0, 1)), d = classAt(i + ivec2(1, 1));
  vec4 w = vec4((1.0 - f.x) * (1.0 - f.y), f.x * (1.0 - f.y), (1.0 - f.x) * f.y, f.x * f.y);
  vec4 cw = w * vec4(a.weight, b.weight, c.weight, d.weight);
  float total = cw.x + cw.y + cw.z + cw.w;
  vec3 color = (a.color * cw.x + b.color * cw.y + c.color * cw.z + d.color * cw.w) / max(total, 1e-5);
  return Seg(color, dot(w, vec4(a.weight, b.weight, c.weight, d.weight)), dot(w, vec4(a.fg, b.fg, c.fg, d.fg)));
}

// Rec. 709 weights, as CSS grayscale() uses, so the 2D view recolours alike.
float luma(vec3 c) { return dot(c, vec3(0.2126, 0.7152, 0.0722)); }

vec3 recolour(vec3 c) {
  float y = luma(c);
  return y < 0.5 ? 2.0 * y * uColor : 1.0 - 2.0 * (1.0 - y) * (1.0 - uColor);
}

vec3 stylise(vec2 uv, vec3 c) {
  vec2 px = 1.0 / uFrameSize;
  float tl = luma(texture(uFrame, uv + px * vec2(-1.0, -1.0)).rgb);
  float tr = luma(texture(uFrame, uv + px * vec2(1.0, -1.0)).rgb);
  float bl = luma(texture(uFrame, uv + px * vec2(-1.0, 1.0)).rgb);
  float br = luma(texture(uFrame, uv + px * vec2(1.0, 1.0)).rgb);
  float l = luma(texture(uFrame, uv + px * vec2(-1.0, 0.0)).rgb);
  float r = luma(texture(uFrame, uv + px * vec2(1.0, 0.0)).rgb);
  float t = luma(texture(uFrame, uv + px * vec2(0.0, -1.0)).rgb);
  float b = luma(texture(uFrame, uv + px * vec2(0.0, 1.0)).rgb);
  vec2 g = vec2(tr + 2.0 * r + br - tl - 2.0 * l - bl, bl + 2.0 * b + br - tl - 2.0 * t - tr);
  float edge = smoothstep(0.3, 0.7, length(g));
  vec3 saturated = mix(vec3(luma(c)), c, 1.3);
  vec3 poster = floor(clamp(saturated, 0.0, 1.0) * 5.0 + 0.5) / 5.0;
  return mix(poster, vec3(0.04), edge * 0.85);
}

vec3 effected(vec2 uv, vec3 frame, float fg) {
  if (uEffect == EFFECT_BLUR) return mix(texture(uBlur, uv).rgb, frame, fg);
  if (uEffect == EFFECT_IMAGE) return mix(texture(uBackground, (uv - 0.5) * uBackgroundScale + 0.5).rgb, frame, fg);
  if (uEffect == EFFECT_COLOR) return mix(uColor, frame, fg);
  if (uEffect == EFFECT_RECOLOR) return mix(frame, recolour(frame), fg);
  if (uEffect == EFFECT_STYLIZE) return mix(frame, stylise(uv, frame), fg);
  if (uEffect == EFFECT_MODEL) return mix(frame, texture(uStyled, uv).rgb, fg * uStrength);
  return frame;
}

void main() {
  vec2 uv = vUv;
  bool original = false;
  if (uMode == MODE_SIDE) {
    original = uv.x < 0.5;
    uv.x = fract(uv.x * 2.0);
  }
  vec3 frame = texture(uFrame, uv).rgb;
  if (!uHasLabels || original) {
    outColor = vec4(frame, 1.0);
    return;
  }
  Seg s = segAt(uv);
  if (uMode == MODE_MASK) {
    outColor = vec4(mix(uBackdrop, s.color, clamp(s.weight, 0.0, 1.0)), 1.0);
    return;
  }
  float trust = 1.0;
  if (uHasConfidence && uSmooth) trust = mix(0.25, 1.0, smoothstep(0.35, 0.85, texture(uConfidence, uv).r));
  vec3 base = effected(uv, frame, uSmooth ? texture(uAlpha, uv).r : s.fg);
  outColor = vec4(mix(base, s.color, clamp(uOpacity * s.weight * trust, 0.0, 1.0)), 1.0);
}`;
