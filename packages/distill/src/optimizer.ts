// AdamW (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"), exactly as torch.optim.AdamW, the
// optimizer of the HF Trainer the paper's recipes use (Table 7: weight decay 0.03 BERT-base, 0.05 BERT-large,
// 0 GPT2). tfjs has no AdamW and its Adam keeps moments we cannot checkpoint by parameter, so it lives here:
//
//   p ← p · (1 − lr · wd)                       (decoupled decay, skipped for biases and LayerNorm)
//   m ← β1 m + (1 − β1) g,   v ← β2 v + (1 − β2) g²
//   p ← p − lr · (m / (1 − β1ᵗ)) / (√(v / (1 − β2ᵗ)) + ε)
//
// Moments are tf.Variables aligned with the parameter list; `state()` / `setState()` move them in and out of
// plain Float32Arrays for training checkpoints, so a resumed run continues bit for bit.

import * as tf from '@tensorflow/tfjs-core';
import { TrainingConfigError } from './errors.js';

/** Options of {@link AdamW}; defaults are torch's. */
export interface AdamWOptions {
  /** Default 0.9. */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8 (torch and HF). */
  readonly epsilon?: number;
  /** Decoupled weight decay (default 0). */
  readonly weightDecay?: number;
  /**
   * Which parameters are decayed. Default {@link decayMatricesOnly}: every parameter of rank ≥ 2 (weight
   * matrices, embeddings) is decayed; rank-1 parameters (every bias and every LayerNorm weight and bias of
   * BERT and GPT2) are not, which is HF's `["bias", "LayerNorm.weight"]` exclusion without relying on names.
   */
  readonly decay?: (variable: tf.Variable, index: number) => boolean;
}

/** Default decay rule: decay matrices and embeddings, not biases or LayerNorm parameters (all rank 1). */
export function decayMatricesOnly(variable: tf.Variable): boolean {
  return variable.rank >= 2;
}

/** The serialisable state of an {@link AdamW}: the update count and both moments of every parameter. */
export interface AdamWState {
  /** Number of updates applied so far (t of the bias correction). */
  readonly step: number;
  /** First moments, aligned with the parameter list. */
  readonly m: Float32Array[];
  /** Second moments, aligned with the parameter list. */
  readonly v: Float32Array[];
  /** Shapes of the parameters, to check a restored state against the model. */
  readonly shapes: number[][];
}

/** AdamW over a fixed list of variables. */
export class AdamW {
  readonly variables: readonly tf.Variable[];
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Whether each variable is decayed. */
  readonly decayed: readonly boolean[];
  private readonly m: tf.Variable[];
  private readonly v: tf.Variable[];
  private t = 0;

  constructor(variables: readonly tf.Variable[], options: AdamWOptions = {}) {
    this.variables = [...variables];
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0;
    for (const [name, value, lo, hi] of [
      ['beta1', this.beta1, 0, 1],
      ['beta2', this.beta2, 0, 1],
    ] as const) {
      if (!(value >= lo && value < hi)) throw new TrainingConfigError(name, `must be in [${lo}, ${hi}), got ${value}`);
    }
    if (!(this.epsilon > 0)) throw new TrainingConfigError('epsilon', `must be > 0, got ${this.epsilon}`);
    if (!(this.weightDecay >= 0) || !Number.isFinite(this.weightDecay))
      throw new TrainingConfigError('weightDecay', `must be a finite number >= 0, got ${this.weightDecay}`);
    const decay = options.decay ?? decayMatricesOnly;
    this.decayed = this.variables.map((v, i) => decay(v, i));
    // tidy frees the zeros the variables were copied from (variables themselves are never tidied).
    this.m = tf.tidy(() => this.variables.map((v) => tf.variable(tf.zerosLike(v), false)));
    this.v = tf.tidy(() => this.variables.map((v) => tf.variable(tf.zerosLike(v), false)));
  }

  /** Number of updates applied so far. */
  get step(): number {
    return this.t;
  }

