//go:build chaos

package chaos

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvPGBinDir overrides where the Postgres server binaries are looked for.
const EnvPGBinDir = "LEADFLOW_PG_BINDIR"

// pgBinDir finds initdb and postgres: $LEADFLOW_PG_BINDIR, the newest
// /usr/lib/postgresql/*/bin (Debian), else the directory of initdb on PATH.
func pgBinDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvPGBinDir); d != "" {
		return d
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	t.Fatalf("no Postgres server binaries (initdb, postgres): install postgresql (apt-get install postgresql) or set %s", EnvPGBinDir)
	return ""
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// pgCluster is a Postgres cluster of the suite's own: a data directory in a
// temporary directory, one postgres process on a free loopback port, trust
// auth, fsync off. Stop and Start restart it on the same data and port, so
// clients reconnect to the same URL.
type pgCluster struct {
	t       testing.TB
	bin     string
	dir     string // owned by the postgres OS user when the suite runs as root
	data    string
	Port    int
	logFile string
	cred    *syscall.Credential

	cmd    *exec.Cmd
	exited chan struct{}
}

// startPostgres runs initdb and starts the server; it is stopped and its
// directory removed when the test ends. initdb and postgres refuse to run
// as root, so as root they run as the `postgres` OS user.
func startPostgres(t testing.TB) *pgCluster {
	t.Helper()
	c := &pgCluster{t: t, bin: pgBinDir(t)}
	dir, err := os.MkdirTemp("", "leadflow-chaos-pg-")
	if err != nil {
		t.Fatal(err)
	}
	c.dir, c.data = dir, filepath.Join(dir, "data")
	c.logFile = logPath(t, "postgres.log")
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, initdb needs the postgres OS user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	initdb := exec.Command(filepath.Join(c.bin, "initdb"), "-D", c.data, "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	c.Port = port
	c.Start()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of the postgres log:\n%s", tail(c.logFile, 15))
		}
		c.Stop()
	})
	return c
}

// URL is the connection URL of database db.
func (c *pgCluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Start starts the server on the cluster's data directory and port and
// waits until it takes connections.
func (c *pgCluster) Start() {
	c.t.Helper()
	if c.running() {
		c.t.Fatal("postgres is already running")
	}
	f, err := os.OpenFile(c.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), "-D", c.data, "-p", strconv.Itoa(c.Port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "log_min_messages=warning")
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group (Stop and Kill reach every backend), and dead with
	// the test binary if it dies without cleanups.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Credential: c.cred}
	if err := cmd.Start(); err != nil {
		f.Close()
		c.t.Fatalf("start postgres: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); f.Close(); close(exited) }()
	c.cmd, c.exited = cmd, exited
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		cancel()
		if err == nil {
			_ = conn.Close(context.Background())
			return
		}
		select {
		case <-exited:
			c.t.Fatalf("postgres exited during start-up: %v\n%s", err, tail(c.logFile, 20))
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("postgres not ready after 30s: %v\n%s", err, tail(c.logFile, 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (c *pgCluster) running() bool {
	if c.exited == nil {
		return false
	}
	select {
	case <-c.exited:
		return false
	default:
		return true
	}
}

// Stop is `pg_ctl stop -m fast`: SIGINT to the postmaster (sessions are
// cut, the server shuts down cleanly), SIGKILL to the group after 30 s.
func (c *pgCluster) Stop() {
	if !c.running() {
		return
	}
	_ = c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
		<-c.exited
	}
}

// Kill is a crash: SIGKILL to the postmaster and every backend. The next
// Start recovers from the WAL.
func (c *pgCluster) Kill() {
	if !c.running() {
		return
	}
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
	<-c.exited
}
