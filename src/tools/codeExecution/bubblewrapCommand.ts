import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** The host uid/gid bwrap runs as (only when this process is root), or undefined to keep ours. */
export type SandboxUser = { uid: number; gid: number } | undefined;

/**
 * The bubblewrap flag set (see README "Python: bubblewrap"). `dir` is the per-call host directory
 * (bound read-only at /sandbox, its `in/` at /work/in); without it, only the bare sandbox (probe).
 */
export function bubblewrapArgs(dir: string | undefined, workBytes: number): string[] {
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--hostname',
    'sandbox',
    '--clearenv',
    '--setenv',
    'PATH',
    '/usr/bin:/bin',
    '--setenv',
    'HOME',
    '/work',
    '--setenv',
    'TMPDIR',
    '/tmp',
    '--setenv',
    'LANG',
    'C.UTF-8',
    '--setenv',
    'PYTHONDONTWRITEBYTECODE',
    '1',
    '--setenv',
    'MPLBACKEND',
    'Agg',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  for (const top of ['/bin', '/sbin', '/lib', '/lib64', '/lib32']) {
    if (!existsSync(top)) continue;
    const st = lstatSync(top);
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(top), top);
    else args.push('--ro-bind', top, top);
  }
  args.push('--proc', '/proc', '--dev', '/dev', '--size', String(4 * 2 ** 20), '--tmpfs', '/dev/shm');
  args.push('--size', String(16 * 2 ** 20), '--tmpfs', '/tmp');
  args.push('--size', String(workBytes), '--tmpfs', '/work');
  if (dir) {
    args.push(
      '--ro-bind',
      dir,
      '/sandbox',
      '--ro-bind',
      path.join(dir, 'in'),
      '/work/in',
      '--dir',
      '/work/out',
    );
  }
  args.push('--remount-ro', '/dev', '--remount-ro', '/', '--chdir', '/work');
  return args;
}

/** How bwrap itself is started: own process group, a bare environment, and the sandbox user. */
export function bubblewrapSpawnOptions(stdio: ('ignore' | 'pipe')[], runAs: SandboxUser) {
  return {
    stdio,
    detached: true, // own process group, so a timeout can kill the whole tree
    env: { PATH: '/usr/bin:/bin' }, // bwrap's own environment is visible as /proc/1/environ inside
    ...(runAs ?? {}),
  };
}
