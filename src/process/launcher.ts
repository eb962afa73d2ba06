// A long-lived launcher that starts step processes for this exec-doc process. Node's own spawn
// forks the whole Node process (~60 MB of page tables): 1.5 ms of exec-doc's time per process on
// the bench machine, twice what a shell's fork costs. The launcher is a small Perl program (perl
// is part of every Debian and Ubuntu base system); it forks from its ~5 MB and relays each
// child's output back over one pipe. Each step is still a process of its own: its own session and
// process group (as Node's `detached`), environment, working directory, standard input from
// /dev/null, and default signal dispositions; timeouts and tree kills stay with the caller, which
// gets the pid as soon as the process exists.
//
// Used when perl is found and EXEC_DOC_LAUNCHER is not `spawn`; otherwise (or when the launcher
// cannot start) processes are spawned by Node as before, with the same results.
//
// Protocol. Requests (exec-doc → launcher), each `<byte length>\n<payload>`; the payload is
// NUL-separated: id, working directory, file, argument count, the arguments, then the environment
// entries (`NAME=value`), or `go`, id. Nothing in them can hold a NUL. Replies (launcher →
// exec-doc), one line each, `O` followed by the output's bytes:
//   S <id> <pid>                         forked: the process waits for `go` before it runs the
//                                        program (exec-doc records the pid first); without it
//                                        (exec-doc gone) it exits 125 having run nothing
//   E <id> <errno> <chdir|exec|fork|pipe>  could not start: the program did not run
//   O <id> <1|2> <byte length>\n<bytes>    output on stdout (1) or stderr (2)
//   X <id> <exit code|-> <signal number|->  ended: exited and both output pipes closed
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { constants as osConstants } from 'node:os';
import path from 'node:path';

const SCRIPT = String.raw`
use strict; use warnings; use POSIX (); use Fcntl ();
$0 = 'exec-doc launcher';
binmode STDIN; binmode STDOUT;
my (%kids, %byfd, $in); $in = ''; my $open_in = 1;
pipe(my $wake_r, my $wake_w) or die "pipe: $!";
fcntl($wake_w, Fcntl::F_SETFL(), Fcntl::O_NONBLOCK()) or die "fcntl: $!";
$SIG{CHLD} = sub { syswrite($wake_w, 'x'); };
sub out { my $s = shift; my $off = 0;
  while ($off < length $s) { my $n = syswrite(STDOUT, $s, length($s) - $off, $off);
    if (!defined $n) { next if $!{EINTR} || $!{EAGAIN}; POSIX::_exit(0); } $off += $n; } }
sub start { my ($id, $cwd, $file, $args, $env) = @_;
  my ($or, $ow, $er, $ew, $xr, $xw, $gr, $gw);
  unless (pipe($or, $ow) && pipe($er, $ew) && pipe($xr, $xw) && pipe($gr, $gw)) { out("E $id " . (0 + $!) . " pipe\n"); return; }
  my $pid = fork();
  if (!defined $pid) { out("E $id " . (0 + $!) . " fork\n"); close $_ for ($or, $ow, $er, $ew, $xr, $xw, $gr, $gw); return; }
  if ($pid == 0) {
    close $_ for ($or, $er, $xr, $gw);
    POSIX::setsid();
    open(STDIN, '<', '/dev/null');
    POSIX::dup2(fileno($ow), 1); POSIX::dup2(fileno($ew), 2);
    my $e = 0; chdir $cwd or $e = 0 + $!;
    %ENV = ();
    for my $v (@$env) { my $i = index($v, '='); $ENV{substr($v, 0, $i)} = substr($v, $i + 1) if $i > 0; }
    my $go = ''; 1 while !defined sysread($gr, $go, 1) && $!{EINTR};
    POSIX::_exit(125) if $go ne 'g';
    if ($e) { syswrite($xw, "$e chdir"); POSIX::_exit(127); }
    { no warnings 'exec'; exec { $file } $file, @$args; }
    syswrite($xw, (0 + $!) . " exec"); POSIX::_exit(127);
  }
  close $_ for ($ow, $ew, $xw, $gr);
  $kids{$id} = { pid => $pid, open => 3, go => $gw, why => '' };
  $byfd{fileno $or} = [$id, 1, $or]; $byfd{fileno $er} = [$id, 2, $er]; $byfd{fileno $xr} = [$id, 0, $xr];
  out("S $id $pid\n"); }
sub go { my $k = $kids{$_[0]} or return; my $gw = delete $k->{go} or return;
  local $SIG{PIPE} = 'IGNORE'; syswrite($gw, 'g'); close $gw; }
sub requests {
  while ((my $nl = index($in, "\n")) >= 0) {
    my $len = substr($in, 0, $nl); last if length($in) < $nl + 1 + $len;
    my @f = split /\0/, substr($in, $nl + 1, $len), -1; substr($in, 0, $nl + 1 + $len) = '';
    if ($f[0] eq 'go') { go($f[1]); next; }
    my ($id, $cwd, $file, $argc) = splice(@f, 0, 4);
    my @args = splice(@f, 0, $argc);
    start($id, $cwd, $file, \@args, \@f); } }
while (1) {
  last if !$open_in && !%kids;
  my $rin = ''; vec($rin, 0, 1) = 1 if $open_in; vec($rin, $_, 1) = 1 for keys %byfd;
  vec($rin, fileno($wake_r), 1) = 1;
  my $n = select(my $rout = $rin, undef, undef, undef);
  if ($n < 0) { next if $!{EINTR}; die "select: $!"; }
  if (vec($rout, fileno($wake_r), 1)) { sysread($wake_r, my $drop, 512); }
  if ($n > 0 && $open_in && vec($rout, 0, 1)) {
    my $r = sysread(STDIN, $in, 65536, length $in);
    if (!defined $r) { die "read: $!" unless $!{EINTR} || $!{EAGAIN}; }
    elsif ($r == 0) { $open_in = 0; close(delete $_->{go}) for grep { $_->{go} } values %kids; }
    else { requests(); } }
  # In the order the pipes were made: when a step wrote to stdout and then stderr, both ready in
  # one round, stdout is relayed first (a hash's key order would be random).
  for my $fd ($n > 0 ? sort { $a <=> $b } keys %byfd : ()) {
    next unless vec($rout, $fd, 1); my ($id, $s, $fh) = @{$byfd{$fd}};
    my $r = sysread($fh, my $buf, 65536);
    if (!defined $r) { next if $!{EINTR} || $!{EAGAIN}; $r = 0; }
    if ($r > 0 && $s == 0) { $kids{$id}{why} .= $buf; next; }
    if ($r > 0) { out("O $id $s $r\n$buf"); next; }
    close $fh; delete $byfd{$fd}; $kids{$id}{open}--; }
  for my $id (keys %kids) { my $k = $kids{$id}; next if $k->{open} > 0;
    next unless waitpid($k->{pid}, POSIX::WNOHANG()) == $k->{pid};
    my $st = $?; delete $kids{$id};
    if ($k->{why} ne '') { out("E $id $k->{why}\n"); next; }
    out("X $id " . (($st & 127) ? "- " . ($st & 127) : ($st >> 8) . " -") . "\n"); } }
`;

