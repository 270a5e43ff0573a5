/**
 * The effects' foreground alpha: how much of each pixel belongs to the classes an effect keeps (the person, for
 * "Blur background"). Defined once for the browser and for Python (`liveseg.runtime.result.foreground_alpha`);
 * tests/vectors/alpha.json holds both to the same bytes.
 *
 * A bundle gives per pixel the top class and round(255 × its probability). Where the top class is in the
 * foreground the alpha is that confidence, elsewhere 255 − confidence. For a two-class model (background,
 * person) this is exactly 255 × p(person), a probability that varies smoothly across the boundary, which the
 * views then upsample bilinearly to the displayed resolution instead of upsampling the class map. For more
 * classes it reads the top class's probability as the foreground's (an approximation: the rest is not all
 * background). Without a confidence output the alpha is 255 or 0.
 */

/** Per class id 0..255: 1 when it is in the foreground. */
function foregroundFlags(foreground: Iterable<number>): Uint8Array {
  const flags = new Uint8Array(256);
  for (const id of foreground) if (id >= 0 && id < 256) flags[id] = 1;
  return flags;
}

/**
 * The alpha (0..255) of each pixel for the classes `foreground`, written into `out` (allocated when absent or
 * of another length) and returned. `labels` and `confidence` are row-major and of one length.
 */
export function foregroundAlpha(
  labels: Uint8Array,
  confidence: Uint8Array | null | undefined,
  foreground: Iterable<number>,
  out?: Uint8Array,
): Uint8Array {
  const alpha = out && out.length === labels.length ? out : new Uint8Array(labels.length);
  const flags = foregroundFlags(foreground);
  if (!confidence) {
    for (let i = 0; i < labels.length; i++) alpha[i] = flags[labels[i]] * 255;
    return alpha;
  }
  if (confidence.length !== labels.length) {
    throw new Error(`confidence has ${confidence.length} values for ${labels.length} labels; pass one per pixel.`);
  }
  for (let i = 0; i < labels.length; i++) alpha[i] = flags[labels[i]] ? confidence[i] : 255 - confidence[i];
  return alpha;
}
