package httpapi

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: OWASP's minimum recommendation (19 MiB, 2 passes, 1 lane), about 25 ms
// per hash on this class of machine. They are stored in each hash, so raising them later keeps
// old hashes valid.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// hashSlots bounds how many argon2id hashes run at once (each takes argonMemory): a burst of
// sign-ins from many addresses queues instead of exhausting memory.
var hashSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

// withHashSlot runs fn once a hashing slot is free, or returns ctx's error.
func withHashSlot(ctx context.Context, fn func()) error {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-hashSlots }()
	fn()
	return nil
}

// hashPassword returns a PHC-format argon2id hash of password with a random salt.
func hashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// checkPassword reports whether password matches hash, in time independent of where they differ.
// A hash that cannot be parsed (a bot's empty one, a damaged record) costs the same argon2id run
// against dummyHash and never matches, so that it answers no faster than a wrong password.
func checkPassword(hash, password string) bool {
	p, ok := parseHash(hash)
	if !ok {
		p = dummy
	}
	got := argon2.IDKey([]byte(password), p.salt, p.iters, p.mem, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1 && ok
}

// argonHash is a parsed PHC-format argon2id hash.
type argonHash struct {
	mem, iters uint32
	threads    uint8
	salt, key  []byte
}

func parseHash(hash string) (argonHash, bool) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return argonHash{}, false
	}
	var (
		version, mem, iters int
		threads             uint8
	)
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return argonHash{}, false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return argonHash{}, false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	key, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || mem <= 0 || iters <= 0 || threads == 0 || len(key) == 0 {
		return argonHash{}, false
	}
	return argonHash{mem: uint32(mem), iters: uint32(iters), threads: threads, salt: salt, key: key}, true
}

// dummyHash is checked against when a username does not exist or is a bot's (bots have no
// password), so that a failed login takes as long for them as for a wrong password; dummy is it
// parsed.
var (
	dummyHash, _ = hashPassword("herald-dummy-password")
	dummy, _     = parseHash(dummyHash)
)

// newSecret returns 32 random bytes, base64url: a session token or an invite code.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random secret: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