export interface LaunchHandlers {
  onStart(pid: number): void;
  /** Could not start: `code` is the errno's name (ENOENT), as Node's spawn reports it. */
  onError(code: string): void;
  onOutput(stream: 'stdout' | 'stderr', chunk: Buffer): void;
  onExit(exitCode: number | null, signal: NodeJS.Signals | null): void;
  /** The launcher itself is gone (could not start, or exited): what it started is no longer watched. */
  onLost(reason: string): void;
}

export interface LaunchRequest {
  file: string;
  args: readonly string[];
  cwd: string;
  env: Record<string, string>;
}

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, value]) => [value, name]));
const SIGNAL_NAMES = new Map(
  Object.entries(osConstants.signals).map(([name, value]) => [value, name as NodeJS.Signals]),
);

/** One reply of the launcher. */
export type Reply =
  | { kind: 'S'; id: number; pid: number }
  | { kind: 'E'; id: number; code: string }
  | { kind: 'O'; id: number; stream: 'stdout' | 'stderr'; chunk: Buffer }
  | { kind: 'X'; id: number; exitCode: number | null; signal: NodeJS.Signals | null };

/** Splits the launcher's output into replies, whatever the boundaries of the chunks it arrives in. */
export class ReplyReader {
  private buffered: Buffer = Buffer.alloc(0);

  /** The replies completed by `chunk`; an incomplete last one waits for the next chunk. */
  read(chunk: Buffer): Reply[] {
    let data = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    const replies: Reply[] = [];
    for (;;) {
      const nl = data.indexOf(10);
      if (nl < 0) break;
      const head = data.toString('latin1', 0, nl).split(' ');
      const id = Number(head[1]);
      if (head[0] === 'O') {
        const end = nl + 1 + Number(head[3]);
        if (data.length < end) break;
        const stream = head[2] === '1' ? 'stdout' : 'stderr';
        replies.push({ kind: 'O', id, stream, chunk: data.subarray(nl + 1, end) });
        data = data.subarray(end);
        continue;
      }
      data = data.subarray(nl + 1);
      if (head[0] === 'S') replies.push({ kind: 'S', id, pid: Number(head[2]) });
      else if (head[0] === 'E')
        replies.push({ kind: 'E', id, code: ERRNO_NAMES.get(Number(head[2])) ?? `errno ${head[2]}` });
      // X: the only kind left. A signal number the table lacks, and `-`, give no signal.
      else
        replies.push({
          kind: 'X',
          id,
          exitCode: head[2] === '-' ? null : Number(head[2]),
          signal: SIGNAL_NAMES.get(Number(head[3])) ?? null,
        });
    }
    this.buffered = Buffer.from(data);
    return replies;
  }
}

