package resource

import (
	"errors"
	"fmt"
	"net/http"
)

// The error codes of RFC 6750 §3.1.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// ErrUnavailable means the token could not be checked: its key is not
// cached and Sesame's key set could not be fetched. Require answers 503;
// the token may be good.
var ErrUnavailable = errors.New("resource: Sesame's keys could not be fetched")

// Error is a refusal, as RFC 6750 §3 has a resource server say it: Code
// is one of the Code constants, or empty for a request that carried no
// token at all (§3.1: then no error code is given); Status the HTTP status
// it is answered with. Err, when set, is the cause, for the API's logs:
// Description is what the client is told.
type Error struct {
	Code        string
	Description string
	// Scope is the scopes the route requires, space-separated.
	Scope  string
	Status int
	Err    error
}

// Error says the code and the description.
func (e *Error) Error() string {
	code := e.Code
	if code == "" {
		code = "no token"
	}
	if e.Err != nil {
		return fmt.Sprintf("resource: %s: %s: %v", code, e.Description, e.Err)
	}
	return fmt.Sprintf("resource: %s: %s", code, e.Description)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func invalidToken(description string, cause error) *Error {
	return &Error{Code: CodeInvalidToken, Description: description, Status: http.StatusUnauthorized, Err: cause}
}

func invalidRequest(description string) *Error {
	return &Error{Code: CodeInvalidRequest, Description: description, Status: http.StatusBadRequest}
}
