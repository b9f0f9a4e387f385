import type { ContentTypeEncoder, Message } from 'vscode-jsonrpc';
import { RawJson } from '../../code/raw-responses.js';

/**
 * A message to an editor as JSON text. A result the facade kept as text (a large answer of a
 * server, its URIs translated and its JSON checked) is written as it is, never parsed and
 * serialized again; the message around it carries the editor's own id.
 */
export function messageText(message: Message): string {
  const { id, result } = message as { id?: unknown; result?: unknown };
  if (result instanceof RawJson) return `{"jsonrpc":"2.0","id":${JSON.stringify(id ?? null)},"result":${result.json}}`;
  return JSON.stringify(message);
}

/** The encoder for a stream writer (`codebuddy lsp` on stdio) that writes messages so. */
export const messageEncoder: ContentTypeEncoder = {
  name: 'application/json',
  encode: (message, options) => {
    try {
      return Promise.resolve(Buffer.from(messageText(message), options.charset));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  },
};
