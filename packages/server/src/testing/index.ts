export { channelLayerConformance, type LayerPair, type LayerPairFactory } from './layer-conformance.ts';
export { type ServedApp, serve } from './serve.ts';
export { type Closed, type Frame, TestClient, type TestClientOptions } from './test-client.ts';
