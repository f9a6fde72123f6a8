package teamserver_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/teamserver"
	"github.com/herald-chat/herald/backend/tlscert"
)

// Nodes serving HTTPS with self-signed certificates forward writes to the writer when each
// trusts the others' certificates (ClusterConfig.RootCAs, herald-server's --cluster-ca): a
// registration and a post through each follower are answered by the writer.
func TestClusterForwardsOverTLSWithTheNodesCertificates(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster takes seconds to form")
	}
	certs := map[string]*tls.Certificate{}
	pool := x509.NewCertPool()
	for _, name := range []string{"n1", "n2", "n3"} {
		c, _, err := tlscert.SelfSigned(t.TempDir(), "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		certs[name] = &c
		pool.AddCert(c.Leaf)
	}
	var mu sync.Mutex
	nodes := startCluster(t, func(c *teamserver.Config) {
		mu.Lock()
		defer mu.Unlock()
		c.Certificate = certs[c.Cluster.NodeName]
		c.Cluster.Advertise = strings.Replace(c.Cluster.Advertise, "http://", "https://", 1)
		c.Cluster.RootCAs = pool
	})
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	https := func(n *clusterNode) string { return strings.Replace(n.url, "http://", "https://", 1) }
	fol := followersOf(nodes)

	var alice struct {
		Token string `json:"token"`
	}
	if st := callWith(t, client, "POST", https(fol[0])+"/api/auth/register", "", map[string]string{"username": "alice", "password": "password-alice"}, &alice); st != 201 {
		t.Fatalf("register through a follower over HTTPS: %d", st)
	}
	var chat struct {
		Chat struct {
			ID string `json:"id"`
		} `json:"chat"`
	}
	if st := callWith(t, client, "POST", https(fol[1])+"/api/chats", alice.Token, map[string]any{"name": "general", "memberIds": []string{}}, &chat); st != 201 {
		t.Fatalf("create a chat through the other follower over HTTPS: %d", st)
	}
	for _, n := range fol {
		if st := callWith(t, client, "POST", https(n)+"/api/chats/"+chat.Chat.ID+"/messages", alice.Token, map[string]string{"content": "over TLS via " + n.name}, nil); st != 201 {
			t.Fatalf("post through %s over HTTPS: %d", n.name, st)
		}
	}
}
