package sql

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sesame-id/sesame/internal/store"
)

// sessionSelect reads sessions with their authorizations in one statement,
// so a session and its authorizations always come from one snapshot (two
// statements under READ COMMITTED could straddle a sign-out). A session
// without authorizations comes back as one row of NULL a.* columns.
const sessionSelect = `
	SELECT s.id, s.cookie_hash, s.account_id, s.auth_time, s.amr, s.acr, s.created_at, s.last_seen_at,
		s.expires_at, s.max_expires_at, s.user_agent, s.ip, s.legacy_cookie,
		a.client_id, a.sid, a.grant_id, a.created_at
	FROM sessions s LEFT JOIN authorizations a ON a.session_id = s.id`

const (
	qSession           = sessionSelect + ` WHERE s.id = $1`
	qSessionByCookie   = sessionSelect + ` WHERE s.cookie_hash = $1`
	qSessionsByAccount = sessionSelect + ` WHERE s.account_id = $1 ORDER BY s.created_at DESC, s.id DESC`
	qCreateSession     = `
		INSERT INTO sessions (id, cookie_hash, account_id, auth_time, amr, acr, created_at, last_seen_at,
			expires_at, max_expires_at, user_agent, ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT DO NOTHING`
	// As at creation, expires_at never passes max_expires_at.
	qTouchSession = `UPDATE sessions SET last_seen_at = $1,
		expires_at = CASE WHEN $2 < max_expires_at THEN $2 ELSE max_expires_at END WHERE id = $3`
	qDeleteSession = `DELETE FROM sessions WHERE id = $1`
	// The EXISTS makes a missing session zero rows (store.ErrNotFound)
	// instead of a foreign-key error, which would abort the transaction;
	// the foreign key still catches a session deleted meanwhile. INSERT
	// ... SELECT does not type its parameters from the columns, hence the
	// casts.
	qPutAuthorization = `
		INSERT INTO authorizations (session_id, client_id, sid, grant_id, created_at)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::timestamptz
		WHERE EXISTS (SELECT 1 FROM sessions WHERE id = $1)
		ON CONFLICT (session_id, client_id) DO UPDATE SET
			sid = excluded.sid, grant_id = excluded.grant_id, created_at = excluded.created_at`
	qDeleteAuthorization = `DELETE FROM authorizations WHERE session_id = $1 AND client_id = $2`
)

// querySessions runs one of the sessionSelect queries and folds the joined
// rows into sessions, their authorizations ordered by CreatedAt. The query
// must keep the rows of one session together.
func querySessions(ctx context.Context, q querier, query string, args ...any) ([]store.Session, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []store.Session
	for rows.Next() {
		var (
			s                    store.Session
			clientID, sid, grant *string
			authorizationCreated time.Time
		)
		err := rows.Scan(&s.ID, blobDest{&s.CookieHash}, &s.AccountID, timeDest{&s.AuthTime}, wordsDest{&s.AMR}, &s.ACR,
			timeDest{&s.CreatedAt}, timeDest{&s.LastSeenAt}, timeDest{&s.ExpiresAt}, timeDest{&s.MaxExpiresAt},
			&s.UserAgent, &s.IP, &s.LegacyCookie,
			&clientID, &sid, &grant, timeDest{&authorizationCreated})
		if err != nil {
			return nil, err
		}
		if n := len(list); n == 0 || list[n-1].ID != s.ID {
			list = append(list, s)
		}
		if clientID != nil {
			cur := &list[len(list)-1]
			cur.Authorizations = append(cur.Authorizations, store.Authorization{
				SessionID: cur.ID, ClientID: *clientID, SID: *sid, GrantID: *grant,
				CreatedAt: authorizationCreated,
			})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Sorted here rather than by the query, whose ORDER BY then stays the
	// sessions' own, which an index gives without a sort.
	for i := range list {
		slices.SortFunc(list[i].Authorizations, func(a, b store.Authorization) int {
			return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ClientID, b.ClientID))
		})
	}
	return list, nil
}

// oneSession is querySessions for a lookup by a unique key.
func oneSession(ctx context.Context, q querier, query string, arg any) (store.Session, error) {
	list, err := querySessions(ctx, q, query, arg)
	if err != nil {
		return store.Session{}, dbErr(err)
	}
	if len(list) == 0 {
		return store.Session{}, store.ErrNotFound
	}
	return list[0], nil
}

