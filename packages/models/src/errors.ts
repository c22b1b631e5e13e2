// Typed errors. Every error that comes from a user's file names the file and the problem, so a
// malformed checkpoint never surfaces as a crash deep inside tfjs or onnxruntime.

/** Base class of every error @ziplm/models throws on purpose. */
export class ZiplmModelError extends Error {
  override name = 'ZiplmModelError';
}

/** A config (config.json or an in-memory config) has a missing or invalid field. */
export class ConfigError extends ZiplmModelError {
  override name = 'ConfigError';
  constructor(
    /** Dotted path of the offending field, e.g. `layer_heads[3]`. */
    readonly field: string,
    readonly problem: string,
    /** The file the config came from, when it came from one. */
    readonly file?: string,
  ) {
    super(`${file ? `${file}: ` : ''}config field "${field}" ${problem}`);
  }
}

/** A weights file (safetensors) is malformed or does not match the config. */
export class WeightsError extends ZiplmModelError {
  override name = 'WeightsError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A vocabulary or tokenizer file is missing or malformed. */
export class VocabularyError extends ZiplmModelError {
  override name = 'VocabularyError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

/** A dataset file is missing, empty or malformed. */
export class DataError extends ZiplmModelError {
  override name = 'DataError';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
  }
}
