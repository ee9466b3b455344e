package sesametest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// headerTyp reads the typ of a compact JWS header without verifying it;
// the token was verified by go-oidc before.
func headerTyp(raw string) (string, error) {
	head, _, ok := strings.Cut(raw, ".")
	if !ok {
		return "", errors.New("not a JWS")
	}
	b, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return "", err
	}
	var h struct {
		Typ string `json:"typ"`
	}
	err = json.Unmarshal(b, &h)
	return h.Typ, err
}
