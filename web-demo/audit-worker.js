// Audits a file off the main thread: reads it in pieces, feeds them to the core's chunked
// Auditor, reports progress, and posts the report. The page stays responsive meanwhile.
import init, { Auditor } from '../pkg/tools/web/index.js';

const ready = init();
// Progress messages at most this often; each costs a structured clone and a repaint.
const PROGRESS_EVERY_MS = 100;

self.addEventListener('message', async ({ data: { file } }) => {
  try {
    await ready;
    const auditor = new Auditor();
    const decoder = new TextDecoder('utf-8');
    const reader = file.stream().getReader();
    let bytes = 0;
    let last = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      auditor.push(decoder.decode(value, { stream: true }));
      const now = performance.now();
      if (now - last >= PROGRESS_EVERY_MS) {
        last = now;
        self.postMessage({ progress: { bytes, total: file.size, users: auditor.usersSeen } });
      }
    }
    auditor.push(decoder.decode());
    self.postMessage({ progress: { bytes, total: file.size, users: auditor.usersSeen } });
    self.postMessage({ report: auditor.finish() });
  } catch (error) {
    self.postMessage({ error: { code: error?.code ?? null, message: String(error?.message ?? error) } });
  }
});
