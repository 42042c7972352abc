import type { Block, ReportDoc } from './doc.js';

// report.md: GitHub-flavoured markdown; charts are the SVG files written next to it.

/** Table cells are plain text: pipes are escaped, newlines flattened. */
const cell = (s: string) => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

function block(b: Block): string {
  switch (b.kind) {
    case 'heading':
      return `${'#'.repeat(b.level)} ${b.text}`;
    case 'para':
      return b.text;
    case 'list':
      return b.items.map((i) => `- ${i}`).join('\n');
    case 'table': {
      const align = b.header.map((_, i) => (b.numeric?.[i] ? '---:' : '---'));
      return [b.header, align, ...b.rows].map((r) => `| ${r.map(cell).join(' | ')} |`).join('\n');
    }
    case 'chart':
      return `![${b.chart.title}](charts/${b.chart.name}.svg)`;
  }
}

export function renderMarkdown(doc: ReportDoc): string {
  return `${doc.blocks.map(block).join('\n\n')}\n`;
}
