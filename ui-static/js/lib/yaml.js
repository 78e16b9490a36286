// yaml.js: YAML parsing (MLmodel files, YAML artifacts) with the pinned
// js-yaml served by mlflowd from /static-files/vendor/.
import { load } from '../../static-files/vendor/js-yaml.esm.min.mjs';

// The parsed document, or throws an Error with the parser's message.
export function parseYaml(text) {
  return load(String(text ?? ''));
}
