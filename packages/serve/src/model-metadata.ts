// The Open Inference Protocol's model metadata for a group: its versions, the input tensors an infer request
// sends and the output tensors it answers with (shapes with -1 for sizes the request chooses), and in
// `parameters` what a client needs to fill them: the version described, its model count and family keys, and
// the fewest values per row its models accept.
import type { ModelStore } from '@loom/models';
import { INPUT_NAMES, INPUTS, OUTPUT_NAMES, OUTPUTS } from './infer-tensors.js';
import type { LoadedGroup } from './loaded-group.js';

export const PLATFORM = 'loom_models';

export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
  parameters: { version: string; models: number; families: Record<string, number>; min_values: number };
}

export async function modelMetadata(store: ModelStore, loaded: LoadedGroup): Promise<ModelMetadata> {
  const versions = (await store.versions(loaded.name)).map((info) => String(info.version));
  return {
    name: loaded.name,
    versions,
    platform: PLATFORM,
    inputs: INPUT_NAMES.map((name) => ({ name, datatype: INPUTS[name].datatypes[0], shape: [...INPUTS[name].shape] })),
    outputs: OUTPUT_NAMES.map((name) => ({ name, datatype: OUTPUTS[name], shape: [-1] })),
    parameters: { version: String(loaded.version), models: loaded.size, families: { ...loaded.models.manifest.families }, min_values: loaded.minValues },
  };
}
