/**
 * What each GPU backend would run on in this browser, found before the user switches to one: WebGL on a
 * software renderer (WEBGL_debug_renderer_info) or WebGPU on a fallback adapter loads for half a minute and then
 * runs at a frame every few seconds, and WebGPU without an adapter cannot run at all. The worker's own probe
 * (lib/runtime.ts) ranks them for Auto; this says it to the user at the picker.
 */

import type { Backend } from "../lib";
import { isSoftwareGl } from "./view/view";

export interface BackendWarning {
  /** Short, for the picker's option ("slow here", "not available here"). */
  tag: string;
  /** One sentence: what to expect and what is faster. */
  text: string;
}

interface AdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|software|basic render|warp/i;

function slow(name: string, on: string): BackendWarning {
  return {
    tag: "slow here",
    text: `${name} runs on the CPU here (${on}): loading takes up to half a minute and it then segments about one frame every few seconds; Auto (WASM) is much faster on this device.`,
  };
}

function unavailable(name: string, why: string): BackendWarning {
  return {
    tag: "not available here",
    text: `${name} cannot run here (${why}); Auto picks the fastest backend that works.`,
  };
}

function webglWarning(renderer: string | null): BackendWarning | null {
  if (renderer === null) return unavailable("WebGL", "this browser offers no WebGL2");
  return isSoftwareGl(renderer) ? slow("WebGL", renderer) : null;
}

async function webgpuWarning(): Promise<BackendWarning | null> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<AdapterLike | null> } }).gpu;
  if (!gpu) return unavailable("WebGPU", "this browser has no WebGPU");
  const adapter = await gpu.requestAdapter().catch(() => null);
  if (!adapter) return unavailable("WebGPU", "no usable GPU adapter");
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(" ");
  const fallback = info.isFallbackAdapter || adapter.isFallbackAdapter;
  return fallback || SOFTWARE_ADAPTER.test(name) ? slow("WebGPU", name || "a fallback adapter") : null;
}

/** The warnings for the backends that need one here (`glRenderer`: the WebGL renderer string, or null). */
export async function backendWarnings(glRenderer: string | null): Promise<Partial<Record<Backend, BackendWarning>>> {
  const out: Partial<Record<Backend, BackendWarning>> = {};
  const webgl = webglWarning(glRenderer);
  if (webgl) out.webgl = webgl;
  const webgpu = await webgpuWarning();
  if (webgpu) out.webgpu = webgpu;
  return out;
}
