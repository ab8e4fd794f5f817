package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// machine describes this host from /proc: CPU model, cores, RAM.
func machine() (cpu, cores, ram string) {
	cpu, cores, ram = "unknown CPU", strconv.Itoa(runtime.NumCPU()), "unknown"
	if v := procField("/proc/cpuinfo", "model name"); v != "" {
		cpu = v
	}
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		if kb, err := strconv.ParseFloat(strings.Fields(v)[0], 64); err == nil {
			ram = fmt.Sprintf("%.1f GiB", kb/(1<<20))
		}
	}
	return cpu, cores, ram
}

// procField is the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// RSS is a process's resident set (VmRSS) and its peak (VmHWM), in bytes.
func RSS(pid int) (rss, peak int64, err error) {
	path := fmt.Sprintf("/proc/%d/status", pid)
	parse := func(key string) (int64, error) {
		v := procField(path, key)
		if v == "" {
			return 0, fmt.Errorf("read %s of pid %d: no %s line", path, pid, key)
		}
		kb, err := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("parse %s %q of pid %d: %w", key, v, pid, err)
		}
		return kb << 10, nil
	}
	if rss, err = parse("VmRSS"); err != nil {
		return 0, 0, err
	}
	peak, err = parse("VmHWM")
	return rss, peak, err
}

// MiB formats bytes.
func MiB(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

// commandOutput runs name args with a short deadline and returns its first
// output line, or "unknown (…)".
func commandOutput(name string, args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return fmt.Sprintf("unknown (%s: %v)", name, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return line
}

// leadflowCommit is the checkout's commit, marked dirty when it has changes.
func leadflowCommit(dir string) string {
	c := commandOutput("git", "-C", dir, "rev-parse", "--short", "HEAD")
	if strings.HasPrefix(c, "unknown") {
		return c
	}
	if st := commandOutput("git", "-C", dir, "status", "--porcelain", "--untracked-files=no"); st != "" && !strings.HasPrefix(st, "unknown") {
		c += " (with uncommitted changes)"
	}
	return c
}

func environment(o Options, temporal string) Environment {
	cpu, cores, ram := machine()
	return Environment{CPU: cpu, Cores: cores, RAM: ram, Go: runtime.Version(), Temporal: temporal,
		Commit: leadflowCommit(o.RepoDir), Command: o.Command, Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Note: o.Note}
}
