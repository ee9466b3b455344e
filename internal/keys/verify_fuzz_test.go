package keys_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sesame-id/sesame/internal/keys"
	"github.com/sesame-id/sesame/internal/sesametest"
	"github.com/sesame-id/sesame/internal/store"
	"github.com/sesame-id/sesame/internal/store/sql/sqltest"
)

// FuzzVerify feeds arbitrary strings to Set.Verify, the check of every JWT
// Sesame reads back (id_token_hint at end-session): it must never panic,
// it accepts only what one of the set's keys signed, with the header and
// payload that key signed (spec D10; issue 11: no alg none, no HS256 keyed
// with a public key, no stripped or borrowed signature), and it accepts
// what the set signed.
//
// The set's ES256 key is made from a constant (storeFixedKey), so that the
// coordinator and the workers of go test -fuzz, each with its own set,
// share it: a token seeded in one verifies in the others, and the fuzzer
// mutates tokens whose signature checks. The RS256 key is new each time.
func FuzzVerify(f *testing.F) {
	st := sqltest.Open(f)
	sealer, err := keys.NewSealer([]byte("a secret of sixteen bytes or more"))
	if err != nil {
		f.Fatal(err)
	}
	storeFixedKey(f, st, sealer)
	set, err := keys.Ensure(f.Context(), keys.Config{Store: st, Sealer: sealer, Now: time.Now})
	if err != nil {
		f.Fatal(err)
	}

	// signed maps what each token the set signed says (its decoded header
	// and payload) to that payload: the only things Verify may accept.
	signed := map[string][]byte{}
	var valid []string
	sign := func(alg, typ string, claims any) string {
		tok, err := set.Sign(alg, typ, claims)
		if err != nil {
			f.Fatal(err)
		}
		payload, _ := claims.([]byte)
		if payload == nil {
			payload, _ = json.Marshal(claims)
		}
		signed[sesametest.JWSContent(tok)] = payload
		valid = append(valid, tok)
		return tok
	}
	claims := map[string]any{"iss": "https://sesame.example", "aud": "app-a", "sub": "alice", "sid": "s", "exp": 2000000000}
	es := sign(keys.ES256, "JWT", claims)
	rs := sign(keys.RS256, "JWT", claims)
	sign(keys.ES256, "logout+jwt", claims)
	sign(keys.RS256, "", []byte("not JSON at all"))

	var jwks jose.JSONWebKeySet
	if err := json.Unmarshal(set.JWKS(), &jwks); err != nil {
		f.Fatal(err)
	}
	esParts, rsParts := strings.Split(es, "."), strings.Split(rs, ".")
	var esKey jose.JSONWebKey
	for _, k := range jwks.Keys {
		if k.Algorithm == keys.ES256 {
			esKey = k
		}
	}

	seeds := append([]string(nil), valid...)
	// alg none, stripped and mismatched signatures.
	seeds = append(seeds,
		b64(`{"alg":"none","kid":"`+esKey.KeyID+`"}`)+"."+esParts[1]+".",
		b64(`{"alg":"none"}`)+"."+esParts[1]+".",
		esParts[0]+"."+esParts[1]+".",
		esParts[0]+"."+esParts[1],
		esParts[0]+"."+rsParts[1]+"."+esParts[2],
		rsParts[0]+"."+esParts[1]+"."+esParts[2],
		b64(`{"alg":"RS256","kid":"`+esKey.KeyID+`"}`)+"."+esParts[1]+"."+esParts[2],
		esParts[0]+"."+esParts[1]+"."+highS(f, esParts[2]),
		es+".",
		es+"\n",
		strings.Replace(es, ".", "=.", 1),
	)
	// HS256 keyed with the public key in each form an attacker could try.
	pubDER, err := x509.MarshalPKIXPublicKey(esKey.Key)
	if err != nil {
		f.Fatal(err)
	}
	esJWK, _ := esKey.MarshalJSON()
	for _, secret := range [][]byte{set.JWKS(), esJWK, pubDER, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})} {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret},
			(&jose.SignerOptions{}).WithHeader("kid", esKey.KeyID).WithType("JWT"))
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, compact(f, signer, []byte(`{"sub":"alice"}`)))
	}
	// Another key's signature under the set's kid, and a key embedded in
	// the header.
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	for _, opts := range []*jose.SignerOptions{
		(&jose.SignerOptions{}).WithHeader("kid", esKey.KeyID),
		(&jose.SignerOptions{EmbedJWK: true}).WithHeader("kid", esKey.KeyID),
		(&jose.SignerOptions{}).WithHeader("kid", esKey.KeyID).WithBase64(false).WithCritical("b64"),
	} {
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: other}, opts)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, compact(f, signer, []byte(`{"sub":"alice"}`)))
	}
	// The JSON serialization, and what is no JWS at all.
	if jws, err := jose.ParseSignedCompact(es, []jose.SignatureAlgorithm{jose.ES256}); err == nil {
		seeds = append(seeds, jws.FullSerialize())
	}
	seeds = append(seeds, "a.b.c.d.e", "..", ".", "", "eyJ9.e30.", strings.Repeat("A", 300))
	for _, seed := range seeds {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, tok string) {
		v, err := set.Verify(tok)
		if err != nil {
			if slices.Contains(valid, tok) {
				t.Fatalf("Verify refused a token the set signed: %v", err)
			}
			return
		}
		want, ok := signed[sesametest.JWSContent(tok)]
		if !ok {
			t.Fatalf("Verify accepted what the set did not sign: %q (alg %s, kid %s)", tok, v.Alg, v.KeyID)
		}
		if string(v.Payload) != string(want) || (v.Alg != keys.ES256 && v.Alg != keys.RS256) {
			t.Fatalf("Verify of %q gave payload %q alg %s", tok, v.Payload, v.Alg)
		}
	})
}

// storeFixedKey stores, before keys.Ensure adds the rest, an ES256 key
// made from a constant scalar, as keys.Set stores the keys it generates.
func storeFixedKey(f *testing.F, st store.Store, sealer *keys.Sealer) {
	d := sha256.Sum256([]byte("internal/keys FuzzVerify ES256 key"))
	priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		f.Fatal(err)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: keys.ES256, Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		f.Fatal(err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	pubJSON, err := pub.MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := sealer.Seal(der)
	if err != nil {
		f.Fatal(err)
	}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err = st.InTx(f.Context(), store.Durable, func(tx store.Tx) error {
		return tx.CreateSigningKey(f.Context(), store.SigningKey{ID: pub.KeyID, Alg: keys.ES256, PublicJWK: pubJSON,
			SealedPrivate: sealed, CreatedAt: at, NotBefore: at})
	})
	if err != nil {
		f.Fatal(err)
	}
}

// highS is an ES256 signature's other valid form, (r, n-s): the same
// header and payload under a different signature string.
func highS(f *testing.F, sig string) string {
	raw, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || len(raw) != 64 {
		f.Fatalf("ES256 signature %q", sig)
	}
	s := new(big.Int).SetBytes(raw[32:])
	s.Sub(elliptic.P256().Params().N, s)
	out := append([]byte(nil), raw[:32]...)
	out = append(out, s.FillBytes(make([]byte, 32))...)
	return base64.RawURLEncoding.EncodeToString(out)
}

func compact(f *testing.F, signer jose.Signer, payload []byte) string {
	jws, err := signer.Sign(payload)
	if err != nil {
		f.Fatal(err)
	}
	tok, err := jws.CompactSerialize()
	if err != nil {
		f.Fatal(err)
	}
	return tok
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
