// Typed errors. Every error that comes from a user's file names the file and the problem, so a
// malformed checkpoint never surfaces as a crash deep inside tfjs or onnxruntime. Each class has its
// own stable `code` (Node style): callers branch on `error.code`, never on the class name or message.

/** The `code` of every error @ziplm/models throws on purpose, one per class. */
export type ModelsErrorCode =
  | 'ERR_ZIPLM_MODELS'
  | 'ERR_ZIPLM_CONFIG'
  | 'ERR_ZIPLM_WEIGHTS'
  | 'ERR_ZIPLM_VOCABULARY'
  | 'ERR_ZIPLM_DATA'
  | 'ERR_ZIPLM_TOKENIZATION'
  | 'ERR_ZIPLM_ONNX_EXPORT';

/** Base class of every error @ziplm/models throws on purpose (thrown as is for misuse of the API). */
export class ModelsError extends Error {
  override name = 'ModelsError';
  readonly code: ModelsErrorCode = 'ERR_ZIPLM_MODELS';
}

/** @deprecated Renamed to {@link ModelsError} (every package's base error is `<Package>Error`). */
export const ZiplmModelError = ModelsError;
/** @deprecated Renamed to {@link ModelsError}. */
export type ZiplmModelError = ModelsError;

/** A config (config.json or an in-memory config) has a missing or invalid field. */
export class ConfigError extends ModelsError {
  override name = 'ConfigError';
  override readonly code = 'ERR_ZIPLM_CONFIG';
  constructor(
    /** Dotted path of the offending field, e.g. `layer_heads[3]`. */
    readonly field: string,
    readonly problem: string,
    /** The file the config came from, when it came from one. */
    readonly file?: string,
    options?: ErrorOptions,
  ) {
    super(`${file ? `${file}: ` : ''}config field "${field}" ${problem}`, options);
  }
}

/** A weights file (safetensors) is malformed or does not match the config. */
export class WeightsError extends ModelsError {
  override name = 'WeightsError';
  override readonly code = 'ERR_ZIPLM_WEIGHTS';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/** A vocabulary or tokenizer file is missing or malformed. */
export class VocabularyError extends ModelsError {
  override name = 'VocabularyError';
  override readonly code = 'ERR_ZIPLM_VOCABULARY';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}

/** A dataset file is missing, empty or malformed. */
export class DataError extends ModelsError {
  override name = 'DataError';
  override readonly code = 'ERR_ZIPLM_DATA';
  constructor(
    readonly file: string,
    readonly problem: string,
    options?: ErrorOptions,
  ) {
    super(`${file}: ${problem}`, options);
  }
}
