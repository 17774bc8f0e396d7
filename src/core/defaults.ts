/**
 * Every default, limit and timeout of the orchestrator, named, in one place.
 */
import os from 'node:os';

export const DEFAULTS = Object.freeze({
  /** Install root (the seed's path). */
  modulesPath: '/var/local/lib/updates',
  /** The seed's source of truth: an example only, never used unless configured (see `repo_url`). */
  exampleRepoUrl: 'https://github.com/homeserverltd/updates.git',
  /** The settings file admins edit; mapped under --root. The install root's config.json is read too. */
  configFile: '/etc/updates-orchestrator/config.json',
  branch: 'main',
  /** Modules run in ascending priority; this is the default. */
  modulePriority: 100,
  /** Deadline of one module's main(). */
  moduleTimeoutSeconds: 300,
  /**
   * How long a module task may wait for its worker to start (thread start, SES lockdown) before it fails; the
   * module's own deadline counts only from then, so a busy machine's slow start is not charged to the module.
   */
  workerStartTimeoutMs: 120_000,
  /** How long a new sandbox process may take to say it is ready. */
  sandboxStartTimeoutMs: 60_000,
  /** Largest deadline a module may be given: Node's timers hold at most 2^31 - 1 ms. */
  maxModuleTimeoutSeconds: Math.floor((2 ** 31 - 1) / 1000),
  /** Most sandbox workers `pool_size` may ask for. */
  maxPoolSize: 64,
  /** V8 heap limit of the worker that runs a module. */
  moduleMaxMemoryMb: 256,
  /** Workers in the sandbox pool. */
  poolSize: Math.max(1, Math.min(4, os.availableParallelism())),
  /** How many backups per module and label `state.backup` keeps. */
  backupsKept: 3,
  /** Largest single backup, bytes of file content (sparse files count at their full size). */
  backupMaxBytes: 128 * 1024 * 1024,
  /** Largest total of one module's kept backups, bytes. */
  backupTotalBytes: 512 * 1024 * 1024,
  /** Run reports kept in state/runs. */
  reportsKept: 50,
  /** Deadline of one `git` operation. */
  gitTimeoutMs: 120_000,
  /** Deadline of one network operation of git (fetch, ls-remote); `fetch_timeout` in config.json. */
  fetchTimeoutMs: 120_000,
  /** Largest `fetch_timeout` accepted, seconds. */
  maxFetchTimeoutSeconds: 86_400,
  /** Deadline of a declared command run through the SDK, when the module gives none. */
  execTimeoutMs: 60_000,
  /** How long a command's output pipes may stay open after it exited (a daemon that kept them is killed then). */
  execDrainMs: 250,
  /** Deadline of one systemctl call made for a module's service request. */
  systemctlTimeoutMs: 90_000,
  /** Deadline of one `git verify-commit` / signature check. */
  signatureCheckTimeoutMs: 30_000,
  /** How long a run's outcome waits for its in-flight SDK requests to be handled. */
  brokerDrainTimeoutMs: 10_000,
  /** How long past a job's deadline main waits for the sandbox process to stop it before killing the process. */
  sandboxGraceMs: 5_000,
  /** Idle sandbox workers stay this long, so one run's modules share warm workers and nothing lingers after. */
  workerIdleTimeoutMs: 30_000,
  /** How long an interrupted run waits for its sandbox and modules' commands to stop before it saves its report. */
  interruptStopMs: 10_000,
  /** How long a run waits for the lock holder to say who it is. */
  lockQueryTimeoutMs: 2_000,
  /** Deadline of a self-update's build steps (copy, npm ci, tsc, bundles). */
  selfUpdateBuildTimeoutMs: 600_000,
  /** Output kept of each step a release's own code runs (build, self-test), per stream, characters. */
  releaseStepOutputBytes: 1024 * 1024,
  /** Deadline of a new release's self-test. */
  selfTestTimeoutMs: 120_000,
  /** Deadline of the self-test module's run in the sandbox. */
  selfTestModuleTimeoutMs: 60_000,
  /** Deepest nesting of one SDK request. */
  requestMaxDepth: 64,
  /** Most objects, arrays and values in one SDK request. */
  requestMaxNodes: 100_000,
  /** SDK requests one module may have in flight at once. */
  brokerMaxInFlight: 16,
  /** SDK requests one module may make in one run. */
  brokerMaxRequests: 10_000,
  /** Largest file a module may read or write through the SDK, bytes. */
  brokerMaxFileBytes: 4 * 1024 * 1024,
  /** Largest raw SDK request, bytes: above it a request is refused before it is cloned or validated. */
  brokerMaxRequestBytes: 8 * 1024 * 1024,
  /** Captured output of a command, per stream, bytes. */
  execMaxOutputBytes: 1024 * 1024,
  /** Largest store (all keys of one module), bytes of JSON. */
  storeMaxBytes: 1024 * 1024,
  /** Largest file a module folder in the repository may hold, bytes. */
  maxModuleFileBytes: 32 * 1024 * 1024,
  /** Largest module folder in the repository, bytes. */
  maxModuleBytes: 128 * 1024 * 1024,
  /** Deepest folder nesting a module or a release may hold in the repository. */
  maxTreeDepth: 64,
  /** Most files a module or a release may hold in the repository. */
  maxTreeFiles: 20_000,
  /** How much one fetch may grow the private clone, bytes. */
  maxFetchBytes: 512 * 1024 * 1024,
  /** The sandbox process's user; `nobody` when it does not exist. */
  sandboxUser: 'updates-sandbox',
  /** Floor of the sandbox process's memory cap (cgroup + RLIMIT_DATA), MB. */
  sandboxMemoryFloorMb: 1024,
  /** Files a bulk file operation (fsync of a staged tree) keeps open at once. */
  openFilesAtOnce: 32,
  /**
   * Module versions Phase 1 stages together, as one batch (files, one esbuild call, fsync of every written file
   * and folder side by side), while the batch staged before is made live one module at a time, in plan order.
   */
  stagingBatch: 25,
  /**
   * Modules that run one at a time handed to the sandbox ahead of their turn, each to follow the one before, so
   * the sandbox has the next at hand while the orchestrator handles the outcomes before. With 4, main fell behind
   * often enough that one module in five at N=1000 found nothing to follow it, and each such break cost its
   * worker a round trip through main (about 1.8 ms); with 16, about one in fifty.
   */
  chainAhead: 16,
  /** Deadline of the notify command; it is killed (with its process group) after it. */
  notifyTimeoutMs: 60_000,
  /** Output of the notify command kept for the log, per stream, bytes. */
  notifyMaxOutputBytes: 4096,
  /** Runs `updates history` lists when -n is not given. */
  historyShown: 20,
  /** Deadline of `updates doctor`'s probe of the repository (git ls-remote). */
  doctorRemoteTimeoutMs: 20_000,
  /** Free space under the install root below which `updates doctor` warns, MB. */
  doctorMinFreeMb: 1024,
  /** Poll interval of `--wait` on the run lock. */
  lockPollMs: 250,
});
