package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// procSample is a process's CPU time and resident memory at one moment.
type procSample struct {
	at     time.Time
	cpu    time.Duration // time on CPU, all threads, since the process started
	rssKiB int64
}

// sampleProc reads the process's CPU time as the sum of /proc/PID/task/*/schedstat (ns on CPU
// per thread; exact, unlike the 100 Hz ticks of /proc/PID/stat, and /proc/PID/schedstat alone
// is only the main thread), and VmRSS from /proc/PID/status. Threads that exited are lost to the
// sum; utime+stime of /proc/PID/stat keeps them, so the larger of the two is taken.
func sampleProc(pid int) (procSample, error) {
	s := procSample{at: time.Now()}
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return s, fmt.Errorf("list threads of %d: %w", pid, err)
	}
	for _, t := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/schedstat", pid, t.Name()))
		if err != nil {
			continue // the thread exited
		}
		ns, err := parseSchedstat(b)
		if err != nil {
			return s, fmt.Errorf("schedstat of %d/%s: %w", pid, t.Name(), err)
		}
		s.cpu += ns
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return s, fmt.Errorf("read stat of %d: %w", pid, err)
	}
	ticks, err := parseStatTicks(b)
	if err != nil {
		return s, fmt.Errorf("stat of %d: %w", pid, err)
	}
	s.cpu = max(s.cpu, ticks)
	if s.rssKiB, err = readRSS(pid); err != nil {
		return s, err
	}
	return s, nil
}

func parseSchedstat(b []byte) (time.Duration, error) {
	f := bytes.Fields(b)
	if len(f) < 1 {
		return 0, fmt.Errorf("schedstat %q", b)
	}
	ns, err := strconv.ParseInt(string(f[0]), 10, 64)
	return time.Duration(ns), err
}

// parseStatTicks is utime+stime of a /proc/PID/stat line, at USER_HZ = 100.
func parseStatTicks(b []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces and parentheses
	if i < 0 {
		return 0, fmt.Errorf("stat %q", b)
	}
	f := bytes.Fields(b[i+1:])
	// After ")": state is field 3 of stat(5), utime 14, stime 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("stat has %d fields after the name", len(f))
	}
	u, err1 := strconv.ParseInt(string(f[11]), 10, 64)
	st, err2 := strconv.ParseInt(string(f[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("stat utime %q stime %q", f[11], f[12])
	}
	return time.Duration(u+st) * (time.Second / 100), nil
}

// readRSS is VmRSS of /proc/PID/status in KiB.
func readRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("read status of %d: %w", pid, err)
	}
	return parseVmRSS(b)
}

func parseVmRSS(status []byte) (int64, error) {
	i := bytes.Index(status, []byte("VmRSS:"))
	if i < 0 {
		return 0, fmt.Errorf("no VmRSS in /proc status")
	}
	f := bytes.Fields(status[i+len("VmRSS:"):])
	if len(f) < 1 {
		return 0, fmt.Errorf("VmRSS without a value")
	}
	return strconv.ParseInt(string(f[0]), 10, 64)
}

// raiseFDLimit lifts this process's RLIMIT_NOFILE soft limit to its hard limit and returns the
// new soft limit; children started afterwards inherit it.
func raiseFDLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("get RLIMIT_NOFILE: %w", err)
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, fmt.Errorf("raise RLIMIT_NOFILE to %d: %w", rl.Max, err)
		}
	}
	return rl.Cur, nil
}

// settle waits until pid's CPU use over a 250 ms window falls below 5 % of one core (a server
// that is still indexing or fanning out presence changes would otherwise charge that work to
// the next phase), at most limit. It reports whether the process settled.
func settle(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	const window = 250 * time.Millisecond
	prev, err := sampleProc(pid)
	if err != nil {
		return false
	}
	for time.Now().Before(deadline) {
		time.Sleep(window) // a sampling tick: there is no event to wait for
		cur, err := sampleProc(pid)
		if err != nil {
			return false
		}
		if float64(cur.cpu-prev.cpu) < 0.05*float64(cur.at.Sub(prev.at)) {
			return true
		}
		prev = cur
	}
	return false
}
