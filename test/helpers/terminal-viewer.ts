import WebSocket from 'ws';

/** A WebSocket viewer of `/ws/terminals/:id` that collects what it is sent, and how it was closed. */
export function watch(url: string): { socket: WebSocket; received: () => string; closed: Promise<{ code: number; reason: string }> } {
  const socket = new WebSocket(url);
  let text = '';
  socket.on('message', (data) => (text += data.toString()));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return { socket, received: () => text, closed };
}