class Launcher {
  private readonly child: ChildProcess;
  private readonly pending = new Map<number, LaunchHandlers>();
  private nextId = 1;
  private readonly reader = new ReplyReader();
  private dead = false;
  private complaint = '';

  constructor(perl: string) {
    // Its own standard error is a pipe too (Node's default for all three), never exec-doc's: a
    // launcher still relaying a step that outlived a killed runner must not hold the runner's
    // streams open.
    this.child = spawn(perl, ['-e', SCRIPT], { detached: true });
    this.child.stdout!.on('data', (chunk: Buffer) => this.receive(chunk));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      this.complaint = (this.complaint + text).slice(0, 2000);
    });
    // Written to after it died, before its end is known here (EPIPE); or it could not start at
    // all: either way `close` follows, and ends it.
    this.child.stdin!.on('error', () => undefined);
    this.child.on('error', () => undefined);
    // `close`, not `exit`: what it wrote on its standard error before it ended is read by then.
    this.child.on('close', () => {
      const complaint = this.complaint.trim();
      this.die(`the process launcher exited${complaint ? `: ${complaint}` : ''}`);
    });
    this.idle();
  }

  get usable(): boolean {
    return !this.dead;
  }

  launch(request: LaunchRequest, handlers: LaunchHandlers): void {
    // Stryker disable next-line UpdateOperator: counting down gives unique ids too
    const id = this.nextId++;
    const fields = [String(id), request.cwd, request.file, String(request.args.length), ...request.args];
    for (const [name, value] of Object.entries(request.env)) fields.push(`${name}=${value}`);
    const payload = Buffer.from(fields.join('\0'));
    if (this.pending.size === 0) this.busy();
    this.pending.set(id, handlers);
    this.child.stdin!.write(Buffer.concat([Buffer.from(`${payload.length}\n`), payload]));
  }

  private receive(chunk: Buffer): void {
    for (const reply of this.reader.read(chunk)) {
      const handlers = this.pending.get(reply.id);
      if (!handlers) continue;
      if (reply.kind === 'O') handlers.onOutput(reply.stream, reply.chunk);
      else if (reply.kind === 'S') {
        // The process waits for this word before it runs the program: whatever the caller does
        // with the pid (a checkpoint naming it) is done before the step's code can do anything.
        handlers.onStart(reply.pid);
        const go = Buffer.from(`go\0${reply.id}`);
        this.child.stdin!.write(Buffer.concat([Buffer.from(`${go.length}\n`), go]));
      } else {
        this.pending.delete(reply.id);
        if (this.pending.size === 0) this.idle();
        if (reply.kind === 'E') handlers.onError(reply.code);
        else handlers.onExit(reply.exitCode, reply.signal);
      }
    }
  }

  /** Processes under way keep exec-doc alive, as Node's own children would; an idle launcher does not. */
  private busy(): void {
    this.child.ref();
    (this.child.stdout as unknown as { ref(): void }).ref();
    (this.child.stderr as unknown as { ref(): void }).ref();
  }

  private idle(): void {
    this.child.unref();
    (this.child.stdout as unknown as { unref(): void }).unref();
    (this.child.stderr as unknown as { unref(): void }).unref();
  }

  /** On `close`: whatever it had started, or was asked to start, is lost with it. */
  private die(reason: string): void {
    this.dead = true;
    const left = [...this.pending.values()];
    this.pending.clear();
    for (const handlers of left) handlers.onLost(reason);
  }
}

let current: Launcher | undefined;
let perlPath: string | null | undefined;

function findPerl(): string | null {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    // Empty and relative entries would name a perl in whatever folder exec-doc was started from.
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, 'perl');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return null;
}

/** The launcher of this process, started on first use; undefined when processes are spawned by Node. */
export function launcher(): Pick<Launcher, 'launch'> | undefined {
  if (process.env.EXEC_DOC_LAUNCHER === 'spawn' || process.platform !== 'linux') return undefined;
  if (current?.usable) return current;
  if (perlPath === undefined) perlPath = findPerl();
  if (perlPath === null) return undefined;
  current = new Launcher(perlPath);
  return current;
}
