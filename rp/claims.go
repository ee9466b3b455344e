package rp

import (
	"encoding/json"
	"time"
)

// Claims are the claims of the ID token Sesame sent at sign-in (OpenID
// Connect Core §2, §5.1), already verified: issuer, audience, expiry and
// nonce were checked before they were kept. The profile claims are set
// only when the profile scope was granted, the email claims only with the
// email scope.
//
// Claims encode to JSON under their claim names (sub, sid, auth_time as a
// NumericDate...), so a SessionStore that keeps sessions as JSON keeps
// them in the form the ID token had.
type Claims struct {
	Issuer  string
	Subject string
	// SessionID is sid: Sesame's session with this app, named by
	// back-channel logout tokens.
	SessionID string
	// AuthTime is when the person last typed their password (auth_time):
	// one before the sign-in started means single sign-on.
	AuthTime time.Time
	// AMR and ACR say how the person authenticated (amr, acr).
	AMR []string
	ACR string

	Name              string
	PreferredUsername string
	Email             string
	EmailVerified     bool
	UpdatedAt         time.Time
}

// UserInfo is Sesame's userinfo answer (OpenID Connect Core §5.3.2): the
// profile and email claims granted, for the subject of the access token.
type UserInfo struct {
	Subject           string
	Name              string
	PreferredUsername string
	Email             string
	EmailVerified     bool
	UpdatedAt         time.Time
}

// claimsJSON is the wire form of Claims and UserInfo. Times are float64:
// a NumericDate may carry a fraction, and sessions stored by earlier
// versions of rp, whose claims were a map[string]any, hold them so.
type claimsJSON struct {
	Issuer            string   `json:"iss,omitempty"`
	Subject           string   `json:"sub,omitempty"`
	SessionID         string   `json:"sid,omitempty"`
	AuthTime          float64  `json:"auth_time,omitempty"`
	AMR               []string `json:"amr,omitempty"`
	ACR               string   `json:"acr,omitempty"`
	Name              string   `json:"name,omitempty"`
	PreferredUsername string   `json:"preferred_username,omitempty"`
	Email             string   `json:"email,omitempty"`
	EmailVerified     bool     `json:"email_verified,omitempty"`
	UpdatedAt         float64  `json:"updated_at,omitempty"`
}

// MarshalJSON encodes c under its claim names.
func (c Claims) MarshalJSON() ([]byte, error) {
	return json.Marshal(claimsJSON{Issuer: c.Issuer, Subject: c.Subject, SessionID: c.SessionID,
		AuthTime: numericDate(c.AuthTime), AMR: c.AMR, ACR: c.ACR, Name: c.Name,
		PreferredUsername: c.PreferredUsername, Email: c.Email, EmailVerified: c.EmailVerified,
		UpdatedAt: numericDate(c.UpdatedAt)})
}

// UnmarshalJSON decodes an ID token's claim set; claims it does not name
// are ignored.
func (c *Claims) UnmarshalJSON(b []byte) error {
	var w claimsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Claims{Issuer: w.Issuer, Subject: w.Subject, SessionID: w.SessionID, AuthTime: fromNumericDate(w.AuthTime),
		AMR: w.AMR, ACR: w.ACR, Name: w.Name, PreferredUsername: w.PreferredUsername, Email: w.Email,
		EmailVerified: w.EmailVerified, UpdatedAt: fromNumericDate(w.UpdatedAt)}
	return nil
}

// MarshalJSON encodes u under its claim names.
func (u UserInfo) MarshalJSON() ([]byte, error) {
	return json.Marshal(claimsJSON{Subject: u.Subject, Name: u.Name, PreferredUsername: u.PreferredUsername,
		Email: u.Email, EmailVerified: u.EmailVerified, UpdatedAt: numericDate(u.UpdatedAt)})
}

// UnmarshalJSON decodes a userinfo answer.
func (u *UserInfo) UnmarshalJSON(b []byte) error {
	var w claimsJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = UserInfo{Subject: w.Subject, Name: w.Name, PreferredUsername: w.PreferredUsername, Email: w.Email,
		EmailVerified: w.EmailVerified, UpdatedAt: fromNumericDate(w.UpdatedAt)}
	return nil
}

// clone copies c's slice, so a copy of a session shares nothing with it.
func (c Claims) clone() Claims {
	if c.AMR != nil {
		c.AMR = append([]string(nil), c.AMR...)
	}
	return c
}

func numericDate(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.Unix())
}

func fromNumericDate(f float64) time.Time {
	if f == 0 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}
