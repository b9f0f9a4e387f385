import type { Diagnostic } from 'vscode-languageserver-protocol';
import type { LanguageServerConnection } from './language-server-connection.js';

interface TsserverDiagnostic {
  start: { line: number; offset: number };
  end: { line: number; offset: number };
  text: string;
  code?: number;
  category?: string;
}

const SEVERITY: Record<string, 1 | 2 | 3 | 4> = { error: 1, warning: 2, suggestion: 4, message: 3 };

/**
 * Diagnostics of a document straight from typescript-language-server's tsserver
 * (`typescript.tsserverRequest`), because its pushed diagnostics carry no version, and a
 * document whose diagnostics stay empty gets no push at all: there, waiting for "the next
 * push" would wait for nothing or take an older one. tsserver answers requests in order, so
 * these reflect every change sent before them: the document's current version.
 */
export async function tsserverDiagnostics(connection: LanguageServerConnection, uri: string, timeoutMs: number): Promise<Diagnostic[]> {
  const ask = async (command: string) => {
    const response = await connection.request<{ body?: TsserverDiagnostic[] } | null>('workspace/executeCommand', { command: 'typescript.tsserverRequest', arguments: [command, { file: uri }] }, timeoutMs, 'typescript.tsserverRequest');
    return Array.isArray(response?.body) ? response.body : [];
  };
  const [syntactic, semantic] = await Promise.all([ask('syntacticDiagnosticsSync'), ask('semanticDiagnosticsSync')]);
  return [...syntactic, ...semantic].map((item) => ({
    range: { start: { line: item.start.line - 1, character: item.start.offset - 1 }, end: { line: item.end.line - 1, character: item.end.offset - 1 } },
    message: item.text,
    severity: SEVERITY[item.category ?? 'error'] ?? 1,
    ...(item.code !== undefined ? { code: item.code } : {}),
    source: 'typescript',
  }));
}
