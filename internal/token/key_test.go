package token

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// A token's value carries its expiry, and Key finds the key NewTokenValue
// stored it under from the value alone; a value with its expiry changed
// (or any value not made so, an older token's) keys as its whole digest,
// which finds an older token or nothing.
func TestKeyIsReadBackFromTheValue(t *testing.T) {
	exp := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	value, key := NewTokenValue(exp)
	if len(value) != 48 || !bytes.Equal(Key(value), key) {
		t.Fatalf("value %q: Key %x, stored under %x", value, Key(value), key)
	}
	if got, _, ok := store.SplitTokenKey(key); !ok || !got.Equal(exp) {
		t.Errorf("key carries %v, %v; want %v", got, ok, exp)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(value)
	raw[3]++ // a second later
	forged := base64.RawURLEncoding.EncodeToString(raw)
	if fk := Key(forged); bytes.Equal(fk[store.TokenKeyLen-store.TokenDigestLen:], key[store.TokenKeyLen-store.TokenDigestLen:]) {
		t.Errorf("a value with another expiry keys with the same digest: %x", fk)
	}
	older := "0123456789012345678901234567890123456789abc" // 43 characters, as before
	if !bytes.Equal(Key(older), Hash(older)) {
		t.Errorf("an older token's value keys as %x, not its digest", Key(older))
	}
	notBase64 := "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" // 48, undecodable
	if !bytes.Equal(Key(notBase64), Hash(notBase64)) {
		t.Errorf("an undecodable value keys as %x, not its digest", Key(notBase64))
	}
}

// expiry is whole seconds, and never later than notAfter (G5: a refresh
// token never outlives its grant), from a clock with a fraction of a
// second either side of one half.
func TestExpiryIsWholeSecondsWithinNotAfter(t *testing.T) {
	for _, frac := range []time.Duration{0, 300 * time.Millisecond, 700 * time.Millisecond} {
		now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC).Add(frac)
		if exp := expiry(now, time.Hour, time.Time{}); exp.Nanosecond() != 0 || exp.Sub(now).Round(time.Second) != time.Hour {
			t.Errorf("now %v: expiry %v", now, exp)
		}
		notAfter := now.Add(30 * time.Minute)
		if exp := expiry(now, time.Hour, notAfter); exp.Nanosecond() != 0 || exp.After(notAfter) || notAfter.Sub(exp) >= time.Second {
			t.Errorf("now %v, grant ends %v: expiry %v", now, notAfter, exp)
		}
	}
}
