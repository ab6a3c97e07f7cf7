// Dynamic loss scaling as torch.cuda.amp.GradScaler does it: start at 2^16; a step whose
// gradients are not all finite is skipped and halves the scale; after `growthInterval` clean
// steps in a row the scale doubles. The step graph does the scaling and the skip (TrainStep
// lossScale / finite); this is the policy, kept in TypeScript so checkpoints carry it.

export interface LossScalingOptions {
  /** torch: init_scale 2^16. */
  initScale?: number;
  /** Clean steps before the scale grows (torch: growth_interval 2000). */
  growthInterval?: number;
  /** torch: growth_factor 2, backoff_factor 0.5. */
  growthFactor?: number;
  backoffFactor?: number;
}

export interface LossScalerState {
  scale: number;
  /** Clean steps since the last growth or overflow (torch's _growth_tracker). */
  cleanSteps: number;
  /** Steps skipped so far because of overflow. */
  skipped: number;
}

export class DynamicLossScaler {
  private readonly growthInterval: number;
  private readonly growthFactor: number;
  private readonly backoffFactor: number;
  scale: number;
  cleanSteps = 0;
  skipped = 0;

  constructor(options: LossScalingOptions = {}) {
    this.scale = options.initScale ?? 2 ** 16;
    this.growthInterval = options.growthInterval ?? 2000;
    this.growthFactor = options.growthFactor ?? 2;
    this.backoffFactor = options.backoffFactor ?? 0.5;
    if (!(this.scale > 0 && Number.isFinite(this.scale))) throw new RangeError(`loss scaling: initScale must be a positive finite number, got ${this.scale}`);
    if (!(Number.isInteger(this.growthInterval) && this.growthInterval >= 1)) throw new RangeError(`loss scaling: growthInterval must be a positive integer, got ${this.growthInterval}`);
  }

  /** After a step: `finite` is the graph's "all gradients finite" flag. */
  update(finite: boolean): void {
    if (!finite) {
      this.scale *= this.backoffFactor;
      this.cleanSteps = 0;
      this.skipped += 1;
      return;
    }
    this.cleanSteps += 1;
    if (this.cleanSteps === this.growthInterval) {
      this.scale *= this.growthFactor;
      this.cleanSteps = 0;
    }
  }

  state(): LossScalerState {
    return { scale: this.scale, cleanSteps: this.cleanSteps, skipped: this.skipped };
  }

  restore(state: LossScalerState): void {
    this.scale = state.scale;
    this.cleanSteps = state.cleanSteps;
    this.skipped = state.skipped;
  }
}
