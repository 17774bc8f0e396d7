// A stand-in module worker that cannot start (as a damaged install's worker would fail on load): bundled into the
// sandbox process in place of src/sandbox/worker/worker.ts, it throws before any task reaches it.
throw new Error('this worker cannot start (test stand-in for a damaged install)');
