/**
 * The bundle manifest's types, generated from docs/manifest.schema.json
 * (itself derived from liveseg.runtime.manifest): do not edit; rewrite with `python tests/test_contracts.py`.
 */

export interface ClassInfo {
  id: number;
  name: string;
  color: [number, number, number];
}

export type Format = "liveseg-bundle/1";

export type Graph = "labels" | "logits";

export interface InputSpec {
  name: string;
  dtype?: string;
  layout?: string;
  channels?: number[];
}

/** A bundle's `manifest.json`, validated. `variants` lists labels and logits variants alike. */
export interface Manifest {
  name: string;
  classes: ClassInfo[];
  normalization: Normalization;
  input: InputSpec;
  outputs: Outputs;
  variants: VariantEntry[];
  default_variant: VariantKey;
  version?: string;
  task?: string;
  model?: ModelInfo;
  dataset?: string;
  ignore_index?: number;
  training?: TrainingInfo;
  source?: SourceInfo;
  created?: string;
  liveseg_version?: string;
  format: Format;
}

/** Every writer gives all four; readers accept any (an empty one is not written). */
export interface ModelInfo {
  name?: string;
  kwargs?: Record<string, unknown>;
  params?: number;
  gflops?: number;
}

/** On 0..1 RGB. */
export interface Normalization {
  mean: [number, number, number];
  std: [number, number, number];
}

export interface Outputs {
  labels: TensorSpec;
  confidence: TensorSpec;
  logits?: TensorSpec;
}

/** How a variant was judged against its reference (PyTorch, the original file, or the fp32 labels graph). */
export interface Parity {
  images: number;
  inputs: string;
  pixel_agreement: number;
  reference?: string;
  miou?: number;
  reference_miou?: number;
  miou_drop?: number;
  miou_on?: string;
}

export type Precision = "fp32" | "fp16" | "int8";

/** Where a pulled, imported or bundled model came from. */
export interface SourceInfo {
  pulled?: string;
  imported?: string;
  origin?: string;
  license?: string;
  license_url?: string;
  citation?: string;
  accuracy?: string;
  sha256?: string | null;
  notes?: string;
  description?: string;
  converted?: string;
  format?: string;
  layout?: string;
}

export interface TensorSpec {
  name: string;
  dtype?: string;
}

/** Of a checkpoint liveseg trained. */
export interface TrainingInfo {
  epoch: number;
  best_miou: number;
}

/** One ONNX file of a bundle, as the manifest lists it: a graph and precision at a fixed input size. */
export interface VariantEntry {
  precision: Precision;
  height: number;
  width: number;
  file: string;
  bytes: number;
  sha256: string;
  graph?: Graph;
  gflops?: number;
  val_miou?: number;
  parity?: Parity;
}

/** A labels variant, as `default_variant` names it. */
export interface VariantKey {
  precision: Precision;
  height: number;
  width: number;
}
