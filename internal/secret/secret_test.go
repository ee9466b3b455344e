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
