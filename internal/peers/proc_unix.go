//go:build unix

package peers

import (
	"os/exec"
	"strconv"
	"syscall"
)

// groupAttr puts the child in its own process group so that stop reaches
// the workers and helpers it forks.
func groupAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup sends SIGKILL to the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }

// watchdogScript kills the group named by $1 when its stdin reaches EOF.
// (dash's kill takes "-9 -PGID", not "-s KILL" nor "--".)
const watchdogScript = `read _; kill -9 -$1 2>/dev/null; exit 0`

// startWatchdog covers the case t.Cleanup cannot: the test binary killed
// (a -timeout panic, SIGKILL). Only this process holds the write end of the
// watchdog's stdin, so when it dies the watchdog reads EOF and kills the
// server's group. Pdeathsig would not do: it is cleared when squid and
// dante switch user, and nginx's workers never had it. The returned func
// ends the watchdog after a normal stop. Without /bin/sh, no watchdog.
func startWatchdog(pgid int) (stop func()) {
	cmd := exec.Command("/bin/sh", "-c", watchdogScript, "spool-peers-watchdog", strconv.Itoa(pgid))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // not in the group it kills
	w, err := cmd.StdinPipe()
	if err != nil {
		return func() {}
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return func() {}
	}
	return func() {
		w.Close()
		_ = cmd.Wait()
	}
}

// processExists reports whether pid is a live process (EPERM: it exists
// but belongs to someone else).
func processExists(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
