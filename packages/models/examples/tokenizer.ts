import { builtinModelDir } from '@ziplm/models/io';
import { loadTokenizer } from '@ziplm/models/tokenizers';

const tokenizer = await loadTokenizer(builtinModelDir('tiny-bert'), 'bert');
const { ids, offsets } = tokenizer.encode('a gripping , funny film');
console.log(ids, offsets); // [CLS] ... [SEP] ids, and each token's [start, end) in the text
