// Checkpoint IO: safetensors, Hugging Face checkpoint directories, built-in models.
export * from './safetensors.js';
export * from './checkpoint.js';
export * from './builtin.js';
