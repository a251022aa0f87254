import {
  assertValidName,
  type ChannelLayer,
  DEFAULT_LAYER_OPTIONS,
  type LayerMessage,
  type LayerOptions,
  type LayerStats,
  type Receiver,
} from './channel-layer.ts';
import { LocalChannels } from './local-channels.ts';

/** The single-process layer: the default, and the reference the Redis layer is tested against. */
export class MemoryChannelLayer implements ChannelLayer {
  private readonly local: LocalChannels;

  constructor(options: Partial<LayerOptions> = {}, onError: (error: unknown) => void = () => {}) {
    this.local = new LocalChannels(
      LocalChannels.randomPrefix(),
      { ...DEFAULT_LAYER_OPTIONS, ...options },
      onError,
    );
  }

  addChannel(receiver: Receiver): string {
    return this.local.add(receiver);
  }

  removeChannel(channel: string): void {
    this.local.remove(channel);
  }

  async send(channel: string, message: LayerMessage): Promise<void> {
    assertValidName('channel', channel);
    if (!this.local.deliver(channel, message)) this.local.stats.undeliverable++;
  }

  async groupAdd(group: string, channel: string): Promise<void> {
    assertValidName('channel', channel);
    this.local.join(group, channel);
  }

  async groupDiscard(group: string, channel: string): Promise<void> {
    this.local.discard(group, channel);
  }

  async groupSend(group: string, message: LayerMessage): Promise<void> {
    assertValidName('group', group);
    this.local.fanOut(group, message);
  }

  stats(): LayerStats {
    return { ...this.local.stats };
  }

  async close(): Promise<void> {
    this.local.clear();
  }
}
