package sesametest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// header reads the typ and alg of a compact JWS header without verifying
// it; the token was verified by go-oidc before.
func header(raw string) (typ, alg string, err error) {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", "", errors.New("not a JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", "", err
	}
	var h struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
	}
	err = json.Unmarshal(b, &h)
	return h.Typ, h.Alg, err
}
