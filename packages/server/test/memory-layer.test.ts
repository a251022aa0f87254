import { MemoryChannelLayer } from '../src/layer/memory-layer.ts';
import { channelLayerConformance } from '../src/testing/layer-conformance.ts';

channelLayerConformance('memory', async (options) => {
  const layer = new MemoryChannelLayer(options);
  return { a: layer, b: layer };
});
