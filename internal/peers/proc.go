package peers

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Limits of the harness, each with its reason.
const (
	// readyTimeout bounds how long a server may take to accept its first
	// connection; the peers start in well under a second on an idle machine.
	readyTimeout = 10 * time.Second
	// stopGrace is how long a server gets to exit after SIGTERM before the
	// process group is killed; nginx and dante use it to stop their workers
	// (nginx's fast shutdown takes milliseconds).
	stopGrace = 3 * time.Second
	// bindAttempts bounds retries when a free port picked by freePorts was
	// taken by someone else before the server bound it.
	bindAttempts = 3
	// logPollTimeout bounds WaitAccessLog: servers write a log line just
	// after the response, so a client can see the response first.
	logPollTimeout = 5 * time.Second
)

const installHint = "run .ci/install-peers.sh (see README 'Peer tests')"

// findBinary returns the path of a server binary or skips the test. Daemons
// live in /usr/sbin, which is not on every user's PATH.
func findBinary(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	t.Skipf("%s not installed; %s", name, installHint)
	return ""
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. The listeners are
// closed before returning, so another process may take a port before the
// server binds it; starters retry on bind failure (bindAttempts).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, 0, n)
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("peers: pick a free port: %v", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}

func loopback(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }

// proc is one running server: a child process leading its own process group.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer // the child's stdout and stderr
	logs []string    // files whose tails explain a failure
	done chan struct{}
	err  error // set before done is closed

	// abrupt skips SIGTERM: squid takes 2 s to shut down however it is
	// configured, and its helpers exit on their own when it dies.
	abrupt bool

	stopOnce sync.Once
	onStop   []func() // run after the group is gone: watchdog, shm removal
}

// syncBuffer collects a child's output; exec copies into it from its own
// goroutine while a failing test may read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startProc starts bin with args in dir, in a new process group.
func startProc(name, dir, bin string, args []string, logs []string) (*proc, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = groupAttr()
	// A helper that left the group (squid's auth helper calls setsid) may
	// still hold the output pipe after the kill; do not wait on it forever.
	cmd.WaitDelay = stopGrace
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, out: out, logs: logs, done: make(chan struct{})}
	p.onStop = append(p.onStop, startWatchdog(cmd.Process.Pid))
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop ends the server: SIGTERM to the leader, which then stops and reaps
// its own workers and helpers (killing them directly would leave zombies for
// init), then SIGKILL to the whole group after at most stopGrace. Safe to
// call more than once.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		pid := p.cmd.Process.Pid
		if !p.exited() && !p.abrupt {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(stopGrace):
			}
		}
		// The leader may be gone while helpers (squid's auth helper,
		// dante's children, nginx workers) linger in the group.
		killGroup(pid)
		<-p.done
		for _, f := range p.onStop {
			f()
		}
	})
}

// readyCheck reports whether a server accepts connections yet; err says
// what it waits for, for the failure message.
type readyCheck func() (ok bool, err error)

// dialable is ready when every address accepts a TCP connection.
func dialable(addrs ...string) readyCheck {
	return func() (bool, error) {
		for _, addr := range addrs {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err != nil {
				return false, err
			}
			c.Close()
		}
		return true, nil
	}
}

// waitReady polls ready until it succeeds, the process exits or
// readyTimeout passes.
func (p *proc) waitReady(ready readyCheck) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		if p.exited() {
			return fmt.Errorf("%s exited before accepting connections: %v", p.name, p.err)
		}
		ok, err := ready()
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready within %v: %v", p.name, readyTimeout, err)
		}
		<-time.After(pollInterval)
	}
}

// pollInterval paces the waits for a server to listen or to log: these
// are other processes, so there is nothing to block on but time.
const pollInterval = 20 * time.Millisecond

// diagnostics returns the child's output and the tails of its log files,
// for a t.Fatal message.
func (p *proc) diagnostics() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s stdout/stderr:\n%s", p.name, tail(p.out.String()))
	for _, f := range p.logs {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "\n--- %s:\n%s", f, tail(string(data)))
	}
	return b.String()
}

// addrInUse reports whether the failure looks like a lost port race.
func (p *proc) addrInUse() bool {
	return strings.Contains(strings.ToLower(p.diagnostics()), "address already in use")
}

func tail(s string) string {
	const max = 4000 // enough for a config error, short enough to read
	if len(s) > max {
		s = "…" + s[len(s)-max:]
	}
	return s
}

// launch runs start with fresh ports until the server is up, retrying when a
// port was lost to a race. start writes the config for the ports and starts
// the process; launch waits for ready(ports) and registers the cleanup.
func launch(t testing.TB, name string, nports int,
	start func(ports []int) (*proc, error), ready func(ports []int) readyCheck) *proc {
	t.Helper()
	var lastErr error
	for range bindAttempts {
		ports := freePorts(t, nports)
		p, err := start(ports)
		if err != nil {
			t.Fatalf("peers: %v", err)
		}
		err = p.waitReady(ready(ports))
		if err == nil {
			t.Cleanup(p.stop)
			return p
		}
		p.stop()
		lastErr = fmt.Errorf("%w\n%s", err, p.diagnostics())
		if !p.addrInUse() {
			break
		}
	}
	t.Fatalf("peers: %s did not start: %v", name, lastErr)
	return nil
}

// waitLines polls read until it returns at least n items or logPollTimeout
// passes, then returns what it has.
func waitLines[T any](n int, read func() []T) []T {
	deadline := time.Now().Add(logPollTimeout)
	for {
		got := read()
		if len(got) >= n || time.Now().After(deadline) {
			return got
		}
		<-time.After(pollInterval)
	}
}

// readLines returns the non-empty lines of a file; a missing file is empty.
func readLines(t testing.TB, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("peers: read %s: %v", path, err)
	}
	var lines []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// sharedDir returns a fresh directory that a server which drops root
// privileges (squid runs as nobody) can write. t.TempDir's parent is 0700,
// so it cannot be used for that; this one is removed at cleanup.
func sharedDir(t testing.TB, prefix string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", prefix)
	if err != nil {
		t.Fatalf("peers: %v", err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatalf("peers: %v", err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func writeFile(t testing.TB, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatalf("peers: %v", err)
	}
}