// Session reads one session with its Authorizations.
func (r reader) Session(ctx context.Context, id string) (store.Session, error) {
	s, err := oneSession(ctx, r.q, qSession, id)
	if err != nil {
		return store.Session{}, fmt.Errorf("read session %s: %w", id, err)
	}
	return s, nil
}

// SessionByCookie reads the session whose cookie value hashes to
// cookieHash, with its Authorizations. It is on every request that carries
// a cookie: one search of the cookie_hash index, one range of the
// authorizations' primary key.
func (r reader) SessionByCookie(ctx context.Context, cookieHash []byte) (store.Session, error) {
	s, err := oneSession(ctx, r.q, qSessionByCookie, cookieHash)
	if err != nil {
		return store.Session{}, fmt.Errorf("read session by cookie: %w", err)
	}
	return s, nil
}

// SessionsByAccount lists an account's sessions, newest first, each with
// its Authorizations.
func (r reader) SessionsByAccount(ctx context.Context, accountID string) ([]store.Session, error) {
	list, err := querySessions(ctx, r.q, qSessionsByAccount, accountID)
	if err != nil {
		return nil, fmt.Errorf("list sessions of account %s: %w", accountID, err)
	}
	return list, nil
}

// CreateSession inserts a session. Its Authorizations are ignored: add them
// with PutAuthorization. A taken id or cookie hash is store.ErrConflict.
func (t *tx) CreateSession(ctx context.Context, s store.Session) error {
	// expires_at never passes max_expires_at, so the sweeper finds every
	// dead session through the one expiry index.
	if !s.MaxExpiresAt.IsZero() && s.MaxExpiresAt.Before(s.ExpiresAt) {
		s.ExpiresAt = s.MaxExpiresAt
	}
	err := insertNew(ctx, t.q, qCreateSession,
		s.ID, blobArg(s.CookieHash), s.AccountID, timeArg(s.AuthTime), wordsArg(s.AMR), s.ACR,
		timeArg(s.CreatedAt), timeArg(s.LastSeenAt), timeArg(s.ExpiresAt), timeArg(s.MaxExpiresAt),
		s.UserAgent, s.IP)
	if err != nil {
		return fmt.Errorf("create session %s: %w", s.ID, err)
	}
	return nil
}

// TouchSession records use of a session: LastSeenAt and ExpiresAt.
func (t *tx) TouchSession(ctx context.Context, id string, lastSeen, expiresAt time.Time) error {
	err := execOne(ctx, t.q, qTouchSession, timeArg(lastSeen), timeArg(expiresAt), id)
	if err != nil {
		return fmt.Errorf("touch session %s: %w", id, err)
	}
	return nil
}

// DeleteSession removes the session; its authorizations go with it (ON
// DELETE CASCADE). Of concurrent deletes of one session the first takes
// the row lock and the others, once it commits, find nothing: only one
// reports true. A session already gone is not an error.
func (t *tx) DeleteSession(ctx context.Context, id string) (bool, error) {
	n, err := exec(ctx, t.q, qDeleteSession, id)
	if err != nil {
		return false, fmt.Errorf("delete session %s: %w", id, err)
	}
	return n > 0, nil
}

// PutAuthorization creates or replaces the session's authorization for
// a.ClientID. A missing session is store.ErrNotFound.
func (t *tx) PutAuthorization(ctx context.Context, a store.Authorization) error {
	err := execOne(ctx, t.q, qPutAuthorization,
		a.SessionID, a.ClientID, a.SID, a.GrantID, timeArg(a.CreatedAt))
	if err != nil {
		return fmt.Errorf("put authorization of %s in session %s: %w", a.ClientID, a.SessionID, err)
	}
	return nil
}

// DeleteAuthorization removes one client's authorization from a session;
// one already gone is not an error.
func (t *tx) DeleteAuthorization(ctx context.Context, sessionID, clientID string) error {
	_, err := exec(ctx, t.q, qDeleteAuthorization, sessionID, clientID)
	if err != nil {
		return fmt.Errorf("delete authorization of %s in session %s: %w", clientID, sessionID, err)
	}
	return nil
}
