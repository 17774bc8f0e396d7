// Loads worker.ts in a worker thread when the orchestrator runs from source (tests, tsx): registers tsx first.
// From dist/ the pool loads worker.js directly and this file is not used. It avoids execArgv, which would
// switch off the Node permission model for the worker.
import { register } from 'tsx/esm/api';

register();
const { default: runModuleTask } = await import('./worker.ts');
export default runModuleTask;