  /**
   * Applies one update. `gradients[i]` is the gradient of `variables[i]`, or undefined when the parameter
   * got none (it is then left untouched, moments and decay included, as torch does for `grad is None`).
   * Does not dispose the gradients.
   */
  apply(gradients: ReadonlyArray<tf.Tensor | undefined>, lr: number): void {
    if (gradients.length !== this.variables.length) {
      throw new TrainingConfigError('gradients', `must have one entry per variable (${this.variables.length}), got ${gradients.length}`);
    }
    if (!(lr >= 0) || !Number.isFinite(lr)) throw new TrainingConfigError('lr', `must be a finite number >= 0, got ${lr}`);
    this.t += 1;
    const { beta1, beta2, epsilon } = this;
    // Bias corrections in double precision on the JS side; only the products enter the graph.
    const correction1 = 1 - beta1 ** this.t;
    const correction2 = 1 - beta2 ** this.t;
    tf.tidy(() => {
      const b1 = tf.scalar(beta1);
      const oneMinusB1 = tf.scalar(1 - beta1);
      const b2 = tf.scalar(beta2);
      const oneMinusB2 = tf.scalar(1 - beta2);
      const stepSize = tf.scalar(lr / correction1);
      const sqrtCorrection2 = tf.scalar(Math.sqrt(correction2));
      const eps = tf.scalar(epsilon);
      const decayFactor = tf.scalar(1 - lr * this.weightDecay);
      for (let i = 0; i < this.variables.length; i++) {
        const g = gradients[i];
        if (g === undefined) continue;
        const p = this.variables[i]!;
        if (g.shape.length !== p.shape.length || g.shape.some((s, k) => s !== p.shape[k])) {
          throw new TrainingConfigError('gradients', `entry ${i} has shape [${g.shape.join(', ')}], its variable [${p.shape.join(', ')}]`);
        }
        const m = this.m[i]!;
        const v = this.v[i]!;
        const mNext = m.mul(b1).add(g.mul(oneMinusB1));
        const vNext = v.mul(b2).add(g.square().mul(oneMinusB2));
        m.assign(mNext);
        v.assign(vNext);
        const denominator = vNext.sqrt().div(sqrtCorrection2).add(eps);
        const decayedP = this.decayed[i] && this.weightDecay > 0 ? p.mul(decayFactor) : p;
        p.assign(decayedP.sub(mNext.div(denominator).mul(stepSize)));
      }
    });
  }

  /** A copy of the optimizer state (downloads the moments). */
  async state(): Promise<AdamWState> {
    const m = await Promise.all(this.m.map(async (t) => (await t.data()) as Float32Array));
    const v = await Promise.all(this.v.map(async (t) => (await t.data()) as Float32Array));
    return {
      step: this.t,
      m: m.map((a) => Float32Array.from(a)),
      v: v.map((a) => Float32Array.from(a)),
      shapes: this.variables.map((p) => [...p.shape]),
    };
  }

  /** Restores a state from {@link state}; throws if it does not match the parameters. */
  setState(state: AdamWState, source = 'optimizer state'): void {
    const n = this.variables.length;
    if (state.m.length !== n || state.v.length !== n) {
      throw new TrainingConfigError(source, `holds moments for ${state.m.length} parameters, the model has ${n}`);
    }
    if (!Number.isInteger(state.step) || state.step < 0)
      throw new TrainingConfigError(source, `step must be an integer >= 0, got ${state.step}`);
    for (let i = 0; i < n; i++) {
      const p = this.variables[i]!;
      const shape = state.shapes[i];
      if (!shape || shape.length !== p.shape.length || shape.some((s, k) => s !== p.shape[k])) {
        throw new TrainingConfigError(
          source,
          `parameter ${i} has shape [${shape?.join(', ')}] in the state, [${p.shape.join(', ')}] in the model`,
        );
      }
      if (state.m[i]!.length !== p.size || state.v[i]!.length !== p.size) {
        throw new TrainingConfigError(
          source,
          `moments of parameter ${i} have ${state.m[i]!.length}/${state.v[i]!.length} values, expected ${p.size}`,
        );
      }
    }
    for (let i = 0; i < n; i++) {
      const p = this.variables[i]!;
      tf.tidy(() => {
        this.m[i]!.assign(tf.tensor(state.m[i]!, p.shape, 'float32'));
        this.v[i]!.assign(tf.tensor(state.v[i]!, p.shape, 'float32'));
      });
    }
    this.t = state.step;
  }

  /** Frees the moments (not the parameters). */
  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}

/**
 * Clips gradients by their global L2 norm (torch's `clip_grad_norm_`): when ‖g‖ = √(Σ_i ‖g_i‖²) exceeds
 * `maxNorm`, every gradient is scaled by maxNorm / (‖g‖ + 1e-6). Returns new tensors (undefined entries stay
 * undefined) and the norm before clipping.
 */
export function clipByGlobalNorm(
  gradients: ReadonlyArray<tf.Tensor | undefined>,
  maxNorm: number,
): { gradients: Array<tf.Tensor | undefined>; norm: tf.Scalar } {
  if (!(maxNorm > 0)) throw new TrainingConfigError('maxGradNorm', `must be > 0, got ${maxNorm}`);
  return tf.tidy(() => {
    const present = gradients.filter((g): g is tf.Tensor => g !== undefined);
    const norm = (present.length > 0 ? tf.addN(present.map((g) => g.square().sum())).sqrt() : tf.scalar(0)) as tf.Scalar;
    // min(1, maxNorm / (norm + 1e-6)) computed in the graph: no download, so a step never waits on the GPU/wasm.
    const scale = tf.minimum(tf.scalar(1), tf.scalar(maxNorm).div(norm.add(1e-6)));
    const clipped = gradients.map((g) => (g === undefined ? undefined : g.mul(scale)));
    return { gradients: clipped, norm };
  }) as { gradients: Array<tf.Tensor | undefined>; norm: tf.Scalar };
}
