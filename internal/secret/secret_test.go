package secret

import (
	"strings"
	"testing"
)

var cheap = Hasher{Memory: 64, Time: 1, Threads: 1}

// A2: argon2id with its parameters in the hash; right and wrong secrets.
func TestHashAndVerify(t *testing.T) {
	h, err := cheap.Hash("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("hash %q", h)
	}
	if ok, err := Verify(h, "correct horse"); !ok || err != nil {
		t.Errorf("right secret: %v %v", ok, err)
	}
	if ok, err := Verify(h, "wrong horse"); ok || err != nil {
		t.Errorf("wrong secret: %v %v", ok, err)
	}
	h2, _ := cheap.Hash("correct horse")
	if h == h2 {
		t.Error("two hashes of one secret are equal: no salt")
	}
}

func TestMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=18$m=64,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5",
		"$argon2id$v=19$m=64,t=1,p=1$!!$a2V5a2V5a2V5a2V5a2V5"} {
		if _, err := Verify(h, "x"); err == nil {
			t.Errorf("accepted %q", h)
		}
	}
}

// A2: the dummy hash is a real hash with the same cost, made once.
func TestDummy(t *testing.T) {
	d := cheap.Dummy()
	if d != cheap.Dummy() || !strings.HasPrefix(d, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Errorf("dummy %q", d)
	}
	if ok, err := Verify(d, ""); ok || err != nil {
		t.Errorf("dummy verifies the empty secret: %v %v", ok, err)
	}
}

// C3: a generated secret has the scanner prefix and 256 bits, is stored as
// a self-describing SHA-256, and checks without argon2id.
func TestGeneratedSecretRoundTrip(t *testing.T) {
	s := NewClientSecret()
	if !strings.HasPrefix(s, GeneratedPrefix) || len(s) != len(GeneratedPrefix)+43 || !IsGenerated(s) {
		t.Fatalf("generated secret %q", s)
	}
	if s == NewClientSecret() {
		t.Fatal("two generated secrets are equal")
	}
	h := HashGenerated(s)
	if !strings.HasPrefix(h, "$sha256$") || !IsGeneratedHash(h) || IsSlow(h) {
		t.Errorf("stored form %q", h)
	}
	if strings.Contains(h, s[len(GeneratedPrefix):]) {
		t.Error("the stored form contains the secret")
	}
	if ok, err := Verify(h, s); !ok || err != nil {
		t.Errorf("right secret: %v %v", ok, err)
	}
	// Wrong at the first byte, at the last, shorter, longer, or without
	// the prefix: every one refused (the comparison is of digests, in
	// constant time, so none answers sooner than another).
	last := s[len(s)-1:]
	other := "A"
	if last == "A" {
		other = "B"
	}
	for _, wrong := range []string{"", "x" + s[1:], s[:len(s)-1] + other, s[:len(s)-1], s + "A", strings.TrimPrefix(s, GeneratedPrefix)} {
		if ok, err := Verify(h, wrong); ok || err != nil {
			t.Errorf("wrong secret %q: %v %v", wrong, ok, err)
		}
	}
}

// C3: only the exact shape NewClientSecret makes counts as generated; an
// operator's own secret stays argon2id.
func TestIsGenerated(t *testing.T) {
	good := GeneratedPrefix + strings.Repeat("A", 42) + "E" // 43 chars whose last decodes without spare bits
	for _, tc := range []struct {
		secret string
		want   bool
	}{
		{NewClientSecret(), true},
		{good, true},
		{"app-a-secret", false},
		{GeneratedPrefix, false},
		{GeneratedPrefix + strings.Repeat("A", 42), false},       // 252 bits
		{GeneratedPrefix + strings.Repeat("A", 44), false},       // more than 256 bits
		{GeneratedPrefix + strings.Repeat("A", 42) + "B", false}, // spare bits set: not what the encoder writes
		{GeneratedPrefix + strings.Repeat("+", 43), false},       // not base64url
		{"SESAME_CS_" + strings.Repeat("A", 42) + "E", false},    // the prefix is exact
		{strings.Repeat("A", 43), false},                         // no prefix
		{" " + GeneratedPrefix + strings.Repeat("A", 42) + "E", false},
	} {
		if got := IsGenerated(tc.secret); got != tc.want {
			t.Errorf("IsGenerated(%q) = %v, want %v", tc.secret, got, tc.want)
		}
	}
}

// C3: argon2id hashes are slow, generated ones are not; both schemes are
// told apart by their prefix, and a mangled $sha256$ is malformed.
func TestSchemes(t *testing.T) {
	h, _ := cheap.Hash("x")
	if !IsSlow(h) || IsGeneratedHash(h) {
		t.Errorf("argon2id hash %q: slow %v, generated %v", h, IsSlow(h), IsGeneratedHash(h))
	}
	for _, bad := range []string{"$sha256$", "$sha256$!!!", "$sha256$" + strings.Repeat("A", 42), HashGenerated("x") + "AA"} {
		if _, err := Verify(bad, "x"); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}
