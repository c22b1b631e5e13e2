// @ziplm/distill: ZipLM's recovery fine-tuning (method doc §7): task loss, logit distillation and layer-wise
// token distillation; an AdamW training loop with exact resume; evaluation helpers.
export * from './errors.js';
export * from './losses.js';
export * from './schedule.js';
export * from './rng.js';
export * from './optimizer.js';
export * from './batching.js';
export * from './model.js';
export * from './checkpoint.js';
export * from './trainer.js';
export * from './evaluate.js';
export * from './teachers.js';
export * from './recipes.js';
