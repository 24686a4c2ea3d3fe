// Package etcdtest starts real etcd processes for tests: a single node or a
// 3-member cluster on loopback ephemeral ports with temporary data
// directories, waits until they are healthy, and stops them by PID when the
// test ends. Tests skip, with the reason, when the etcd binary is absent
// (Debian's etcd-server package installs /usr/bin/etcd; .ci/run installs it).
package etcdtest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Binary finds the etcd binary: $P4QOS_ETCD, then PATH, then /usr/bin/etcd.
func Binary() (string, error) {
	if p := os.Getenv("P4QOS_ETCD"); p != "" {
		return p, nil
	}
	if p, err := exec.LookPath("etcd"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/bin/etcd"); err == nil {
		return "/usr/bin/etcd", nil
	}
	return "", fmt.Errorf("etcd not found (install Debian's etcd-server, or set P4QOS_ETCD)")
}

// Member is one etcd process.
type Member struct {
	Name      string
	ClientURL string
	PeerURL   string
	dir       string
	args      []string
	bin       string
	logf      *os.File
	mu        sync.Mutex
	cmd       *exec.Cmd
	exited    chan struct{}
}

// Cluster is a set of etcd members forming one cluster.
type Cluster struct {
	Members []*Member
	t       testing.TB
}

// Start starts a cluster of n members (1 or 3 in practice) and waits until
// every member reports healthy. It is stopped in t.Cleanup.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Skip(err.Error())
	}
	root := t.TempDir()
	c := &Cluster{t: t}
	var initial []string
	for i := 0; i < n; i++ {
		m := &Member{Name: fmt.Sprintf("m%d", i), ClientURL: "http://" + FreeAddr(t), PeerURL: "http://" + FreeAddr(t),
			dir: filepath.Join(root, fmt.Sprintf("m%d", i)), bin: bin}
		initial = append(initial, m.Name+"="+m.PeerURL)
		c.Members = append(c.Members, m)
	}
	for _, m := range c.Members {
		m.args = []string{"--name", m.Name, "--data-dir", m.dir,
			"--listen-client-urls", m.ClientURL, "--advertise-client-urls", m.ClientURL,
			"--listen-peer-urls", m.PeerURL, "--initial-advertise-peer-urls", m.PeerURL,
			"--initial-cluster", strings.Join(initial, ","), "--initial-cluster-state", "new",
			"--initial-cluster-token", "p4qos-test", "--heartbeat-interval", "50", "--election-timeout", "500",
			"--log-level", "warn", "--logger", "zap"}
		if err := m.start(); err != nil {
			t.Fatalf("etcd %s: %v", m.Name, err)
		}
	}
	t.Cleanup(c.Stop)
	for _, m := range c.Members {
		if err := m.WaitHealthy(30 * time.Second); err != nil {
			t.Fatalf("%v (log: %s)", err, m.logf.Name())
		}
	}
	return c
}

// Endpoints are the members' client URLs.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		out = append(out, m.ClientURL)
	}
	return out
}

// URL is the cluster as a p4qos `cluster` setting: etcd://host:port,...
func (c *Cluster) URL() string {
	var hosts []string
	for _, m := range c.Members {
		hosts = append(hosts, strings.TrimPrefix(m.ClientURL, "http://"))
	}
	return "etcd://" + strings.Join(hosts, ",")
}

// Stop kills every member (SIGKILL, by PID) and waits for them to exit.
func (c *Cluster) Stop() {
	for _, m := range c.Members {
		m.Kill()
	}
}

// Restart starts every stopped member again on the same ports and data
// directories and waits until each is healthy.
func (c *Cluster) Restart() error {
	for _, m := range c.Members {
		if err := m.Restart(); err != nil {
			return err
		}
	}
	for _, m := range c.Members {
		if err := m.WaitHealthy(30 * time.Second); err != nil {
			return err
		}
	}
	return nil
}

func (m *Member) start() error {
	if m.logf == nil {
		f, err := os.CreateTemp("", "p4qos-etcd-"+m.Name+"-*.log")
		if err != nil {
			return err
		}
		m.logf = f
	}
	cmd := exec.Command(m.bin, m.args...)
	cmd.Stdout, cmd.Stderr = m.logf, m.logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	m.mu.Lock()
	m.cmd, m.exited = cmd, exited
	m.mu.Unlock()
	return nil
}

// Restart starts a killed member again (a no-op while it runs).
func (m *Member) Restart() error {
	m.mu.Lock()
	running := m.cmd != nil
	m.mu.Unlock()
	if running {
		return nil
	}
	// A peer may still hold the old port briefly: retry the start a few
	// times if the process exits at once.
	var err error
	for i := 0; i < 20; i++ {
		if err = m.start(); err != nil {
			return err
		}
		m.mu.Lock()
		exited := m.exited
		m.mu.Unlock()
		select {
		case <-exited:
			m.mu.Lock()
			m.cmd = nil
			m.mu.Unlock()
			err = fmt.Errorf("etcd %s exited at once (log: %s)", m.Name, m.logf.Name())
			time.Sleep(100 * time.Millisecond)
			continue
		case <-time.After(300 * time.Millisecond):
			return nil
		}
	}
	return err
}

// Kill sends SIGKILL to the member's PID and waits for it to exit.
func (m *Member) Kill() {
	m.mu.Lock()
	cmd, exited := m.cmd, m.exited
	m.cmd = nil
	m.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// WaitHealthy polls the member's /health until it says true or d passes.
func (m *Member) WaitHealthy(d time.Duration) error {
	deadline := time.Now().Add(d)
	client := &http.Client{Timeout: time.Second}
	var last string
	for time.Now().Before(deadline) {
		resp, err := client.Get(m.ClientURL + "/health")
		if err == nil {
			buf := make([]byte, 256)
			n, _ := resp.Body.Read(buf)
			resp.Body.Close()
			last = string(buf[:n])
			if strings.Contains(last, `"health":"true"`) {
				return nil
			}
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("etcd %s not healthy after %v: %s", m.Name, d, last)
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}
