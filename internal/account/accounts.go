package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/sesame-id/sesame/internal/account/username"
	"github.com/sesame-id/sesame/internal/store"
)

// Account management refusals.
var (
	// ErrInvalidUsername: RFC 8265 refuses the username (A1). The error
	// is a *username.Error, whose Reason is written for people.
	ErrInvalidUsername = username.ErrInvalid
	// ErrUsernameTaken: Create found the username, in its canonical
	// form, already taken. It wraps store.ErrConflict.
	ErrUsernameTaken = fmt.Errorf("username taken: %w", store.ErrConflict)
)

// CanonicalUsername is the one form usernames are compared and stored in
// (A1): RFC 8265's UsernameCaseMapped profile, so `Alice`, `alice` and
// `ａｌｉｃｅ` are one name. A name the profile refuses is an error
// wrapping ErrInvalidUsername.
func CanonicalUsername(name string) (string, error) { return username.Canonical(name) }

// Spec is a declarative account, as configuration gives it.
type Spec struct {
	Username      string `yaml:"username"`
	Password      string `yaml:"password"`
	Email         string `yaml:"email"`
	EmailVerified bool   `yaml:"email_verified"`
	Name          string `yaml:"name"`
	Disabled      bool   `yaml:"disabled"`
}

// ByUsername finds the account a person would mean by name, comparing
// canonical forms (A1). A name that cannot be a username finds nothing: an
// error wrapping store.ErrNotFound.
func (s *Service) ByUsername(ctx context.Context, name string) (store.Account, error) {
	canonical, err := username.Canonical(name)
	if err != nil {
		return store.Account{}, fmt.Errorf("%w: %w", store.ErrNotFound, err)
	}
	a, err := s.Store.AccountByUsername(ctx, canonical)
	if err != nil {
		return store.Account{}, fmt.Errorf("read account %q: %w", canonical, err)
	}
	return a, nil
}

// Upsert applies a declared account (the configuration's users, at every
// start): it creates the account named by spec.Username, or updates every
// field the spec declares but the password, keeping the id (A1). The
// password is set only when the account is created (A5, C4): one changed
// later with `sesame users set-password` or the admin API stays. Use
// SetPassword to change one.
func (s *Service) Upsert(ctx context.Context, spec Spec) (store.Account, error) {
	a, err := s.upsert(ctx, spec)
	if errors.Is(err, store.ErrConflict) {
		// Another instance (or admin) created the username between our
		// read and our write: this time the read finds it, and we update.
		a, err = s.upsert(ctx, spec)
	}
	return a, err
}

func (s *Service) upsert(ctx context.Context, spec Spec) (store.Account, error) {
	canonical, err := username.Canonical(spec.Username)
	if err != nil {
		return store.Account{}, err
	}
	a, err := s.Store.AccountByUsername(ctx, canonical)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if a, err = s.newAccount(canonical, spec); err != nil {
			return store.Account{}, err
		}
	case err != nil:
		return store.Account{}, fmt.Errorf("read account %q: %w", canonical, err)
	default:
		a.Email, a.EmailVerified, a.Name, a.Disabled = spec.Email, spec.EmailVerified, spec.Name, spec.Disabled
		a.UpdatedAt = s.Now()
	}
	if err := s.Store.InTx(ctx, func(tx store.Tx) error { return tx.UpsertAccount(ctx, a) }); err != nil {
		return store.Account{}, fmt.Errorf("store account %q: %w", canonical, err)
	}
	return a, nil
}

// Create makes a new account (the admin API, the CLI). A username already
// taken in its canonical form is ErrUsernameTaken, so `ALICE` cannot be
// made beside `alice`; one RFC 8265 refuses is an error wrapping
// ErrInvalidUsername.
func (s *Service) Create(ctx context.Context, spec Spec) (store.Account, error) {
	canonical, err := username.Canonical(spec.Username)
	if err != nil {
		return store.Account{}, err
	}
	if _, err := s.Store.AccountByUsername(ctx, canonical); err == nil {
		return store.Account{}, fmt.Errorf("create account %q: %w", canonical, ErrUsernameTaken)
	} else if !errors.Is(err, store.ErrNotFound) {
		return store.Account{}, fmt.Errorf("read account %q: %w", canonical, err)
	}
	a, err := s.newAccount(canonical, spec)
	if err != nil {
		return store.Account{}, err
	}
	err = s.Store.InTx(ctx, func(tx store.Tx) error { return tx.UpsertAccount(ctx, a) })
	if errors.Is(err, store.ErrConflict) {
		// Created by someone else between the read and the write.
		return store.Account{}, fmt.Errorf("create account %q: %w", canonical, ErrUsernameTaken)
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("store account %q: %w", canonical, err)
	}
	return a, nil
}

// newAccount is a new account of spec under its canonical username, with
// its password hashed (account creation stays outside the password pool:
// it is an administrator's act, not a guess).
func (s *Service) newAccount(canonical string, spec Spec) (store.Account, error) {
	now := s.Now()
	a := store.Account{ID: NewID(), Username: canonical, Email: spec.Email, EmailVerified: spec.EmailVerified,
		Name: spec.Name, Disabled: spec.Disabled, CreatedAt: now, UpdatedAt: now}
	if spec.Password != "" {
		var err error
		if a.PasswordHash, err = s.Hasher.Hash(spec.Password); err != nil {
			return store.Account{}, fmt.Errorf("hash password of %q: %w", canonical, err)
		}
	}
	return a, nil
}

// SetPassword changes the password of the account with id. Ending the
// account's other sessions is the caller's (A5: package signout).
func (s *Service) SetPassword(ctx context.Context, id, password string) (store.Account, error) {
	if password == "" {
		return store.Account{}, errors.New("set password: the password is empty")
	}
	hash, err := s.Hasher.Hash(password)
	if err != nil {
		return store.Account{}, fmt.Errorf("hash password of account %s: %w", id, err)
	}
	var a store.Account
	err = s.Store.InTx(ctx, func(tx store.Tx) error {
		var err error
		if a, err = tx.Account(ctx, id); err != nil {
			return err
		}
		a.PasswordHash, a.UpdatedAt = hash, s.Now()
		return tx.UpsertAccount(ctx, a)
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("set password of account %s: %w", id, err)
	}
	return a, nil
}
