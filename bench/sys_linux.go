package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// cpuTime is the user + system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// countFDs is the number of open file descriptors of this process.
func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// cpuModel is the CPU's model name from /proc/cpuinfo.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	return parseCPUModel(string(b))
}

// procSyscw is this process's write syscalls so far (write, writev and
// their kin, every thread), from /proc/self/io; -1 when unreadable.
func procSyscw() int64 { return syscwOf("/proc/self/io") }

// syscwOf is the syscw field of an io file of /proc; -1 when unreadable.
func syscwOf(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	return parseSyscw(string(b))
}

// exitedSyscw waits until child pid has exited, then returns the write
// syscalls it made from its start to its exit, every thread's; -1 when
// unknown. It leaves the child unreaped (WNOWAIT) for exec.Cmd.Wait: until
// then the zombie's /proc/PID/io holds its totals, which are gone once it
// is reaped and which a live process has not finished adding to.
func exitedSyscw(pid int) int64 {
	if err := waitExited(pid); err != nil {
		return -1
	}
	return syscwOf(fmt.Sprintf("/proc/%d/io", pid))
}

// waitid(2)'s constants (syscall has no Waitid; golang.org/x/sys/unix
// does, but the bench does not depend on x/sys for one call).
const (
	waitPPID     = 1          // P_PID: wait for the one pid
	waitExitedF  = 4          // WEXITED
	waitNoWait   = 0x01000000 // WNOWAIT: leave the child waitable
	siginfoBytes = 128        // sizeof(siginfo_t), which waitid fills
)

// waitExited blocks until child pid has exited, without reaping it.
func waitExited(pid int) error {
	var info [siginfoBytes]byte
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, waitPPID, uintptr(pid),
			uintptr(unsafe.Pointer(&info)), waitExitedF|waitNoWait, 0, 0)
		switch e {
		case 0:
			return nil
		case syscall.EINTR: // a signal (the runtime's preemption) interrupted the wait
		default:
			return e
		}
	}
}

// procCPU is the CPU time process pid has run so far, every thread: the
// scheduler's nanosecond count (/proc/PID/schedstat) where the kernel
// keeps it, else utime+stime in clock ticks (/proc/PID/stat, 10 ms steps).
// -1 when unreadable.
func procCPU(pid int) time.Duration {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/schedstat", pid)); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			if ns, err := strconv.ParseInt(f[0], 10, 64); err == nil {
				return time.Duration(ns)
			}
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	return parseStatCPU(string(b))
}

// clockTick is USER_HZ, the unit of /proc/PID/stat's times (100 on Linux).
const clockTick = 10 * time.Millisecond

// parseStatCPU reads utime+stime (fields 14 and 15) of a /proc/PID/stat
// line; the command name (field 2) may hold spaces, so fields are counted
// after its closing parenthesis.
func parseStatCPU(s string) time.Duration {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 13 {
		return -1
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	k, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	return time.Duration(u+k) * clockTick
}

// childPIDs lists pid's children (nginx's master → its worker).
func childPIDs(pid int) []int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(b)) {
		if n, err := strconv.Atoi(f); err == nil {
			out = append(out, n)
		}
	}
	return out
}
