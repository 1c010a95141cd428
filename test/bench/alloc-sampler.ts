/**
 * Preloaded (`node -r`) into a process whose allocations alloc-profile.ts measures. The first
 * SIGUSR2 starts V8's sampling heap profiler with the objects the young and old collections free
 * counted too (by default it keeps only what is still alive: of a request's garbage, nothing);
 * the second stops it and writes the profile to `<tmpdir>/alloc-<pid>.heapprofile`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const session = new Session();
session.connect();
let sampling = false;

process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.startSampling', { samplingInterval: 2048, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (err, result) => {
    if (err === null) writeFileSync(join(tmpdir(), `alloc-${process.pid}.heapprofile`), JSON.stringify(result.profile));
  });
});
