package natslog_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/herald-chat/herald/backend/natslog"
)

// Three nodes asking for the same secret at once get one secret, the one a later start reads
// too; another key is another secret.
func TestSharedSecretIsOneForTheCluster(t *testing.T) {
	c := newCluster(t)
	ctx := ctxFor(t, 60*time.Second)
	got := make(chan []byte, 3)
	errs := make(chan error, 3)
	for i := range 3 {
		go func() {
			s, err := natslog.SharedSecret(ctx, c.js(i), natslog.SecretConfig{Key: "forward-signing"})
			got <- s
			errs <- err
		}()
	}
	var secrets [][]byte
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, <-got)
	}
	for i, s := range secrets {
		if len(s) != 32 || !bytes.Equal(s, secrets[0]) {
			t.Fatalf("node %d's secret %x differs from node 0's %x", i, s, secrets[0])
		}
	}
	again, err := natslog.SharedSecret(ctx, c.js(2), natslog.SecretConfig{Key: "forward-signing"})
	if err != nil || !bytes.Equal(again, secrets[0]) {
		t.Fatalf("asked again: %x, %v", again, err)
	}
	other, err := natslog.SharedSecret(ctx, c.js(1), natslog.SecretConfig{Key: "another"})
	if err != nil || bytes.Equal(other, secrets[0]) {
		t.Fatalf("another key: %x, %v", other, err)
	}
	if _, err := natslog.SharedSecret(ctx, c.js(0), natslog.SecretConfig{}); err == nil {
		t.Fatal("a secret without a key")
	}
}
