// ./render.ts imports ScriptWriter from here; the text buffer itself is ../shared/text-buffer.ts
// (the iptables-restore payload uses it too). New code imports it from there.
export { ScriptWriter, TextBuffer } from '../shared/text-buffer.js';
