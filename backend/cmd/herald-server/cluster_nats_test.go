package main

import (
	"context"
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

	"github.com/herald-chat/herald/backend/internal/testnet"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsBin is the real nats-server, built once from the module the cluster already depends on.
var (
	natsBinOnce sync.Once
	natsBin     string
	natsBinErr  error
)

func natsServerBin(t *testing.T) string {
	t.Helper()
	natsBinOnce.Do(func() {
		natsBin = filepath.Join(filepath.Dir(serverBin), "nats-server")
		build := exec.Command("go", "build", "-o", natsBin, "github.com/nats-io/nats-server/v2")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			natsBinErr = fmt.Errorf("build nats-server: %v\n%s", err, out)
		}
	})
	if natsBinErr != nil {
		t.Fatal(natsBinErr)
	}
	return natsBin
}

// natsProc is one nats-server process of an external JetStream cluster.
type natsProc struct {
	name, addr string // server name, client host:port
	cmd        *exec.Cmd
	logs       *lockedWriter
	done       chan struct{}
}

// startNATSCluster starts three nats-servers with JetStream as one cluster, all at once, and
// waits until each accepts clients. They do not advertise each other to clients: a client
// reaches only the addresses it was given (the tests' proxies).
func startNATSCluster(t *testing.T) []*natsProc {
	t.Helper()
	bin := natsServerBin(t)
	ports := testnet.FreePorts(t, 6) // clients, routes
	var routes []string
	for i := range 3 {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]))
	}
	servers := make([]*natsProc, 3)
	for i := range servers {
		s := &natsProc{name: fmt.Sprintf("nats-%d", i+1), addr: fmt.Sprintf("127.0.0.1:%d", ports[i]),
			logs: &lockedWriter{w: &strings.Builder{}}, done: make(chan struct{})}
		s.cmd = exec.Command(bin, "--name", s.name, "--addr", "127.0.0.1", "--port", fmt.Sprint(ports[i]),
			"--jetstream", "--store_dir", t.TempDir(), "--cluster_name", "herald-test",
			"--cluster", fmt.Sprintf("nats://127.0.0.1:%d", ports[3+i]), "--routes", strings.Join(routes, ","),
			"--no_advertise=true")
		s.cmd.Stdout, s.cmd.Stderr = s.logs, s.logs
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // dies with the test binary
		if err := s.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = s.cmd.Wait(); close(s.done) }()
		t.Cleanup(func() {
			s.kill()
			if t.Failed() && os.Getenv("HERALD_CLUSTER_LOGS") != "" {
				t.Logf("%s logged:\n%s", s.name, s.logText())
			}
		})
		servers[i] = s
	}
	for _, s := range servers {
		waitUntil(t, s.name+" to accept clients", 10*time.Second, func() bool {
			c, err := net.DialTimeout("tcp", s.addr, 100*time.Millisecond)
			if err == nil {
				c.Close()
			}
			return err == nil
		})
	}
	return servers
}

// kill SIGKILLs the server (unless it exited) and waits for it.
func (s *natsProc) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}

func (s *natsProc) logText() string {
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	return s.logs.w.(*strings.Builder).String()
}

// onNATS is a cluster of three herald-servers on an external NATS cluster; each node reaches
// every NATS server through a proxy of its own, so that a test can cut one node off.
type onNATS struct {
	nats    []*natsProc
	nodes   []*clusterProc
	proxies [][]*testnet.Proxy // by node, by NATS server
}

// startClusterOnNATS starts three NATS servers and three herald-servers joined through them
// (--cluster, each node given its own proxies' URLs).
func startClusterOnNATS(t *testing.T, extra ...string) *onNATS {
	t.Helper()
	c := &onNATS{nats: startNATSCluster(t)}
	ports := testnet.FreePorts(t, 3)
	for i := range 3 {
		var urls []string
		var mine []*testnet.Proxy
		for _, s := range c.nats {
			p := testnet.NewProxy(t, s.addr)
			mine = append(mine, p)
			urls = append(urls, "nats://"+p.Addr())
		}
		c.proxies = append(c.proxies, mine)
		c.nodes = append(c.nodes, newClusterProc(t, i, ports[i], append([]string{"--cluster", strings.Join(urls, ",")}, extra...)...))
	}
	startProcs(t, c.nodes)
	return c
}

// cut severs node n from every NATS server (its proxies hold the traffic); heal undoes it.
func (c *onNATS) cut(n *clusterProc) {
	for _, p := range c.proxyOf(n) {
		p.Cut()
	}
}

func (c *onNATS) heal(n *clusterProc) {
	for _, p := range c.proxyOf(n) {
		p.Heal()
	}
}

func (c *onNATS) proxyOf(n *clusterProc) []*testnet.Proxy {
	for i, m := range c.nodes {
		if m == n {
			return c.proxies[i]
		}
	}
	panic("not a node of this cluster: " + n.name)
}

// streamLeader names the NATS server leading JetStream stream name, asked of server via
// (directly, not through a proxy).
func streamLeader(t *testing.T, via *natsProc, name string) string {
	t.Helper()
	nc, err := nats.Connect("nats://"+via.addr, nats.Timeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var leader string
	waitUntil(t, "stream "+name+" to have a leader", 20*time.Second, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s, err := js.Stream(ctx, name)
		if err != nil {
			return false
		}
		info, err := s.Info(ctx)
		if err != nil || info.Cluster == nil {
			return false
		}
		leader = info.Cluster.Leader
		return leader != ""
	})
	return leader
}
