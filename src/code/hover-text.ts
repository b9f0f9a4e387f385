import type { Hover, MarkedString, MarkupContent } from 'vscode-languageserver-protocol';

const MAX_HOVER_CHARS = 4000;

function one(content: MarkedString | MarkupContent): string {
  if (typeof content === 'string') return stripMarkdown(content);
  if ('language' in content) return content.value;
  return content.kind === 'markdown' ? stripMarkdown(content.value) : content.value;
}

/** Markdown as an agent reads it best: code fences dropped (their code kept), escapes undone, links as their text. */
function stripMarkdown(markdown: string): string {
  return markdown
    .split('\n')
    .filter((line) => !/^\s*```/.test(line))
    .join('\n')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\\([\\`*_{}[\]()#+\-.!|<>])/g, '$1')
    .replace(/&nbsp;/g, ' ');
}

/** A hover's contents as plain text, bounded; '' when the server had nothing to say. */
export function hoverText(hover: Hover | null | undefined): string {
  if (!hover?.contents) return '';
  const parts = Array.isArray(hover.contents) ? hover.contents.map(one) : [one(hover.contents)];
  const text = parts
    .map((part) => part.trim())
    .filter(Boolean)
    .join('\n\n')
    .replace(/\n{3,}/g, '\n\n');
  return text.length > MAX_HOVER_CHARS ? `${text.slice(0, MAX_HOVER_CHARS)}…[hover cut at ${MAX_HOVER_CHARS} chars]` : text;
}
