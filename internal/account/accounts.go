package account

import (
	"context"
	"errors"
	"fmt"
	"time"

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
	// Roles are the roles the account holds (R1): they permit the scopes
	// of API resources, and the built-in admin role opens the admin API
	// (C5). Nil leaves the roles the account holds as they are; an empty
	// list takes them all away. Package resource applies them
	// (resource.Registry.Seed), not Upsert.
	Roles []string `yaml:"roles"`
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
// later with `sesame users set-password` or the admin API stays. A lock is
// the file's only when it declares one (C4): on an existing account
// `disabled: true` disables it, and `disabled: false` (or none) leaves a
// lock an admin set; a new account is as the file says. The account is
// read and written in one transaction under its lock (UpdateTx), so a
// password reset running alongside, on this instance or another, is never
// written over with the old hash.
func (s *Service) Upsert(ctx context.Context, spec Spec) (store.Account, error) {
	a, err := s.upsert(ctx, spec)
	if errors.Is(err, store.ErrConflict) {
		// Another instance (or admin) created the username between our
		// read and our write: this time the read finds it, and we update.
		a, err = s.upsert(ctx, spec)
	}
	return a, err
}

// errVanished: the account upsert found before its transaction was gone
// inside it; the retry creates it, with its password hashed first.
var errVanished = fmt.Errorf("account vanished: %w", store.ErrConflict)

func (s *Service) upsert(ctx context.Context, spec Spec) (store.Account, error) {
	canonical, err := username.Canonical(spec.Username)
	if err != nil {
		return store.Account{}, err
	}
	// This read only decides whether a password must be hashed, which is
	// never done inside a write transaction; the record written is built
	// from the read inside it.
	var fresh *store.Account
	switch _, err := s.Store.AccountByUsername(ctx, canonical); {
	case errors.Is(err, store.ErrNotFound):
		a, err := s.newAccount(canonical, spec)
		if err != nil {
			return store.Account{}, err
		}
		fresh = &a
	case err != nil:
		return store.Account{}, fmt.Errorf("read account %q: %w", canonical, err)
	}
	var out store.Account
	err = s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		found, err := tx.AccountByUsername(ctx, canonical)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if fresh == nil {
				return errVanished
			}
			out = *fresh
			return tx.UpsertAccount(ctx, out)
		case err != nil:
			return fmt.Errorf("read account %q: %w", canonical, err)
		}
		_, out, err = UpdateTx(ctx, tx, found.ID, s.Now(), func(a *store.Account) {
			a.Email, a.EmailVerified, a.Name = spec.Email, spec.EmailVerified, spec.Name
			a.Disabled = a.Disabled || spec.Disabled // C4: the file locks, never unlocks
		})
		return err
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("store account %q: %w", canonical, err)
	}
	return out, nil
}

// Update changes the account with id by edit (the admin API): it is read,
// changed and written in one transaction under its lock (UpdateTx). It
// returns the account before and after the change; an unknown id is an
// error wrapping store.ErrNotFound.
func (s *Service) Update(ctx context.Context, id string, edit func(*store.Account)) (before, after store.Account, err error) {
	err = s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error {
		var err error
		before, after, err = UpdateTx(ctx, tx, id, s.Now(), edit)
		return err
	})
	if err != nil {
		return store.Account{}, store.Account{}, fmt.Errorf("update account %s: %w", id, err)
	}
	return before, after, nil
}

// UpdateTx is Update inside tx, at time at, for a caller that changes the
// account as part of a larger change (a password reset ends the sessions
// in the same transaction). It takes the account's lock before reading it,
// so of concurrent read-change-writes of one account (a reset, a start's
// Upsert on another instance) each sees the one before it: under
// PostgreSQL's READ COMMITTED a plain read would let the later writer put
// back what the earlier one replaced, an old password hash included.
func UpdateTx(ctx context.Context, tx store.Tx, id string, at time.Time, edit func(*store.Account)) (before, after store.Account, err error) {
	if err := tx.Lock(ctx, "account "+id); err != nil {
		return before, after, fmt.Errorf("lock account %s: %w", id, err)
	}
	if before, err = tx.Account(ctx, id); err != nil {
		return before, after, fmt.Errorf("read account %s: %w", id, err)
	}
	after = before
	edit(&after)
	after.ID, after.CreatedAt, after.UpdatedAt = before.ID, before.CreatedAt, at
	if err := tx.UpsertAccount(ctx, after); err != nil {
		return before, after, fmt.Errorf("store account %s: %w", id, err)
	}
	return before, after, nil
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
	err = s.Store.InTx(ctx, store.Durable, func(tx store.Tx) error { return tx.UpsertAccount(ctx, a) })
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

// HashPassword hashes a new password, before the transaction that stores
// it (a hash is never computed inside a write transaction). An empty
// password is refused. Like account creation it stays outside the
// password pool: it is an administrator's or the owner's act, not a guess.
func (s *Service) HashPassword(password string) (string, error) {
	if password == "" {
		return "", errors.New("the password is empty")
	}
	hash, err := s.Hasher.Hash(password)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return hash, nil
}
