// Built-in sample text, written for ziplm (not taken from any dataset). Used when no dataset is
// available: to compare a pruned model's predictions with the dense model's, to run the README's
// main job, and as a smoke input in tests.

/** Short review-like sentences with a clear sentiment (label 1 = positive, 0 = negative). */
export const SAMPLE_SENTENCES: readonly { text: string; label: 0 | 1 }[] = [
  { text: 'a warm , funny and beautifully acted film .', label: 1 },
  { text: 'the plot is thin and the jokes fall flat .', label: 0 },
  { text: 'one of the most moving stories of the year .', label: 1 },
  { text: 'tedious , overlong and oddly lifeless .', label: 0 },
  { text: 'the cast is wonderful and the music soars .', label: 1 },
  { text: 'i could not wait for it to end .', label: 0 },
  { text: 'smart , tender and full of surprises .', label: 1 },
  { text: 'a mess of clichés with nothing to say .', label: 0 },
  { text: 'the director handles every scene with great care .', label: 1 },
  { text: 'even the best actors cannot save this dull script .', label: 0 },
  { text: 'a charming little comedy that deserves an audience .', label: 1 },
  { text: 'loud , confused and far too long .', label: 0 },
  { text: 'it made me laugh and it made me think .', label: 1 },
  { text: 'the characters are flat and the ending is a cheat .', label: 0 },
  { text: 'a rare film that gets better every minute .', label: 1 },
  { text: 'boring from the first scene to the last .', label: 0 },
];

/** A few paragraphs of plain prose, for language models. */
export const SAMPLE_TEXT = [
  'The river ran quietly past the old mill, where the wheel had not turned for many years.',
  'In the spring the village gathered on the bank to watch the boats, and the children ran along the path.',
  'Nobody remembered who had built the bridge, but everyone agreed that it had always been there.',
  'When the storm came in the autumn, the water rose higher than it had ever risen before.',
].join(' ');
